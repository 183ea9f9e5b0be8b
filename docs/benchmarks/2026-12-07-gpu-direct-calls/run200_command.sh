# one H100 or H200 (env.txt names it), 2026-12-07, src/, tests/ and scripts/ of the commit that adds this file:
# the compile GPU tests (direct calls of the frozen graph among them), then Vim-S r=11 and r=0 compiled for inference
# with direct calls (frozen, the default now) and without (frozen-via-dynamo), against eager, all in one process per
# model in alternating rounds (scripts/compare_compile_options.py)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
bash scripts/record_env.sh > $OUT/env.txt; head -3 $OUT/env.txt
timeout 200 python3 -m pytest -q -m gpu -p no:logging -p no:cacheprovider tests/test_gpu_compile.py \
  > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt; tail -3 $OUT/tests.txt
for r in 11 0; do
  timeout 200 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r $r \
    --variants frozen-via-dynamo,frozen --rounds 6 --iters 15 > $OUT/compare_s_r$r.txt 2>&1
  echo "rc=$?" >> $OUT/compare_s_r$r.txt
  grep -v -i "warn\|^W1\|^  File\|^Thread\|^$" $OUT/compare_s_r$r.txt | tail -c 1800
done
