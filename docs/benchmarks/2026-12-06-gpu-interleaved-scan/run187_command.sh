# one H100 or H200 (env.txt names it), 2026-12-06, src/ and scripts/ of the commit that adds this file: why one launch
# loses on captured Vim-Ti (0.63x at batch 256, run 186) but wins on Vim-S: the one launch with dt_proj in the scan
# (Vim-Ti's rank 12 is within DT_FOLD_MAX_R) and without it (DT_FOLD_MAX_R=8)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 80 python3 scripts/ab_scan_cfg.py --rounds 5 --model vim_tiny_patch16_224 --r 0 --batch 128 \
  --configs "set.scan_split=on;set.scan_split=off;set.scan_split=off fwd.DT_FOLD_MAX_R=8" > $OUT/t128.txt 2>&1
echo "rc=$?" >> $OUT/t128.txt; grep -v -i warn $OUT/t128.txt
