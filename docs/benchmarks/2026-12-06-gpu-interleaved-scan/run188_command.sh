# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: eager Vim-Ti
# (one launch, r=0 and r=5) with dt_proj in the scan (the default) and without it (DT_FOLD_MAX_R=8): pipelined
# (ab_scan_cfg --eager), then rmeeto bench's synchronised timing (--rounds 5) in one process per setting
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 80 python3 scripts/ab_scan_cfg.py --rounds 5 --model vim_tiny_patch16_224 --r 0,5 --batch 128 --eager \
  --configs ";fwd.DT_FOLD_MAX_R=8" > $OUT/t128_eager.txt 2>&1
echo "rc=$?" >> $OUT/t128_eager.txt; grep -v -i warn $OUT/t128_eager.txt
for c in "" "fwd.DT_FOLD_MAX_R=8"; do
  timeout 60 python3 scripts/with_scan_cfg.py $c -- bench --model vim_tiny_patch16_224 --r 0,5 --rounds 5 \
    2>&1 | grep -v -i "warn" | sed "s/^/[$c] /" | tee -a $OUT/t128_bench.txt
done
