#!/usr/bin/env bash
# On this project's 2-core CPU machine: scripts/profile_contract_host.py --launch-path with the no-op launcher of
# d0c7ea7 (which kept every launch's arguments) and with the one of 32ddeff (one mark per launch), alternately, on the
# tree of 32ddeff. Output: cpu_contract_host.txt
set -euo pipefail
PY=${PY:-python}
OLD=$(mktemp -d)
git show d0c7ea7:scripts/bench_host_parts.py > "$OLD/bench_host_parts.py"
cp scripts/profile_contract_host.py "$OLD/"
for i in 1 2; do
  echo "kept arguments (d0c7ea7's no_op_launcher):"
  PYTHONPATH=src $PY "$OLD/profile_contract_host.py" --launch-path | head -2
  echo "one mark per launch (now):"
  PYTHONPATH=src $PY scripts/profile_contract_host.py --launch-path | head -2
done
