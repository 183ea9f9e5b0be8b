#!/usr/bin/env bash
# run 44: rmeeto bench's host column on the GPU (eager Vim-Ti r=0/5 in three processes, eager Vim-S r=0, Vim-S r=0/11
# in a CUDA graph), with the host's CPU steal time read from /proc/stat around each process; then every kernel's
# GPU tests and the compile/export and bench GPU tests at this commit
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; nproc; uname -r
  grep -m1 "model name" /proc/cpuinfo; cat /sys/fs/cgroup/cpu.max 2>/dev/null
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/bench.py; } > $OUT/env.txt 2>&1
cat $OUT/env.txt
# /proc/stat's first line: user nice system idle iowait irq softirq steal (in ticks, all cores)
stat_line() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $9}' /proc/stat; }
bench() {  # label, then rmeeto bench's arguments
  local label=$1; shift
  read t0 s0 < <(stat_line)
  timeout 90 python3 -m rmeeto.cli bench --batch-size 128 --dtype fp16 --warmup 10 --iters 30 "$@" 2>&1 \
    | grep -E "^(backend|auto|\*)" | sed "s/^/[$label] /" | tee -a $OUT/bench.txt
  read t1 s1 < <(stat_line)
  echo "[$label] steal $((s1 - s0)) of $((t1 - t0)) ticks" | tee -a $OUT/bench.txt
}
for i in 1 2 3; do bench "ti eager $i" --model vim_tiny_patch16_224 --r 0,5; done
bench "s eager" --model vim_small_patch16_224 --r 0
bench "s graph" --model vim_small_patch16_224 --r 0,11 --cuda-graph
timeout 330 python3 -m pytest -q -m gpu tests/test_triton_ops.py tests/test_scan_chunk.py tests/test_fused_merge.py \
  tests/test_gpu_model.py tests/test_gpu_launch.py tests/test_gpu_bench.py tests/test_gpu_compile.py \
  -p no:cacheprovider 2>&1 | tail -8 > $OUT/gpu_tests.txt
cat $OUT/gpu_tests.txt
date -u >> $OUT/env.txt
