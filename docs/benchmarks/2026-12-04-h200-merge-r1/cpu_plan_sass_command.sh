#!/usr/bin/env bash
# The single-program merge plan compiled for sm_90 on this project's CPU machine with Triton 3.6.0 (the GPU machine's
# version, installed with `pip install --target $T36 --no-deps triton==3.6.0`): the bookkeeping's two sorts (FEW=False)
# against the r reductions (FEW=True), at Vim's 197 tokens, 8 warps. Static counts: they say nothing about time.
set -euo pipefail
T36=${T36:-/tmp/tw/t36}
for few in False True; do
  PYTHONPATH=$T36:src python scripts/inspect_kernel.py rmeeto.ops.triton.merge:_plan_kernel \
    --const HAS_SIZE=True MERGE=True IEEE=False SCORE=0 BS=128 BK=64 FEW=$few \
    --fp32 size_ptr,score_ptr,w_ptr,nsize_ptr --int32 slot_ptr,owner_ptr,src_ptr,first_ptr,nsrc_ptr --warps 8 \
    2>&1 | tail -1
done
