# one H100 or H200 (env.txt names it), 2026-12-06, commit 03bc050: compile_for_inference (module guards skipped)
# against eager, interleaved, Vim-S r=11, again (run 165's host was slow and noisy)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 140 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 11 \
  --variants frozen --rounds 8 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tee $OUT/compare_s_r11.txt
