#!/usr/bin/env bash
# run 144: the final form (delta formed from dt at the top of each step, one-launch step-serial forwards only): the GPU
# tests of the scan, the models (official fixtures), VideoMamba, compile/export, four pytest processes in parallel;
# then alone on the GPU, interleaved in one process: the product in torch (fwd.DT_FOLD_MAX_R=0) against the kernel's
# for Vim-Ti r=0 / r=5 as CUDA-graph replays of the two-direction launch (set.scan_split=off) and eager; Vim-S r=0 /
# r=11 eager with ranks up to 32 in the kernel; then `rmeeto bench` eager Vim-Ti r=0,5, the issue's measurement.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache144 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run144_env.txt
group() {  # name, files...
  local name=$1; shift
  timeout 240 python3 -m pytest -v -m gpu -p no:cacheprovider "$@" > $OUT/run144_tests_$name.txt 2>&1
  echo "rc=$?" >> $OUT/run144_tests_$name.txt
}
group ops tests/test_triton_ops.py &
group model tests/test_gpu_model.py tests/test_scan_chunk.py &
group video tests/test_gpu_videomamba.py tests/test_gpu_launch.py &
group compile tests/test_gpu_compile.py &
wait
for f in $OUT/run144_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed|rc=" $f | tail -8; done
AB="python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5"
S="set.scan_split=off"
{ timeout 60 $AB --rounds 5 --configs "$S fwd.DT_FOLD_MAX_R=0;$S"
  timeout 80 $AB --rounds 15 --eager --configs "fwd.DT_FOLD_MAX_R=0;"
  timeout 90 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --rounds 9 --eager \
    --configs "fwd.DT_FOLD_MAX_R=0;fwd.DT_FOLD_MAX_R=32"; } 2>&1 | grep -v -i warn > $OUT/run144_ab.txt
timeout 60 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --rounds 10 2>&1 \
  | grep -v -i "warn\|^W1" > $OUT/run144_eager_ti.txt
cat $OUT/run144_ab.txt; grep -E "^auto|rc=|im/s" $OUT/run144_eager_ti.txt
date -u >> $OUT/run144_env.txt
