#!/usr/bin/env bash
# This project's 2-core CPU machine: the forward scan kernel's step loop compiled for sm_90 (scripts/inspect_scan_sass.py
# with Triton's bundled ptxas) in the variants this record compares: one direction with and without z under the
# 120-register cap, without z and without a cap at 64 and 128 channels, and with the prefetch. TRITON_PATH (optional)
# is put first on PYTHONPATH, to compile with another Triton than the installed one. Run from the repository root:
#   [TRITON_PATH=dir] bash docs/benchmarks/2026-12-03-h200-scan-prefetch/cpu_sass_command.sh
# The last variant (--pf) needs a commit from dc44c79 to 44ae655 (cpu_sass.txt was made at 95cde97); later commits
# removed the prefetch.
set -euo pipefail
pre=${TRITON_PATH:+$TRITON_PATH:}
echo "triton $(PYTHONPATH=$pre python3 -c 'import triton; print(triton.__version__)') | commit $(git rev-parse --short HEAD)"
for variant in "--maxnreg 120" "--maxnreg 120 --no-z" "--maxnreg 0 --no-z" "--block-e 128 --maxnreg 0 --no-z" \
               "--block-e 128 --maxnreg 0" "--maxnreg 120 --pf 8"; do
  echo "== fwd --ndir 1 --warps 1 $variant"
  PYTHONPATH=${pre}src python3 scripts/inspect_scan_sass.py --kernel fwd --ndir 1 --warps 1 --opcodes --loads $variant 2>&1 | tail -4
done
