# one H100 or H200 (env.txt names it), 2026-12-06, src/ of 96137fd (that of f4ee43b but for bench.py): the GPU test
# files not run since the scan's dt_proj read was fixed (a85ac32): fused merge, chunked scan, graphed training,
# VideoMamba (whose Ti has the rank 12 that the fix concerns), launch
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 290 python3 -m pytest -q -m gpu -p no:logging tests/test_fused_merge.py 2>&1 | tail -4 \
  | tee $OUT/fused_merge_tests.txt
timeout 250 python3 -m pytest -q -m gpu -p no:logging tests/test_scan_chunk.py tests/test_gpu_train_graph.py \
  tests/test_gpu_videomamba.py tests/test_gpu_launch.py 2>&1 | tail -4 | tee $OUT/other_tests.txt
