# one H100 or H200 (env.txt names it), 2026-12-06, src/ of a95e32f: every speed target of the parallel-scan work in
# one process (scripts/bench_targets.py, its table as of a95e32f), then eager Vim-Ti r=0 / r=5 in a further process
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 400 python3 scripts/bench_targets.py --json $OUT/targets.json > $OUT/targets.txt 2>&1
echo "rc=$?" >> $OUT/targets.txt
grep -v -i "warn" $OUT/targets.txt | tail -c 4000
timeout 55 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --iters 100 --rounds 10 2>&1 \
  | grep -v -i "warn\|host-bound:" | tee $OUT/ti_eager_synced_3.txt
