# one H100 (driver 580.159.04), 2026-12-06 06:20 UTC, the tree of commit 9994495 (merged frozen compiles refused again)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
timeout 120 python3 -m pytest -m gpu -v -p no:cacheprovider -rfE tests/test_gpu_compile.py -k frozen 2>&1 \
  | grep -E "PASS|FAIL|ERROR|passed|failed" | tail -10 | tee $OUT/frozen_tests_final.txt
