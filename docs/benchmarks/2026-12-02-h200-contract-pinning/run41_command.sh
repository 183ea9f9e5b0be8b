#!/usr/bin/env bash
# run 41: the selective_scan_fn contract at 8x1152x1569 against mamba_ssm, whose host-bound result moved between
# processes: three processes as scheduled, three pinned to one core (taskset -c 5); GPU tests of the scan and the
# channels-last copies while mamba_ssm builds. Reads mamba_ssm's sdist from the git-ignored .device_data/.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; nproc; lscpu | grep -E "Model name|MHz"
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_vs_mamba_ssm.py .device_data/mamba_ssm-2.3.1.tar.gz; } \
  > $OUT/env.txt 2>&1
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) \
  > $OUT/mamba_build.txt 2>&1 &
BPID=$!
PYTHONPATH=$PWD/src timeout 200 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_gpu_launch.py \
  -p no:cacheprovider 2>&1 | tail -6 > $OUT/gpu_tests.txt
cat $OUT/gpu_tests.txt
wait $BPID; tail -2 $OUT/mamba_build.txt
for pin in none none none 5 5 5; do
  pre=""; [ "$pin" != none ] && pre="taskset -c $pin"
  echo "== pinned: $pin" | tee -a $OUT/vs_mamba_ssm.txt
  PYTHONPATH=$PWD/src timeout 60 $pre python3 scripts/bench_vs_mamba_ssm.py --shapes 8x1152x1569 --layout-cfgs 64/64/4 \
    2>&1 | grep -v -i warn | grep -v "GB/s\|^channels" | tee -a $OUT/vs_mamba_ssm.txt
done
date -u >> $OUT/env.txt
