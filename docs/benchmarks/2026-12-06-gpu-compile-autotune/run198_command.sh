# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: Vim-S r=11
# compiled for inference (frozen) with and without Inductor's matmul autotuning, against eager, all in one process in
# alternating rounds (scripts/compare_compile_options.py)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
bash scripts/record_env.sh > $OUT/env.txt; head -3 $OUT/env.txt
timeout 540 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 11 \
  --variants frozen,frozen-autotune --rounds 6 --iters 15 > $OUT/compare_s_r11.txt 2>&1
echo "rc=$?" >> $OUT/compare_s_r11.txt
grep -v -i "warn\|^W1\|^  File\|^Thread\|^$" $OUT/compare_s_r11.txt | tail -c 3000
