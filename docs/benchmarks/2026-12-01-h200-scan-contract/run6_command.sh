#!/usr/bin/env bash
# run 6: host, wall, do_bench and device time of the contract at two video shapes (nothing else running); then
# mamba_ssm built, and the contract against it at 8x1152x1569 and 32x768x1569
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_vs_mamba_ssm.py; } > $OUT/env.txt 2>&1
timeout 60 python3 scripts/bench_vs_mamba_ssm.py --profile 8x1152x1569,16x768x3137 2>&1 | grep -v -i warn > $OUT/profile.txt
grep -E "forward|total|wall|host time|do_bench" $OUT/profile.txt
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) > $OUT/mamba_build.txt 2>&1
tail -2 $OUT/mamba_build.txt
timeout 60 python3 scripts/bench_vs_mamba_ssm.py --shapes 8x1152x1569,32x768x1569,8x1152x1569 --layout-cfgs 64/64/4 2>&1 | grep -v -i warn | tee $OUT/vs_mamba_ssm.txt
date -u >> $OUT/env.txt
