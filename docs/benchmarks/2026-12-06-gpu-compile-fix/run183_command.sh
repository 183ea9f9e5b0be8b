# one H100 or H200 (env.txt names it), 2026-12-06, src/ of the commit that adds this file: Vim-Ti r=0 / r=5 as CUDA
# graph replays, default scan against RMEETO_SCAN_SPLIT=0, one process each
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
for s in auto 0; do
  RMEETO_SCAN_SPLIT=$s timeout 30 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --cuda-graph \
    --iters 30 2>&1 | grep -v -i "warn\|host-bound:" | sed "s/^/[split=$s] /" | tee -a $OUT/split_ti.txt
done
