#!/usr/bin/env bash
# run 1: the channels-last copy alone; GPU tests (kernels) while mamba_ssm builds; then the scan against mamba_ssm
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_vs_mamba_ssm.py; } > $OUT/env.txt 2>&1
timeout 90 python3 scripts/bench_vs_mamba_ssm.py --copies-only 2>&1 | grep -v -i warn | tee $OUT/copies.txt
( date -u; time bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) > $OUT/mamba_build.txt 2>&1 &
BPID=$!
timeout 270 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_scan_chunk.py -p no:cacheprovider 2>&1 | tail -25 > $OUT/gpu_tests1.txt
wait $BPID
tail -5 $OUT/mamba_build.txt
timeout 150 python3 scripts/bench_vs_mamba_ssm.py 2>&1 | grep -v -i warn | tee $OUT/vs_mamba_ssm.txt
date -u >> $OUT/env.txt
