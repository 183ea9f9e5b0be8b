#!/usr/bin/env bash
# run 136: the selective_scan_fn contract's forward without the autograd Function where no gradient is wanted, and
# with A passed in the layout it is kept in (states contiguous) instead of a copy (channels contiguous). GPU tests of
# the Triton ops (the contract's new no-gradient check among them), the one-launch merge step (whose no_grad guard
# went) and the official-fixture parity; then the contract's forward now against both earlier forms, in alternating
# rounds, at the five shapes (scripts/bench_vs_mamba_ssm.py --contract-ab); the contract's host time on this
# machine's CPU (launches stubbed); eager Vim-Ti r=0 / r=5, the settings interleaved (rmeeto bench --rounds 10).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache136 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run136_env.txt
timeout 300 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_triton_ops.py tests/test_gpu_model.py \
  > $OUT/run136_tests_ops.txt 2>&1 &
timeout 300 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_fused_merge.py -k "once or eager" \
  > $OUT/run136_tests_merge.txt 2>&1 &
wait
timeout 200 python3 scripts/bench_vs_mamba_ssm.py --contract-ab 3 2>&1 | grep -v -i warn > $OUT/run136_contract_ab.txt
for i in 1 2; do timeout 60 python3 scripts/profile_contract_host.py --launch-path 2>&1 | grep -v -i warn | head -2; done \
  > $OUT/run136_contract_host.txt
timeout 90 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --rounds 10 2>&1 \
  | grep -v -i "warn\|^W1" > $OUT/run136_eager_ti.txt
for f in $OUT/run136_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed" $f | tail -6; done
cat $OUT/run136_contract_ab.txt $OUT/run136_contract_host.txt; grep -E "^auto|rc=" $OUT/run136_eager_ti.txt
date -u >> $OUT/run136_env.txt
