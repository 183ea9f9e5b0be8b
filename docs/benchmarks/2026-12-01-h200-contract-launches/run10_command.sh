#!/usr/bin/env bash
# run 10: the GPU tests run 7 left out (launch cache, merge, video, compile/export, augment, bench) while mamba_ssm
# builds; then the contract against mamba_ssm three times, each in its own process
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_vs_mamba_ssm.py; } > $OUT/env.txt 2>&1
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) > $OUT/mamba_build.txt 2>&1 &
BPID=$!
PYTHONPATH=$PWD/src timeout 300 python3 -m pytest -q -m gpu tests/test_gpu_launch.py tests/test_fused_merge.py \
  tests/test_gpu_videomamba.py tests/test_gpu_compile.py tests/test_gpu_augment.py tests/test_gpu_bench.py \
  -p no:cacheprovider 2>&1 | tail -8 > $OUT/gpu_tests.txt
cat $OUT/gpu_tests.txt
wait $BPID; tail -2 $OUT/mamba_build.txt
for i in 1 2 3; do
  PYTHONPATH=$PWD/src timeout 80 python3 scripts/bench_vs_mamba_ssm.py --layout-cfgs 64/64/4 2>&1 | grep -v -i warn \
    | grep -v "GB/s\|^channels" | tee -a $OUT/vs_mamba_ssm.txt
done
date -u >> $OUT/env.txt
