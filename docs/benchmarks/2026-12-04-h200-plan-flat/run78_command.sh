#!/usr/bin/env bash
# run 78: the chunked forward scan at VideoMamba-Ti's and -S's merged lengths (r=88: 1569 down to 601 tokens), both
# directions in one launch, batch 32, fp16, at forced chunk lengths: does the chunk length that chunk_len() picks
# (64 at every one of these lengths) suit every length?
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run78_env.txt
LENS="1569 1481 1393 1305 1217 1129 1041 953 865 777 689 601"
for E in 384 768; do
  SH=$(for L in $LENS; do printf "32x${E}x${L},"; done)
  timeout 280 python3 scripts/bench_scan.py --shapes "${SH%,}" --dirs 2 --tc auto,48,64,80,96,112,128,160 --fwd-only \
    --rep 30 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run78_scan.txt
done
date -u >> $OUT/run78_env.txt
