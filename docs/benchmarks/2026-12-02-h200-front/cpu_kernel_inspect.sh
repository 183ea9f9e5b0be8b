#!/usr/bin/env bash
# Registers, shared memory and instruction counts of the two rejected kernels, compiled for sm_90 on this project's
# 2-core CPU machine (no GPU): the fused front at 45df031 and the window conv forward at 9ed1b7f, each from a git
# worktree, with the tiled conv forward of this tree for comparison. Run from the repository root.
set -u
git worktree add -f /tmp/wt_front 45df031 >/dev/null 2>&1
git worktree add -f /tmp/wt_window 9ed1b7f >/dev/null 2>&1
PY=${PY:-python3}
I=scripts/inspect_kernel.py
FRONT="STORE_XDBL=True IEEE=False UPCAST=False K=4 s_x_e=1 BLOCK_P=64"
for cfg in 64/64/4/3 64/64/4/1 64/32/4/2 64/32/8/2 64/16/4/2 128/32/8/2 32/32/4/2; do
  IFS=/ read -r bm be nw ns <<< "$cfg"
  PYTHONPATH=/tmp/wt_front/src $PY $I rmeeto.ops.triton.conv_proj:_conv_proj_kernel --fp32 w_ptr,b_ptr \
    --const $FRONT BLOCK_M=$bm BLOCK_E=$be --warps $nw --stages $ns
done
PYTHONPATH=src $PY $I rmeeto.ops.triton.bimamba:_biconv_fwd_kernel --fp32 w_ptr,b_ptr \
  --const K=4 BLOCK_L=16 BLOCK_E=128 s_x_e=1 s_u_e=1 --warps 4
for cfg in 16/128/1 16/256/1 16/256/2 32/256/1; do
  IFS=/ read -r bl be nw <<< "$cfg"
  PYTHONPATH=/tmp/wt_window/src $PY $I rmeeto.ops.triton.bimamba:_biconv4_fwd_kernel --fp32 w_ptr,b_ptr \
    --const BLOCK_L=$bl BLOCK_E=$be s_x_e=1 s_u_e=1 --warps $nw
done
git worktree remove --force /tmp/wt_front
git worktree remove --force /tmp/wt_window
