# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: the shapes
# the captured-scan rule has not been timed at, and dt_proj in the scan (off by default since 93044f4) on this GPU.
# CUDA-graph replays interleaved in rounds (scripts/ab_scan_cfg.py): two streams, one launch, one launch with
# dt_proj in the scan (fwd.DT_FOLD_MAX_R=16); then eager rmeeto bench, Vim-Ti r=0,5, one process a line, the
# default and the fold alternating twice
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
ab() {  # name, timeout, configs, args...
  local name=$1 t=$2 c=$3; shift 3
  timeout $t python3 scripts/ab_scan_cfg.py --rounds 5 --configs "$c" "$@" > $OUT/$name.txt 2>&1
  echo "rc=$?" >> $OUT/$name.txt; grep -v -i warn $OUT/$name.txt
}
F="set.scan_split=on;set.scan_split=off;set.scan_split=off fwd.DT_FOLD_MAX_R=16"
ab t128 70 "$F" --model vim_tiny_patch16_224 --r 0,5 --batch 128
ab t256 70 "$F" --model vim_tiny_patch16_224 --r 0 --batch 256
ab s128 70 "$F" --model vim_small_patch16_224 --r 0,11 --batch 128
ab b64 60 "set.scan_split=on;set.scan_split=off" --model vim_base_patch16_224 --r 0 --batch 64
ab b96 60 "set.scan_split=on;set.scan_split=off" --model vim_base_patch16_224 --r 0 --batch 96
for p in 1 2; do for c in "" "fwd.DT_FOLD_MAX_R=16"; do
  timeout 50 python3 scripts/with_scan_cfg.py $c -- bench --model vim_tiny_patch16_224 --r 0,5 --rounds 5 \
    2>&1 | grep "auto  " | sed "s/^/[process $p $c] /" | tee -a $OUT/t128_bench.txt
done; done
