#!/usr/bin/env bash
# Static sm_90 counts behind this record, compiled on this project's CPU machine with Triton 3.6.0 (the GPU machine's
# version: `pip install --target $T36 --no-deps triton==3.6.0`), with the launch's integer specialisation: the tiled
# plan's score kernel and bookkeeping as they were at ecd43f7 and as they are (the tree this runs in), the carry pass at
# K=8 and K=4, and the chunked forward's step loop (phase 3). Static counts say nothing about time.
set -euo pipefail
T36=${T36:-/tmp/tw/t36}
PY=${PY:-python}
ROOT=$PWD
inspect() {  # tree, kernel, flags...
  local tree=$1; shift
  (cd "$tree" && PYTHONPATH=$T36:src $PY "$ROOT/scripts/inspect_kernel.py" "$@" 2>&1 \
    | grep -E "^_|^  loop")
}
TMP=$(mktemp -d)
mkdir -p "$TMP/ecd43f7" && git archive ecd43f7 src | tar -x -C "$TMP/ecd43f7"
BEST="--const NORM_ONLY=False IEEE=False BS=64 BK=32 BD=64 --fp32 best_ptr --int32 dst_ptr --warps 4 --divisible sxb,sxt,C"
BOOK="HAS_SIZE=True MERGE=True BS=1024 FEW=False"
BOOKP="--fp32 best_ptr,size_ptr,w_ptr,nsize_ptr --int32 dst_ptr,slot_ptr,owner_ptr,src_ptr,first_ptr,nsrc_ptr --warps 8"
echo "== score kernel, ecd43f7"; inspect "$TMP/ecd43f7" rmeeto.ops.triton.merge_tiled:_best_kernel $BEST --loops
echo "== score kernel, now"; inspect . rmeeto.ops.triton.merge_tiled:_best_kernel $BEST --loops
echo "== bookkeeping at 1024 padded sources, ecd43f7"
inspect "$TMP/ecd43f7" rmeeto.ops.triton.merge_book:_book_kernel --const $BOOK $BOOKP
echo "== bookkeeping at 1024 padded sources, now: sorts / search + compacted / sort + compacted"
inspect . rmeeto.ops.triton.merge_book:_book_kernel --const $BOOK SEARCH=False RP=1 $BOOKP --int64 scratch_ptr
inspect . rmeeto.ops.triton.merge_book:_book_kernel --const $BOOK SEARCH=True RP=128 $BOOKP --int64 scratch_ptr
inspect . rmeeto.ops.triton.merge_book:_book_kernel --const $BOOK SEARCH=False RP=128 $BOOKP --int64 scratch_ptr
echo "== carry pass (forward), K=8 / K=4"
for k in 8 4; do
  inspect . rmeeto.ops.triton.scan_chunk:_chunk_carry_kernel --const ADJ=False BLOCK_E=16 BLOCK_N=16 K=$k \
    --fp32 hs_ptr,gs_ptr,S_ptr,A_ptr --warps 4
done
echo "== chunked forward, phase 3 (two directions a program, 64 channels, one warp)"
PYTHONPATH=$T36:src $PY scripts/inspect_scan_sass.py --kernel fwd --h0 --ndir 2 --opcodes 2>&1 | grep -v "^\s*$"
rm -rf "$TMP"
