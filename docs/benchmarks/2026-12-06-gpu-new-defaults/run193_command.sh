# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: (1) the
# captured scan's default (auto) against two streams where the rule now picks one launch (Vim-Ti, batch 256) and two
# streams (Vim-Ti, batch 128), CUDA-graph replays interleaved in rounds; (2) the Vim-S r=11 speed-up as rmeeto bench
# measures it with --rounds (r=0 and r=11 interleaved), CUDA graph, three processes; (3) eager Vim-Ti r=5 against
# r=0, rmeeto bench --rounds 5, the default against the merge in two launches (once.max_tokens=0), alternating
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
for b in 256 128; do
  timeout 60 python3 scripts/ab_scan_cfg.py --rounds 5 --configs "set.scan_split=auto;set.scan_split=on" \
    --model vim_tiny_patch16_224 --r 0 --batch $b > $OUT/t$b.txt 2>&1; echo "rc=$?" >> $OUT/t$b.txt
  grep -v -i warn $OUT/t$b.txt
done
for p in 1 2 3; do
  timeout 60 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --cuda-graph --rounds 5 2>&1 \
    | grep "auto  " | sed "s/^/[process $p] /" | tee -a $OUT/s_graph.txt
done
for p in 1 2; do for c in "" "once.max_tokens=0"; do
  timeout 50 python3 scripts/with_scan_cfg.py $c -- bench --model vim_tiny_patch16_224 --r 0,5 --rounds 5 \
    2>&1 | grep "auto  " | sed "s/^/[process $p $c] /" | tee -a $OUT/t128_eager.txt
done; done
