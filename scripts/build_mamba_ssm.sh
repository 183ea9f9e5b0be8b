#!/usr/bin/env bash
# Build mamba_ssm from its sdist for sm_90 only (H100/H200) and install it, to compare against or to use as the
# optional backend. Usage: scripts/build_mamba_ssm.sh path/to/mamba_ssm-2.3.1.tar.gz [wheel dir]
# About 3 minutes with 16 cores. Needs nvcc, ninja and a CUDA build of torch.
set -euo pipefail
sdist=$1; whl=${2:-/tmp/mamba_whl}
work=$(mktemp -d); tar xzf "$sdist" -C "$work"; src=$(echo "$work"/mamba_ssm-*)
# keep only the sm_90 target: each other "-gencode" / "arch=..." pair becomes a no-op
python3 - "$src/setup.py" <<'PY'
import re, sys
p = sys.argv[1]
lines = open(p).read().split("\n")
for i, line in enumerate(lines):
    m = re.search(r'cc_flag\.append\("arch=compute_(\d+),code=sm_\d+"\)', line)
    if m and m.group(1) != "90":
        indent = line[:len(line) - len(line.lstrip())]
        lines[i] = indent + "pass"
        if '"-gencode"' in lines[i - 1]:
            lines[i - 1] = lines[i - 1][:len(lines[i - 1]) - len(lines[i - 1].lstrip())] + "pass"
open(p, "w").write("\n".join(lines))
PY
(cd "$src" && MAMBA_FORCE_BUILD=TRUE MAX_JOBS=${MAX_JOBS:-16} TORCH_CUDA_ARCH_LIST=9.0 \
  python3 -m pip wheel -q --no-build-isolation --no-deps -w "$whl" .)
python3 -m pip install -q --no-deps "$whl"/mamba_ssm-*.whl
