#!/usr/bin/env bash
# Dynamo's guards in a compiled call's host time, on this project's 2-core CPU machine (torch path, Vim-Ti at 32 px,
# r=1): default guards and module guards skipped, each in its own process, twice in turn.
set -u
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
for round in 1 2; do
  for guards in default skip; do
    echo "== round $round, --guards $guards"
    timeout 900 python scripts/profile_compiled_call.py --model vim_tiny_patch16_224 --r 1 --guards $guards 2>&1 \
      | grep -v "^W1"
  done
done
