#!/usr/bin/env bash
# The host time of a graphed replay's restack check (rmeeto.ops.triton.stack_cache.refresh_for_replay, no weight
# changed) beside the other per-block host parts, on this project's 2-core CPU; Vim-S r=11 and Vim-Ti r=5.
set -euo pipefail
export PYTHONPATH=$PWD/src
for args in "vim_small_patch16_224 11" "vim_tiny_patch16_224 5"; do
  set -- $args
  python scripts/bench_host_parts.py --model $1 --r $2 --number 500
done
