#!/usr/bin/env bash
# run 145: the eager merge step's scratch kept per stream and size, and the previous step's sizes read as they are
# (merge_once.plan_add_norm; its form at 19b0855 copied beside it as merge_once_prev for the comparison): the GPU
# tests of the fused merge and the models, in parallel; then alone on the GPU: pure host time of eager Vim-Ti r=0 and
# r=5 with the new and the previous merge step, interleaved; `rmeeto bench` eager Vim-Ti r=0,5 in two processes (the
# issue's measurement); default torch.compile against eager on Vim-Ti r=0,5.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache145 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run145_env.txt
test -f src/rmeeto/ops/triton/merge_once_prev.py  # copied beside it from 19b0855 before the run
group() {  # name, files...
  local name=$1; shift
  timeout 240 python3 -m pytest -v -m gpu -p no:cacheprovider "$@" > $OUT/run145_tests_$name.txt 2>&1
  echo "rc=$?" >> $OUT/run145_tests_$name.txt
}
group merge tests/test_fused_merge.py &
group model tests/test_gpu_model.py tests/test_gpu_bench.py &
wait
for f in $OUT/run145_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed|rc=" $f | tail -8; done
timeout 90 python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5,5 --rounds 20 \
  --configs ";;swap.merge_once.plan_add_norm=rmeeto.ops.triton.merge_once_prev" 2>&1 | grep -v -i warn \
  > $OUT/run145_host_ti.txt
for i in 1 2; do timeout 60 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --rounds 10 \
  2>&1 | grep -v -i "warn\|^W1"; done > $OUT/run145_eager_ti.txt
timeout 150 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --compile none,default --iters 60 \
  2>&1 | grep -v -i "warn\|^W1" > $OUT/run145_compile_ti.txt
cat $OUT/run145_host_ti.txt; grep -E "^auto|im/s" $OUT/run145_eager_ti.txt $OUT/run145_compile_ti.txt | cut -c1-160
rm -f src/rmeeto/ops/triton/merge_once_prev.py
date -u >> $OUT/run145_env.txt
