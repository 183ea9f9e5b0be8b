#!/usr/bin/env bash
# run 137: the final form of the contract's forward (A copied to channels-contiguous again, no autograd Function where
# no gradient is wanted): the Triton ops' GPU tests, then one round of --contract-ab at two shapes (the script's
# variants as they are now: now / A as kept / Function).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache137 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run137_env.txt
timeout 280 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_triton_ops.py > $OUT/run137_tests_ops.txt 2>&1
echo "rc=$?" >> $OUT/run137_tests_ops.txt
timeout 90 python3 scripts/bench_vs_mamba_ssm.py --contract-ab 1 --shapes 128x768x197,8x1152x1569 2>&1 \
  | grep -v -i warn > $OUT/run137_contract_ab.txt
grep -E "FAILED|ERROR|passed|failed|rc=" $OUT/run137_tests_ops.txt | tail -6
cat $OUT/run137_contract_ab.txt
date -u >> $OUT/run137_env.txt
