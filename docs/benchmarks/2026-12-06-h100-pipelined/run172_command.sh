# one H100 or H200 (env.txt names it), 2026-12-06, src/ of 96137fd: the Triton kernels' GPU tests at this src/
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 250 python3 -m pytest -q -m gpu -p no:logging tests/test_triton_ops.py 2>&1 | tail -4 | tee $OUT/triton_ops_tests.txt
