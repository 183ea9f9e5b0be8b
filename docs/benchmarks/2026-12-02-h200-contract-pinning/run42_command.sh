#!/usr/bin/env bash
# run 42: does pinning the process to one core (run 41: the contract's host time stopped moving) also change the eager
# models and default torch.compile against eager? rmeeto bench eager, Vim-Ti r=0/5 and Vim-S r=0, as scheduled and
# pinned (taskset -c 5), alternating; then profile_compile.py pinned at Vim-S r=0 and Vim-Ti r=5
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; nproc
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/bench.py scripts/profile_compile.py; } > $OUT/env.txt 2>&1
for round in 1 2; do
  for pin in none 5; do
    pre=""; [ "$pin" != none ] && pre="taskset -c $pin"
    for spec in "vim_tiny_patch16_224 0,5" "vim_small_patch16_224 0"; do
      set -- $spec
      $pre timeout 60 python3 -m rmeeto.cli bench --model $1 --r $2 --batch-size 128 --dtype fp16 --warmup 10 \
        --iters 30 2>&1 | grep "r=" | sed "s/^/[round $round, pinned $pin] /" | tee -a $OUT/eager.txt
    done
  done
done
for spec in "vim_small_patch16_224 0" "vim_tiny_patch16_224 5"; do
  set -- $spec
  taskset -c 5 timeout 110 python3 scripts/profile_compile.py --model $1 --r $2 --top 6 2>&1 | grep -v Warn \
    > $OUT/compile_pinned_$1_r$2.txt
  echo "== pinned $1 r=$2"; grep -E "^compiled|^host|^median|per forward" $OUT/compile_pinned_$1_r$2.txt
done
date -u >> $OUT/env.txt
