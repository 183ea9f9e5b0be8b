#!/usr/bin/env bash
# Dynamo's guards in place, on this project's 2-core CPU machine (torch path, Vim-Ti at 32 px, r=1, batch 1): the same
# compiled code called with its guards evaluated and not, in alternating rounds, at widths 192 and 16, two processes
# each; then the guards of the 224 px model checked in a loop (Dynamo only).
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
{ date -u; python -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])"; git rev-parse HEAD; }
for round in 1 2; do
  for width in 192 16; do
    echo "== round $round, width $width"
    timeout 900 python scripts/profile_compiled_call.py --model vim_tiny_patch16_224 --r 1 --embed-dim $width \
      --guard-rounds 15 2>&1 | grep -v "^W1"
  done
done
echo "== the 224 px model's guards, checked in a loop"
timeout 900 python scripts/profile_guards.py --model vim_tiny_patch16_224 --r 1 2>&1 | grep -v "^W1"
date -u
