#!/usr/bin/env bash
# On this project's 2-core CPU machine (Triton's bundled ptxas, no GPU): registers and spills of the forward scan
# compiled for sm_90 (scripts/scan_registers.py), for the kept kernel (the working tree) and for the three placements
# of the dt_proj product timed in run 143 (the kernel of 1ea34a7, DT_AHEAD 0, 1, 2). Output: cpu_registers.txt
set -euo pipefail
PY=${PY:-python}
OLD=$(mktemp -d)
git worktree add -f "$OLD/tree" 1ea34a7 -q
echo "== working tree"
PYTHONPATH=src $PY scripts/scan_registers.py --rank 0,16,32 2>&1 | grep -v -i warn
for a in 0 1 2; do
  echo "== 1ea34a7, DT_AHEAD=$a"
  PYTHONPATH="$OLD/tree/src" $PY scripts/scan_registers.py --rank 16 --const DT_AHEAD=$a 2>&1 | grep -v -i warn
done
git worktree remove --force "$OLD/tree"
