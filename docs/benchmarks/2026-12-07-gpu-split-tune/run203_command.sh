# one H100 or H200 (env.txt names it), 2026-12-07, src/, tests/ and scripts/ of the commit that last changed this
# file: run 202 again after scan_split=tune's measurement became nine interleaved runs of each form and a 1 % margin
# (three runs and 3 % in run 202): the GPU tests of the measured captured scan form, then captured forwards (CUDA
# graphs, fp16) with the rule (auto), the measured form (tune), two streams (on) and one launch (off), interleaved in
# one process (scripts/ab_scan_cfg.py): Vim-B at batch 96, where the rule picked the slower form on one H200
# (2026-12-06) and on one H100 (run 202)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
bash scripts/record_env.sh > $OUT/env.txt; head -3 $OUT/env.txt
timeout 40 python3 -m pytest -q -m gpu -p no:logging -p no:cacheprovider tests/test_scan_chunk.py -k tuned \
  > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt; tail -3 $OUT/tests.txt
cfgs="set.scan_split=auto;set.scan_split=tune;set.scan_split=on;set.scan_split=off"
for spec in "vim_base_patch16_224 96 0,11"; do
  set -- $spec
  f=$OUT/ab_$(echo $1 | cut -d_ -f2)_b$2.txt
  timeout 80 python3 scripts/ab_scan_cfg.py --model $1 --batch $2 --r $3 --configs "$cfgs" --rounds 5 --iters 15 \
    > $f 2>&1; echo "rc=$?" >> $f
  grep -v -i "warn" $f | tail -12 | cut -c1-160
done
