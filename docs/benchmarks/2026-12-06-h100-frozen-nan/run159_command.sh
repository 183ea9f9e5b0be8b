# one H100 (driver 580.159.04), 2026-12-06 06:30 UTC, commit abdae09: eager Vim-Ti r=0 and 5,
# three processes one after the other
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
for i in 1 2 3; do timeout 50 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --warmup 10 \
  --iters 60 --rounds 3 2>&1 | grep -E "^auto|im/s|speed" | head -6 | sed "s/^/[process $i] /" | tee -a $OUT/ti_eager.txt; done
