#!/usr/bin/env bash
# run 137: the selective_scan_fn contract's final form (no autograd Function without gradients, A copied channels
# contiguous) through its GPU tests; a merge block's host-side parts with CUDA tensors (scripts/bench_host_parts.py
# --device cuda); the contract's forms in alternating rounds; eager Vim-Ti r=0 / r=5 under cProfile and interleaved.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache137 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run137_env.txt
timeout 300 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_triton_ops.py > $OUT/run137_tests_ops.txt 2>&1
grep -E "FAILED|ERROR|passed|failed" $OUT/run137_tests_ops.txt | tail -6
for i in 1 2; do timeout 120 python3 scripts/bench_host_parts.py --device cuda --batch 128 --number 500 2>&1 \
  | grep -v -i warn; done > $OUT/run137_host_parts.txt
timeout 150 python3 scripts/bench_vs_mamba_ssm.py --contract-ab 2 --shapes 128x768x197,8x1152x1569 2>&1 \
  | grep -v -i warn > $OUT/run137_contract_ab.txt
for r in 0 5; do timeout 90 python3 scripts/profile_host.py --model vim_tiny_patch16_224 --r $r --batch 128 --iters 10 \
  --python 45 2>&1 | grep -v -i "warn(" | sed "s/^/[ti r=$r] /"; done > $OUT/run137_profile_host.txt
timeout 90 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --rounds 10 2>&1 \
  | grep -v -i "warn\|^W1" > $OUT/run137_eager_ti.txt
cat $OUT/run137_host_parts.txt $OUT/run137_contract_ab.txt; grep -E "^auto|rc=" $OUT/run137_eager_ti.txt
grep -E "enqueue" $OUT/run137_profile_host.txt
date -u >> $OUT/run137_env.txt
