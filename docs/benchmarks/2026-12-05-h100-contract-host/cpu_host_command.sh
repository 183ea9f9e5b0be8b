#!/usr/bin/env bash
# On this project's 2-core CPU machine: host time, launches stubbed, of the contract's forward
# (scripts/profile_contract_host.py --launch-path) and of the one-launch merge step (scripts/bench_host_parts.py,
# the "one-launch" line) at 48a6b7c (before) and at the working tree (after), alternately, three times.
# Output: cpu_host.txt
set -euo pipefail
PY=${PY:-python}
OLD=$(mktemp -d)
git worktree add -f "$OLD/tree" 48a6b7c -q
for i in 1 2 3; do
  for side in before after; do
    dir=$PWD; [ $side = before ] && dir="$OLD/tree"
    echo "== $side #$i"
    (cd "$dir" && PYTHONPATH=src $PY scripts/profile_contract_host.py --launch-path 2>&1 | grep -v -i warn | head -1)
    (cd "$dir" && PYTHONPATH=src $PY scripts/bench_host_parts.py --number 500 2>&1 | grep "one-launch")
  done
done
git worktree remove --force "$OLD/tree"
