#!/usr/bin/env bash
# Static sm_90 counts of the merge plan's kernels, compiled on this project's CPU machine with Triton 3.6.0 (the GPU
# machine's version: `pip install --target $T36 --no-deps triton==3.6.0`), with and without the integer
# specialisation that a launch gives (the strides and the width divisible by 16: `inspect_kernel.py --divisible`).
# The variants of runs 72, 73 and 77 are compiled from the trees of their commits. Static counts say nothing about time.
set -euo pipefail
T36=${T36:-/tmp/tw/t36}
PY=${PY:-python}
ROOT=$PWD
inspect() {  # tree, kernel, flags...
  local tree=$1; shift
  (cd "$tree" && PYTHONPATH=$T36:src $PY "$ROOT/scripts/inspect_kernel.py" "$@" 2>&1 | tail -1)
}
BEST="--fp32 best_ptr --int32 dst_ptr --warps 4"
PLAN="--fp32 size_ptr,score_ptr,w_ptr,nsize_ptr --int32 slot_ptr,owner_ptr,src_ptr,first_ptr,nsrc_ptr --warps 8"
TMP=$(mktemp -d)
for c in 9c84efa 4c8927c 9d79c67; do mkdir -p "$TMP/$c" && git archive $c src | tar -x -C "$TMP/$c"; done
for div in "" "--divisible sxb,sxt,C"; do
  echo "== ${div:-no integer specialisation}"
  inspect . rmeeto.ops.triton.merge_tiled:_best_kernel --const NORM_ONLY=False IEEE=False BS=64 BK=32 BD=64 $BEST $div
  inspect "$TMP/9c84efa" rmeeto.ops.triton.merge_tiled:_best_kernel \
    --const NORM_ONLY=False IEEE=False BS=64 BK=256 ONE_K=True $BEST $div
  inspect "$TMP/4c8927c" rmeeto.ops.triton.merge_tiled:_best_normed_kernel --const IEEE=False BS=64 BK=256 ONE_K=True \
    --fp32 best_ptr,norm_ptr --int32 dst_ptr --warps 4 --stages 3 $div
  inspect "$TMP/9d79c67" rmeeto.ops.triton.merge_tiled:_best_flat_kernel \
    --const NORM_ONLY=False IEEE=False BS=64 BK=32 BD=64 $BEST $div
  for few in False True; do
    inspect . rmeeto.ops.triton.merge:_plan_kernel --const HAS_SIZE=True MERGE=True IEEE=False SCORE=0 BS=128 BK=64 \
      FEW=$few $PLAN $div
  done
done
rm -rf "$TMP"
