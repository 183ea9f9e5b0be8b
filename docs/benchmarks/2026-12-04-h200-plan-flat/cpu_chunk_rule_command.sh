#!/usr/bin/env bash
# Which forward chunk lengths the rule's fix (08ae3fc) changed: chunk_len of the tree at b70b3ae against the current
# one, for VideoMamba-Ti/S/M (inner widths 384/768/1152, both directions, 64-channel programs), batches 8-64, the
# 8-frame merged lengths of r=88 and 16 frames (3137 tokens), with and without the two-stream split of a graph
# capture. CPU only; each tree is imported by its own Python process.
set -euo pipefail
PY=${PY:-python}
TMP=$(mktemp -d)
git archive b70b3ae src | tar -x -C "$TMP"
choices() {  # src folder -> one line per case: model batch tokens split chunk-length
  PYTHONPATH=$1 $PY -c '
from rmeeto.ops.triton.scan import chunk_len
for model, E in (("Ti", 384), ("S", 768), ("M", 1152)):
    for batch in (8, 16, 32, 64):
        for L in [1569 - 88 * k for k in range(12)] + [3137]:
            for split in (False, True):
                print(model, "batch", batch, "tokens", L, "split", split, chunk_len("fwd", L, batch, E, 2, 64, split=split))'
}
paste -d' ' <(choices "$TMP/src") <(choices src | awk '{print $NF}') \
  | awk '$(NF-1) != $NF {n++; print $1, $2, $3, $4, $5, $6, $7 ": " $(NF-1) " -> " $NF} END {print n + 0, "changed"}'
rm -rf "$TMP"
