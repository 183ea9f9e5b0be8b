#!/usr/bin/env bash
# On this project's 2-core CPU machine: host time, launches stubbed, of the selective_scan_fn contract's forward
# (scripts/profile_contract_host.py --launch-path) at 7d29b27 (before: A copied channels-contiguous for the forward
# kernel) and at the working tree (after: A passed as kept), alternately, three times. Output: cpu_host.txt
set -euo pipefail
PY=${PY:-python}
OLD=$(mktemp -d)
git worktree add -f "$OLD/tree" 7d29b27 -q
for i in 1 2 3; do
  for side in before after; do
    dir=$PWD; [ $side = before ] && dir="$OLD/tree"
    echo "== $side #$i"
    (cd "$dir" && PYTHONPATH=src $PY scripts/profile_contract_host.py --launch-path 2>&1 | grep -v -i warn | head -1)
  done
done
git worktree remove --force "$OLD/tree"
