#!/usr/bin/env bash
# run 99: GPU tests of the merge steps, the models and compile after 5475e3b / f9d7e38, with the new capture test,
# while mamba_ssm 2.3.1 builds from its sdist (git-ignored .device_data/); then the selective_scan_fn contract
# against mamba_ssm at the five shapes, each call as enqueued and each call as one CUDA-graph replay, and
# twice more at 8x1152x1569 as enqueued (pinned to one core, then not).
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run99_env.txt
md5sum .device_data/mamba_ssm-2.3.1.tar.gz >> $OUT/run99_env.txt
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) \
  > $OUT/run99_mamba_build.txt 2>&1 &
BPID=$!
timeout 270 python3 -m pytest -q -m gpu tests/test_fused_merge.py tests/test_gpu_compile.py tests/test_gpu_model.py \
  -k "compile or export or once or gpu_model or eager_inference or captured" -p no:cacheprovider 2>&1 | tail -6 \
  | tee $OUT/run99_gpu_tests.txt
wait $BPID; tail -2 $OUT/run99_mamba_build.txt
run() {  # label, timeout, then the script's arguments
  echo "== $1" | tee -a $OUT/run99_vs_mamba_ssm.txt; local t=$2; shift 2
  timeout $t "$@" --no-copies 2>&1 | grep -v -i "warn" | tee -a $OUT/run99_vs_mamba_ssm.txt
}
run "as enqueued, all shapes" 80 python3 scripts/bench_vs_mamba_ssm.py
run "one CUDA-graph replay per call, all shapes" 80 python3 scripts/bench_vs_mamba_ssm.py --cuda-graph
run "as enqueued, taskset -c 5" 50 taskset -c 5 python3 scripts/bench_vs_mamba_ssm.py --shapes 8x1152x1569
run "as enqueued, not pinned" 50 python3 scripts/bench_vs_mamba_ssm.py --shapes 8x1152x1569
date -u >> $OUT/run99_env.txt
