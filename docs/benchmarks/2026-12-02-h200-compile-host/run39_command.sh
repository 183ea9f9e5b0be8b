#!/usr/bin/env bash
# run 39: where the compiled forward's extra host time goes, Vim-S r=0: default torch.compile against the guard
# filter, Inductor's size asserts off, and Inductor's freezing, each in its own process; graphs compiled per model
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; nproc
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py src/rmeeto/ops/dispatch.py scripts/profile_compile.py; } \
  > $OUT/env.txt 2>&1
run() {  # name, then profile_compile.py's flags
  local name=$1; shift
  timeout 120 python3 scripts/profile_compile.py --model vim_small_patch16_224 --r 0 --top 6 "$@" 2>&1 \
    | grep -v Warn > $OUT/compile_$name.txt
  echo "== $name"; grep -E "^compiled|^host|^median|per forward" $OUT/compile_$name.txt
}
run s0_default
run s0_skip_guards --skip-module-guards
run s0_no_size_asserts --inductor size_asserts=False
run s0_freezing --inductor freezing=True
date -u >> $OUT/env.txt
