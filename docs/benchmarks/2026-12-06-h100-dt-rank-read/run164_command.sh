# one H100 or H200 (env.txt names it), 2026-12-06, commit 8ceb9a8: the GPU compile tests with the fp16
# tolerance of a captured merged forward; frozen compiles (module guards kept or skipped) against eager, interleaved
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 150 python3 -m pytest -q -m gpu -p no:logging tests/test_gpu_compile.py 2>&1 | tail -3 | tee $OUT/gpu_compile_tests.txt
timeout 250 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 11 \
  --variants default,frozen,frozen-lean --rounds 6 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tee $OUT/compare_s_r11.txt
timeout 180 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 0 \
  --variants frozen,frozen-lean --rounds 6 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tee $OUT/compare_s_r0.txt
