#!/usr/bin/env bash
# run 140: the forward scan kernel's load of A declares the channels contiguous (alignment still hidden), so that the
# tile keeps its layout when the selective_scan_fn contract hands A states-contiguous, without a copy. GPU tests of
# the Triton ops; the contract's forward now against the copy and the autograd Function, alternating; the models in a
# CUDA graph (scripts/ab_scan_cfg.py, one configuration) beside run 139's figures.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache140 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run140_env.txt
timeout 300 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_triton_ops.py > $OUT/run140_tests.txt 2>&1
grep -E "FAILED|ERROR|passed|failed" $OUT/run140_tests.txt | tail -6
timeout 150 python3 scripts/bench_vs_mamba_ssm.py --contract-ab 2 2>&1 | grep -v -i warn > $OUT/run140_contract_ab.txt
cat $OUT/run140_contract_ab.txt
for m in "vim_small_patch16_224 0,11" "vim_tiny_patch16_224 0,5"; do set -- $m
  timeout 100 python3 scripts/ab_scan_cfg.py --model $1 --r $2 --rounds 3 --configs "" 2>&1 | grep -v -i warn
done > $OUT/run140_models.txt
cat $OUT/run140_models.txt
date -u >> $OUT/run140_env.txt
