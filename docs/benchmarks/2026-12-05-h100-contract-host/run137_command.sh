#!/usr/bin/env bash
# run 137: the final form of the contract's forward (A copied to channels-contiguous again, no autograd Function where
# no gradient is wanted): the contract's GPU tests (each checks the no-gradient forward's bits against the Function's).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache137 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run137_env.txt
timeout 200 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_triton_ops.py -k selective_scan \
  > $OUT/run137_tests_contract.txt 2>&1
echo "rc=$?" >> $OUT/run137_tests_contract.txt
grep -E "FAILED|ERROR|passed|failed|rc=" $OUT/run137_tests_contract.txt | tail -6
date -u >> $OUT/run137_env.txt
