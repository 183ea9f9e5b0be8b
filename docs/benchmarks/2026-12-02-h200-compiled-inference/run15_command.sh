#!/usr/bin/env bash
# run 15: GPU tests (kernels, models, compile/export) while mamba_ssm builds; then, nothing else running, the
# contract's host and device time per call, this tree against 91b99ff (.device_data/wt_91b, alternating); the contract
# against mamba_ssm in five processes
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py scripts/bench_vs_mamba_ssm.py; } > $OUT/env.txt 2>&1
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) > $OUT/mamba_build.txt 2>&1 &
BPID=$!
PYTHONPATH=$PWD/src timeout 290 python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_gpu_compile.py \
  tests/test_triton_ops.py tests/test_scan_chunk.py -p no:cacheprovider 2>&1 | tail -8 > $OUT/gpu_tests.txt
cat $OUT/gpu_tests.txt
wait $BPID; tail -2 $OUT/mamba_build.txt
for v in new old new old; do
  if [ $v = old ]; then d=.device_data/wt_91b; else d=.; fi
  (cd $d && PYTHONPATH=$PWD/src timeout 40 python3 scripts/bench_vs_mamba_ssm.py --profile 8x1152x1569 2>&1) | grep -v -i warn \
    | sed "s/^/[$v] /" >> $OUT/profile_ab.txt
done
grep -E "forward|total|host time|wall|do_bench" $OUT/profile_ab.txt
for i in 1 2 3 4 5; do
  PYTHONPATH=$PWD/src timeout 45 python3 scripts/bench_vs_mamba_ssm.py --layout-cfgs 64/64/4 \
    --shapes 8x1152x1569,32x768x1569,128x768x197 2>&1 | grep -v -i warn | grep -v "GB/s\|^channels" | tee -a $OUT/vs_mamba_ssm.txt
done
date -u >> $OUT/env.txt
