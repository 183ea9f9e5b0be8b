#!/usr/bin/env bash
# This project's 2-core CPU machine: registers and spills of the fused front (commit 8ef1390) and of variants with
# parts taken out, compiled for sm_90 by scripts/inspect_kernel.py (no GPU needed). Run from the repository root.
set -euo pipefail
tmp=$(mktemp -d); mkdir -p $tmp/fx; touch $tmp/fx/__init__.py
git show 8ef1390:src/rmeeto/ops/triton/front.py | sed 's/from \.common/from rmeeto.ops.triton.common/; s/from \.launch/from rmeeto.ops.triton.launch/' \
  > $tmp/fx/fused.py
python3 - "$tmp/fx" <<'PY'
import sys
d = sys.argv[1]
s = open(f"{d}/fused.py").read()
conv = "pre0, pre1 = biconv_pre(base, s_x_l, w_ptr, b_ptr, pos, valid, e, emask, L, E, K, BLOCK_R, BLOCK_E)"
variants = {
    "no_conv": s.replace(conv, "pre0 = tl.load(base + pos[:, None] * s_x_l, mask=valid[:, None] & emask[None, :], "
                               "other=0.0).to(tl.float32)\n        pre1 = pre0"),
    "no_xproj_dots": s.replace(
        "acc0 = _dot(u0, tl.trans(tl.load(wx, mask=wmask, other=0.0)), acc0, PRECISION)",
        "acc0 += tl.sum(u0.to(tl.float32), axis=1)[:, None] + tl.sum(tl.load(wx, mask=wmask, other=0.0)"
        ".to(tl.float32), axis=1)[None, :]").replace(
        "acc1 = _dot(u1, tl.trans(tl.load(wx + J * E, mask=wmask, other=0.0)), acc1, PRECISION)",
        "acc1 += tl.sum(u1.to(tl.float32), axis=1)[:, None]"),
    "u_read_back": s.replace("        wmask = jmask[:, None] & emask[None, :]",
                             "        tl.debug_barrier()\n        u0 = tl.load(u_ptr + rows_e, mask=m2, other=0.0)\n"
                             "        u1 = tl.load(u_ptr + ROWS * E + rows_e, mask=m2, other=0.0)\n"
                             "        wmask = jmask[:, None] & emask[None, :]"),
}
rb = variants["u_read_back"]
cut = rb.index("        tl.debug_barrier()")
variants["conv_only"] = rb[:cut] + "\n" + rb[rb.index("# Rows and channels per program"):]
for name, text in variants.items():
    assert text != s, name
    open(f"{d}/{name}.py", "w").write(text)
PY
common="K=4 BLOCK_J=64 STORE_XD=True PRECISION=tf32 s_x_e=1"
for v in fused no_conv no_xproj_dots u_read_back; do
  PYTHONPATH=src:$tmp python3 scripts/inspect_kernel.py fx.$v:_front_fwd_kernel --const $common BLOCK_R=16 BLOCK_E=32 \
    --fp32 w_ptr,b_ptr --warps 2 --stages 1 2>&1 | tail -1 | sed "s/^/$v: /"
done
PYTHONPATH=src:$tmp python3 scripts/inspect_kernel.py fx.conv_only:_front_fwd_kernel --const $common BLOCK_R=16 \
  BLOCK_E=128 --fp32 w_ptr,b_ptr --warps 4 --stages 1 2>&1 | tail -1 | sed "s/^/conv_only: /"
PYTHONPATH=src python3 scripts/inspect_kernel.py rmeeto.ops.triton.bimamba:_biconv_fwd_kernel --const K=4 BLOCK_L=16 \
  BLOCK_E=128 s_x_e=1 s_u_e=1 --fp32 w_ptr,b_ptr --warps 4 2>&1 | tail -1 | sed "s/^/standalone conv: /"
rm -rf $tmp
