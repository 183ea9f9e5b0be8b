# one H100 (driver 580.159.04), 2026-12-06 05:59 UTC, commit 2c6ea23 (merged frozen compiles allowed, GPU test at r=0 and 5)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 90 python3 -m pytest -m gpu -v -p no:cacheprovider -rfE tests/test_gpu_compile.py -k frozen > $OUT/frozen_tests.txt 2>&1
for r in 0 11; do timeout 220 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r $r \
  --variants default,frozen --rounds 6 --iters 15 2>&1 | grep --line-buffered -v -i "warn\|^W1" | tee $OUT/compare_s_r$r.txt; done
