#!/usr/bin/env bash
# Host time of a block's add + RMSNorm and of a merge block's one-launch step, launches stubbed, and ATen calls per
# eager Vim-Ti forward, on this project's 2-core CPU machine: the tree before (c58cdf4, in a worktree at $BEFORE) and
# after (this tree), the same script (this tree's) against each tree's src, in alternating passes.
set -u
BEFORE=${BEFORE:?worktree of c58cdf4}
export PYTHONUNBUFFERED=1 RMEETO_SCAN_CHUNK=0
{ date -u; python -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])"; git rev-parse HEAD; }
for pass in 1 2 3; do
  for tree in "$BEFORE" "$PWD"; do
    echo "== pass $pass, src of $(git -C "$tree" rev-parse --short HEAD)"
    PYTHONPATH=$tree/src python scripts/bench_host_parts.py --number 2000 | grep -E "^vim|add \+ RMSNorm|one-launch|interpreting|resolve_backend"
  done
done
for tree in "$BEFORE" "$PWD"; do
  echo "== ATen calls, src of $(git -C "$tree" rev-parse --short HEAD)"
  TRITON_INTERPRET=1 PYTHONPATH=$tree/src python scripts/bench_host_parts.py --count-ops --batch 2
done
date -u
