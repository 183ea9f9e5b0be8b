#!/usr/bin/env bash
# run 119: run 118 ruled out the ptxas (eager's build as fast with torch's ptxas 13.0 as with Triton's 12.8; Inductor's
# 13-15 % slower with either). The scan's variants again (unmerged Vim-Ti, default environment), compared by their
# TTGIR layouts and module attributes, PTX ISA and target, and a TTGIR diff without locations.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache119 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR /tmp/torchinductor_$(whoami)
scripts/record_env.sh > $OUT/run119_env.txt
timeout 150 python3 scripts/probe_traced_scan.py --model vim_tiny_patch16_224 --r 0 > $OUT/run119_probe.txt 2>&1
echo "rc=$?" >> $OUT/run119_probe.txt
grep -A3 "median ms\|device us per core" $OUT/run119_probe.txt | grep -v warn | cut -c1-150
timeout 60 python3 scripts/diff_triton_variants.py _scan_fwd_seq_kernel --lines 120 > $OUT/run119_diff.txt 2>&1
grep -v "^[-+@]" $OUT/run119_diff.txt | cut -c1-300 | head -80
date -u >> $OUT/run119_env.txt
