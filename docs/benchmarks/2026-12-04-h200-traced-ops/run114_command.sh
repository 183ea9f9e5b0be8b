#!/usr/bin/env bash
# run 114: why the forward scan runs 12 % slower when Inductor launches it (run 113): eager and compiled forwards of
# Vim-Ti r=5 (scripts/inspect_inductor_kernels.py, fresh Triton cache), then the metadata, PTX vector loads and TTIR
# of the scan's variants side by side (scripts/diff_triton_variants.py).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache114 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR
scripts/record_env.sh > $OUT/run114_env.txt
timeout 150 python3 scripts/inspect_inductor_kernels.py --model vim_tiny_patch16_224 --r 5 --width 6000 \
  --kernels _scan_fwd_seq_kernel 2>&1 | grep -v "^W1\|^  warn" > $OUT/run114_inspect.txt
tail -3 $OUT/run114_inspect.txt | cut -c1-300
timeout 60 python3 scripts/diff_triton_variants.py _scan_fwd_seq_kernel --lines 200 > $OUT/run114_diff.txt 2>&1
head -c 9000 $OUT/run114_diff.txt
date -u >> $OUT/run114_env.txt
