#!/usr/bin/env bash
# run 147: the host-time changes since c58cdf4 on a GPU. The GPU tests of the changed paths (the one-launch merge step,
# add + RMSNorm, the launch, the models with the official fixtures, compile/export), four pytest processes in
# parallel; then alone on the GPU, eager `rmeeto bench` Vim-Ti r=0,5 and Vim-S r=0,11 at this tree ("new") and at
# c58cdf4 ("old", its src/ from `git archive`, carried in .device_data), alternating one process per tree, twice;
# last a merge block's host parts with CUDA tensors for each tree.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache147
scripts/record_env.sh > $OUT/run147_env.txt
rm -rf /tmp/old && mkdir -p /tmp/old && tar xzf .device_data/src_c58cdf4.tgz -C /tmp/old
(cd /tmp/old && echo "old src tree $(find src -name '*.py' | LC_ALL=C sort | xargs md5sum | md5sum | cut -d' ' -f1)") \
  >> $OUT/run147_env.txt
group() {  # name, pytest arguments...
  local name=$1; shift
  PYTHONPATH=$PWD/src timeout 230 python3 -m pytest -v -m gpu -p no:cacheprovider "$@" > $OUT/run147_tests_$name.txt 2>&1
  echo "rc=$?" >> $OUT/run147_tests_$name.txt
}
group merge tests/test_fused_merge.py -k "once or patched or add_norm" &
group ops tests/test_triton_ops.py &
group model tests/test_gpu_model.py tests/test_gpu_launch.py tests/test_gpu_bench.py &
group compile tests/test_gpu_compile.py &
wait
for f in $OUT/run147_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed|rc=" $f | tail -8; done
for pass in 1 2; do for tree in new old; do
  src=$PWD/src; [ $tree = old ] && src=/tmp/old/src
  for mr in vim_tiny_patch16_224:0,5 vim_small_patch16_224:0,11; do
    PYTHONPATH=$src timeout 60 python3 -m rmeeto.cli bench --model ${mr%%:*} --r ${mr#*:} --dtype fp16 --rounds 5 2>&1 \
      | grep -v -i "warn\|^W1" | sed "s/^/[$tree #$pass ${mr%%:*}] /" >> $OUT/run147_eager.txt
  done
done; done
for tree in new old; do
  src=$PWD/src; [ $tree = old ] && src=/tmp/old/src
  PYTHONPATH=$src timeout 60 python3 scripts/bench_host_parts.py --device cuda --batch 128 --number 500 2>&1 \
    | grep -v -i "warn\|^W1" | sed "s/^/[$tree] /" >> $OUT/run147_parts.txt
done
grep -E "auto|im/s|host" $OUT/run147_eager.txt | head -60; cat $OUT/run147_parts.txt
date -u >> $OUT/run147_env.txt
