#!/usr/bin/env bash
# run 68: where a merged eager forward's extra host time goes. Pure host time behind a GPU sleep, Vim-B r=0/11 and
# Vim-Ti r=0/5: with Python's garbage collector on and off, then under cProfile (own and cumulative time per function)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; nproc
  python3 -c "import torch,triton,sys;print('torch',torch.__version__,'triton',triton.__version__,'python',sys.version.split()[0])"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/patch.py src/rmeeto/models/*.py scripts/host_enqueue.py; } \
  > $OUT/run68_env.txt 2>&1
for mr in vim_base_patch16_224:0,11 vim_tiny_patch16_224:0,5; do
  for opt in "" --no-gc "" --no-gc; do
    timeout 90 python3 scripts/host_enqueue.py --model ${mr%:*} --r ${mr#*:} --rounds 20 $opt 2>&1 | grep -v -i warn \
      | tee -a $OUT/run68_host.txt
  done
  timeout 120 python3 scripts/host_enqueue.py --model ${mr%:*} --r ${mr#*:} --rounds 10 --python 30 2>&1 \
    | grep -v -i warn > $OUT/run68_cprofile_${mr%:*}.txt
  head -4 $OUT/run68_cprofile_${mr%:*}.txt
done
date -u >> $OUT/run68_env.txt
