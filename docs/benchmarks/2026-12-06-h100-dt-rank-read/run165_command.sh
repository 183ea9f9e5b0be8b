# one H100 or H200 (env.txt names it), 2026-12-06, commit 6e19600: compile_for_inference with Dynamo's module
# guards skipped (its default now) against eager and default torch.compile, interleaved; the GPU compile tests
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 150 python3 -m pytest -q -m gpu -p no:logging tests/test_gpu_compile.py 2>&1 | tail -3 | tee $OUT/gpu_compile_tests.txt
for r in 11 0; do timeout 200 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r $r \
  --variants default,frozen --rounds 8 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tee $OUT/compare_s_r$r.txt; done
