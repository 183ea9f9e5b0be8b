#!/usr/bin/env bash
# run 139: the forward scan kernel with its A stride over the states left unspecialised, so that the
# selective_scan_fn contract hands it A as it keeps it (states contiguous) without a channels-contiguous copy. GPU tests
# of the Triton ops, the chunked scan and the models (official fixtures); the contract's forward now against the copy
# and the autograd Function, alternating (bench_vs_mamba_ssm.py --contract-ab); the model path against the kernel
# specialised as before (a re-jitted copy swapped in; scripts/ab_scan_cfg.py, CUDA graphs); the two builds' PTX.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache139 PYTHONPATH=$PWD/src:/tmp/abmod
scripts/record_env.sh > $OUT/run139_env.txt
mkdir -p /tmp/abmod && cat > /tmp/abmod/scan_specialised.py <<'PY'
"""The forward scan kernel compiled with every stride specialised (as before the change under test)."""
import triton
from rmeeto.ops.triton import scan
_scan_fwd_seq_kernel = triton.jit(scan._scan_fwd_seq_kernel.fn)
PY
timeout 400 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_triton_ops.py tests/test_scan_chunk.py \
  tests/test_gpu_model.py > $OUT/run139_tests.txt 2>&1
grep -E "FAILED|ERROR|passed|failed" $OUT/run139_tests.txt | tail -6
timeout 200 python3 scripts/bench_vs_mamba_ssm.py --contract-ab 3 2>&1 | grep -v -i warn > $OUT/run139_contract_ab.txt
cat $OUT/run139_contract_ab.txt
for m in "vim_small_patch16_224 0,11" "vim_tiny_patch16_224 0,5"; do set -- $m
  timeout 150 python3 scripts/ab_scan_cfg.py --model $1 --r $2 --rounds 5 \
    --configs ";swap.scan._scan_fwd_seq_kernel=scan_specialised" 2>&1 | grep -v -i warn; done > $OUT/run139_model_ab.txt
cat $OUT/run139_model_ab.txt
python3 scripts/diff_triton_variants.py _scan_fwd_seq_kernel --lines 60 > $OUT/run139_variants.txt 2>&1
head -c 3000 $OUT/run139_variants.txt
date -u >> $OUT/run139_env.txt
