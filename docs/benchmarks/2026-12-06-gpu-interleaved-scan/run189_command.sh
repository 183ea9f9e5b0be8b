# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: run 188's
# rmeeto bench lines again, processes alternating twice (dt_proj in the scan, the default; then DT_FOLD_MAX_R=8)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
for p in 1 2; do for c in "" "fwd.DT_FOLD_MAX_R=8"; do
  timeout 50 python3 scripts/with_scan_cfg.py $c -- bench --model vim_tiny_patch16_224 --r 0,5 --rounds 5 \
    2>&1 | grep "auto  " | sed "s/^/[process $p $c] /" | tee -a $OUT/t128_bench.txt
done; done
