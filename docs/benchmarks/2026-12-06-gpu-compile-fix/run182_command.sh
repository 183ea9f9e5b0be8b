# one H100 or H200 (env.txt names it), 2026-12-06, src/ of the commit that adds this file: VideoMamba-S (8 frames,
# batch 32) unmerged and r=88 as CUDA graph replays, default scan against RMEETO_SCAN_SPLIT=0, one process each
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
for s in auto 0; do
  RMEETO_SCAN_SPLIT=$s timeout 50 python3 -m rmeeto.cli bench --model videomamba_small_patch16_224 --r 0,88 \
    --batch-size 32 --cuda-graph --iters 20 2>&1 | grep -v -i "warn\|host-bound:" | sed "s/^/[split=$s] /" \
    | tee -a $OUT/split_video.txt
done
