#!/usr/bin/env bash
# run 17: default-mode torch.compile against eager with the inference op's flat signature (Vim-Ti r=0, Vim-S r=11);
# then the contract's host and device time at 8x1152x1569, this tree against 91b99ff, alternating four times each
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py scripts/profile_compile.py scripts/bench_vs_mamba_ssm.py; } > $OUT/env.txt 2>&1
PYTHONPATH=$PWD/src timeout 150 python3 scripts/profile_compile.py --model vim_tiny_patch16_224 --r 0 2>&1 | grep -v -i warn | tee $OUT/compile_profile.txt
PYTHONPATH=$PWD/src timeout 150 python3 scripts/profile_compile.py --model vim_small_patch16_224 --r 11 2>&1 | grep -v -i warn | tee -a $OUT/compile_profile.txt
for v in new old new old new old new old; do
  if [ $v = old ]; then d=.device_data/wt_91b; else d=.; fi
  (cd $d && PYTHONPATH=$PWD/src timeout 40 python3 scripts/bench_vs_mamba_ssm.py --profile 8x1152x1569 2>&1) | grep -v -i warn \
    | sed "s/^/[$v] /" >> $OUT/profile_ab.txt
done
grep -E "forward|host time|wall|do_bench" $OUT/profile_ab.txt
date -u >> $OUT/env.txt
