# one H100 or H200 (env.txt names it), 2026-12-06, src/ of a95e32f: eager Vim-Ti r=0 / r=5 in three processes
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
for p in 1 2 3; do
  timeout 55 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --iters 100 --rounds 10 2>&1 \
    | grep -v -i "warn\|host-bound:" | tee $OUT/ti_eager_synced_$p.txt
done
