# one H100 or H200 (env.txt names it), 2026-12-06, src/ of the commit that adds this file: Vim-S r=0 / r=11 as CUDA
# graph replays with the default scan (two streams inside a capture) and with RMEETO_SCAN_SPLIT=0 (one launch),
# processes alternating; run 179 had the one launch ahead by 5.8 % in one process
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
for p in 1 2; do for s in auto 0; do
  RMEETO_SCAN_SPLIT=$s timeout 45 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --cuda-graph \
    --iters 30 2>&1 | grep -v -i "warn\|host-bound:" | sed "s/^/[split=$s process $p] /" | tee -a $OUT/split.txt
done; done
