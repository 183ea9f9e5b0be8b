# one H100 or H200 (env.txt names it), 2026-12-06, src/ of 96137fd: the compile and model GPU tests at this src/
# (last run in full at 62c7c48 and 8ceb9a8, before the usable-backends cache and module-guard changes)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 300 python3 -m pytest -q -m gpu -p no:logging tests/test_gpu_compile.py tests/test_gpu_model.py 2>&1 \
  | tail -4 | tee $OUT/compile_model_tests.txt
