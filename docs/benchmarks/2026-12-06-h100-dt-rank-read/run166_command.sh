# one H100 (the machine of run 165, still held), 2026-12-06, commit 03bc050: the frozen GPU tests alone (run 165's
# test step stopped at its 150 s limit on a slow host after 30 of 33)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1; nvidia-smi --query-gpu=name --format=csv,noheader
timeout 200 python3 -m pytest -q -m gpu -p no:logging tests/test_gpu_compile.py -k "frozen or forwards_read" -rA 2>&1 \
  | grep -E "PASSED|FAILED|passed|failed|^E " | head -20 | tee $OUT/frozen_tests.txt
