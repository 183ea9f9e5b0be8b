#!/usr/bin/env bash
# The environment of a benchmark run, for its record: GPU and driver, date, versions, and md5 sums that tie the run to
# its source tree. A copied checkout may carry a stale .git, so the sums, not `git log`, name the code: compare
# the "src tree" line with `scripts/record_env.sh --tree` at a commit.
#   scripts/record_env.sh > "$OUT/runN_env.txt"
set -u
tree_sum() { find src -name '*.py' | LC_ALL=C sort | xargs md5sum | md5sum | cut -d' ' -f1; }
if [ "${1:-}" = --tree ]; then tree_sum; exit 0; fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1
date -u
python3 -c "import sys, torch, triton; print('python', sys.version.split()[0], 'torch', torch.__version__, 'triton', triton.__version__)" 2>&1
md5sum src/rmeeto/ops/triton/*.py
echo "src tree $(tree_sum)"
