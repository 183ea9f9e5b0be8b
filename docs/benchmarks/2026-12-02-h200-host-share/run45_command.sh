#!/usr/bin/env bash
# run 45: the GPU tests run 44's time limit cut (the models, the launch cache, bench's merge cost, compile/export,
# then all of tests/test_fused_merge.py), one pytest process per file; before them, how fast the host runs a fixed
# piece of pure Python, in 0.25 s windows for 20 s (does the host's speed move within one process?), and the pure
# host time of eager Vim-Ti r=0/5 and Vim-S r=0/11 forwards (enqueued behind a GPU sleep: is the queue ever full?)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/bench.py scripts/host_enqueue.py; } > $OUT/env.txt 2>&1
python3 - <<'PY' 2>&1 | tee $OUT/host_speed.txt
import statistics, time
def work():
    s = 0
    for i in range(20000):
        s += i * i % 7
    return s
rates, end = [], time.perf_counter() + 20
while time.perf_counter() < end:
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 0.25:
        work(); n += 1
    rates.append(n / (time.perf_counter() - t0))
q = statistics.quantiles(rates, n=20)
print(f"pure-Python work units per s over {len(rates)} windows of 0.25 s: min {min(rates):.0f}, 5% {q[0]:.0f}, "
      f"median {statistics.median(rates):.0f}, 95% {q[-1]:.0f}, max {max(rates):.0f}")
PY
# the pure host time of eager forwards: each enqueued while the GPU sleeps 150 ms (scripts/host_enqueue.py)
for spec in "vim_tiny_patch16_224 0,5" "vim_small_patch16_224 0,11"; do
  set -- $spec
  timeout 90 python3 scripts/host_enqueue.py --model $1 --r $2 2>&1 | grep -v -i warn | tee -a $OUT/host_enqueue.txt
done
for f in test_gpu_model test_gpu_launch test_gpu_bench test_gpu_compile test_fused_merge; do
  timeout 200 python3 -m pytest -q -m gpu tests/$f.py -p no:cacheprovider 2>&1 | tail -3 | sed "s/^/[$f] /" \
    | tee -a $OUT/gpu_tests.txt
done
date -u >> $OUT/env.txt
