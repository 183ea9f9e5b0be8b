#!/usr/bin/env bash
# Which forward chunk lengths the rule's fix (08ae3fc) changed: chunk_len as at b70b3ae against the current one, for
# VideoMamba-Ti/S/M (inner widths 384/768/1152, both directions, 64-channel programs), batches 8-64, the 8-frame merged
# lengths of r=88 and 16 frames (3137 tokens), with and without the two-stream split of a graph capture. CPU only.
set -euo pipefail
PYTHONPATH=src ${PY:-python} - <<'PY'
import subprocess
from rmeeto.ops.triton import scan

old_src = subprocess.run(["git", "show", "b70b3ae:src/rmeeto/ops/triton/scan.py"], capture_output=True, text=True,
                         check=True).stdout
body = old_src[old_src.index("def chunk_len("):old_src.index("\ndef scan_fwd(")]
ns = {"settings": scan.settings, "cdiv": scan.cdiv, "CHUNK_CFG": scan.CHUNK_CFG}
exec(compile(body, "chunk_len@b70b3ae", "exec"), ns)
changed = 0
for model, E in (("Ti", 384), ("S", 768), ("M", 1152)):
    for batch in (8, 16, 32, 64):
        for L in [1569 - 88 * k for k in range(12)] + [3137]:
            for split in (False, True):
                old = ns["chunk_len"]("fwd", L, batch, E, 2, 64, split=split)
                new = scan.chunk_len("fwd", L, batch, E, 2, 64, split=split)
                if old != new:
                    changed += 1
                    print(f"{model} batch {batch} tokens {L} split {split}: {old} -> {new}")
print(f"{changed} changed")
PY
