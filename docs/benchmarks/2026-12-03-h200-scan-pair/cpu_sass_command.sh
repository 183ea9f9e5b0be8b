#!/usr/bin/env bash
# This project's 2-core CPU machine: the paired forward scan's two step loops compiled for sm_90 with Triton's bundled
# ptxas (scripts/inspect_scan_sass.py --kernel pair), at 64 channels without and with a 168-register cap and at 32
# channels, beside the one-direction scan without z and without a cap. Needs a commit from 8de98a8 to 8cf8a3a (later
# ones removed the paired kernel); cpu_sass.txt was made at 8cf8a3a. TRITON_PATH (optional) is put first on
# PYTHONPATH, to compile with another Triton than the installed one (the GPU machine's 3.6). From the repository root:
#   [TRITON_PATH=dir] bash docs/benchmarks/2026-12-03-h200-scan-pair/cpu_sass_command.sh
set -euo pipefail
pre=${TRITON_PATH:+$TRITON_PATH:}
echo "triton $(PYTHONPATH=$pre python3 -c 'import triton; print(triton.__version__)') | commit $(git rev-parse --short HEAD)"
for variant in "--kernel pair --maxnreg 0" "--kernel pair --maxnreg 168" "--kernel pair --block-e 32 --maxnreg 0" \
               "--kernel fwd --ndir 1 --maxnreg 0 --no-z"; do
  echo "== $variant"
  PYTHONPATH=${pre}src python3 scripts/inspect_scan_sass.py --opcodes $variant 2>&1 | tail -6
done
