#!/usr/bin/env bash
# run 105: the one-launch conv + projections at more block configurations, num_stages 1 and 2, and x_proj read from
# a transposed copy, against the conv kernel and two cuBLAS matmuls (run 104 found it 2.4-3.8x slower at num_stages 3).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run105_env.txt
timeout 400 python3 scripts/bench_conv_proj.py --shapes 128x384x197x12,128x768x197x24,128x1536x197x48,32x768x1569x24 \
  --cfgs 64/64/64/4/1,64/64/64/4/2,64/64/64/4/1/t,32/64/64/4/1,32/64/64/4/1/t,64/32/64/4/1,128/64/64/8/1,64/64/64/8/1,32/32/32/2/1,16/64/64/2/1,16/32/64/1/1,32/128/128/4/1/t \
  2>&1 | grep -v -i warn | tee $OUT/run105_kernel.txt
date -u >> $OUT/run105_env.txt
