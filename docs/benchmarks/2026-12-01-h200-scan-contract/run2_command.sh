#!/usr/bin/env bash
# run 2: where the contract's time goes at the video shapes; the chunk length / block sweep at 8x1152x1569;
# the register-cap A/B with the defaults twice (placement control)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/*.py; } > $OUT/env_run2.txt 2>&1
timeout 100 python3 scripts/bench_vs_mamba_ssm.py --profile 8x1152x1569,16x768x3137,128x768x197 2>&1 | grep -v -i warn | tee $OUT/profile.txt
timeout 150 python3 scripts/bench_scan.py --shapes 8x1152x1569,16x768x3137 --dirs 1 --tc auto,32,48,64,96,128,192 \
  --be default,32,32/2,128/2 --rep 40 2>&1 | grep -v -i warn | tee $OUT/sweep.txt
AB_CONFIGS=";;fwd.maxnreg=0" AB_MODELS="vim_small_patch16_224:0,11:128 videomamba_small:0,88:32" TRAIN=0 \
  bash scripts/gpu_suite.sh regab > /dev/null 2>&1; cp $OUT/ab.txt $OUT/regab.txt 2>/dev/null; rm -f $OUT/ab.txt
cat $OUT/regab.txt
date -u >> $OUT/env_run2.txt
