#!/usr/bin/env bash
# The guards of compiled Vim-Ti (224 px, r=1; Dynamo only) checked in a loop, and single checks each made right after
# writing 1, 8 or 64 MB (this machine: 2 MB L2 per core, 32 MB L3), twice.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
{ date -u; git rev-parse HEAD; lscpu | grep -i "model name\|L2\|L3"; }
for round in 1 2; do
  echo "== round $round"
  timeout 900 python scripts/profile_guards.py --model vim_tiny_patch16_224 --r 1 --evict-mb 1 --evict-mb 8 \
    --evict-mb 64 2>&1 | grep -v "^W1"
done
date -u
