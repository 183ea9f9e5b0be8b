# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: run 185's
# timing lines again (its scripts/ab_scan_cfg.py had lost its timer function and stopped before timing)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
ab() {  # name, timeout, args...
  local name=$1 t=$2; shift 2
  timeout $t python3 scripts/ab_scan_cfg.py --rounds 5 --configs "set.scan_split=on;set.scan_split=off;" "$@" \
    > $OUT/$name.txt 2>&1
  echo "rc=$?" >> $OUT/$name.txt; grep -v -i warn $OUT/$name.txt
}
ab b128 70 --model vim_base_patch16_224 --r 0,11 --batch 128
ab s96 50 --model vim_small_patch16_224 --r 0 --batch 96
ab t256 50 --model vim_tiny_patch16_224 --r 0 --batch 256
ab vs32 60 --model videomamba_small_patch16_224 --r 0 --batch 32
