#!/usr/bin/env bash
# run 116: why the forward scan is 12-14 % slower when Inductor launches it (runs 110, 113): the scan alone with
# eager's and Inductor's build options, the core alone eager against the traced op compiled with Inductor's default
# and with assert_indirect_indexing off, the variants in Triton's cache; then the GPU tests of tests/test_fused_merge.py
# (not re-run since its kernel casts eps to fp32).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache116 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR
scripts/record_env.sh > $OUT/run116_env.txt
timeout 240 python3 scripts/probe_traced_scan.py --model vim_tiny_patch16_224 --r 5 --inductor "" \
  --inductor "assert_indirect_indexing=False" > $OUT/run116_probe_full.txt 2>&1
echo "rc=$?" >> $OUT/run116_probe_full.txt
grep -v "^W1\|^  warn\|UserWarning" $OUT/run116_probe_full.txt | cut -c1-600 > $OUT/run116_probe.txt
cat $OUT/run116_probe.txt | tail -60
timeout 280 python3 -m pytest -v -rA -m gpu tests/test_fused_merge.py -p no:cacheprovider \
  > $OUT/run116_gpu_tests_full.txt 2>&1
echo "rc=$?" >> $OUT/run116_gpu_tests_full.txt
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=" $OUT/run116_gpu_tests_full.txt | cut -c1-300 > $OUT/run116_gpu_tests.txt
grep -c PASSED $OUT/run116_gpu_tests.txt; grep -E "FAILED|ERROR|passed|failed|rc=" $OUT/run116_gpu_tests.txt | tail -15
date -u >> $OUT/run116_env.txt
