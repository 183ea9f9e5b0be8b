#!/usr/bin/env bash
# run 118: run 117 found the Inductor-built scan's PTX at ISA 9.0 against eager's 8.7, and different in its loads:
# Inductor points Triton at torch's own ptxas (TRITON_PTXAS_PATH, unless set) while eager launches use Triton's.
# The probe (unmerged Vim-Ti, the core alone) with TRITON_PTXAS_PATH set to Triton's ptxas and then to torch's, so
# that eager and Inductor build with the same one; then default torch.compile against eager with the traced ops and
# Triton's ptxas for both (Vim-Ti r=5, Vim-S r=11).
set -uo pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run118_env.txt
TRITON_PTXAS=$(python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends', 'nvidia', 'bin', 'ptxas'))")
TORCH_PTXAS=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'bin', 'ptxas'))")
for p in $TRITON_PTXAS $TORCH_PTXAS; do echo "$p: $($p --version | tail -2 | tr '\n' ' ')" >> $OUT/run118_env.txt; done
tail -2 $OUT/run118_env.txt
for which in triton torch; do
  [ $which = triton ] && P=$TRITON_PTXAS || P=$TORCH_PTXAS
  rm -rf /tmp/tcache118; rm -rf /tmp/torchinductor_$(whoami)
  TRITON_CACHE_DIR=/tmp/tcache118 TRITON_PTXAS_PATH=$P timeout 150 python3 scripts/probe_traced_scan.py \
    --model vim_tiny_patch16_224 --r 0 > $OUT/run118_probe_$which.txt 2>&1
  echo "rc=$?" >> $OUT/run118_probe_$which.txt
  echo "== ptxas of $which"; grep -A3 "median ms\|device us per core" $OUT/run118_probe_$which.txt | grep -v warn | cut -c1-150
  grep -A8 "variants of" $OUT/run118_probe_$which.txt | cut -c1-150
done
rm -rf /tmp/tcache118b /tmp/torchinductor_$(whoami)
for args in "vim_tiny_patch16_224 5" "vim_small_patch16_224 11"; do
  set -- $args
  TRITON_CACHE_DIR=/tmp/tcache118b TRITON_PTXAS_PATH=$TRITON_PTXAS timeout 140 python3 scripts/profile_compile.py \
    --model $1 --r $2 --traced-ops --rounds 5 --prof-iters 3 --top 8 > $OUT/run118_raw.txt 2>&1
  echo "rc=$? $args" >> $OUT/run118_compile.txt
  grep -v -i "warn\|^W1\|^  " $OUT/run118_raw.txt | sed "s/^/[$1 r=$2] /" >> $OUT/run118_compile.txt
done
grep "median\|host us\|per forward\|_scan_fwd\|_stack\|_biconv\|rc=" $OUT/run118_compile.txt | cut -c1-160
date -u >> $OUT/run118_env.txt
