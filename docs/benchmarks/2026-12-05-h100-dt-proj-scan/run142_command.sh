#!/usr/bin/env bash
# run 142: the forward scan applying dt_proj itself for inference (ranks up to FWD_CFG's DT_FOLD_MAX_R, 16: Vim-Ti):
# the GPU tests of the scan, the models (official fixtures) and compile/export, three pytest processes in parallel;
# then, alone on the GPU, the product in torch (fwd.DT_FOLD_MAX_R=0) against the kernel's (default) in one process,
# interleaved: Vim-Ti r=0 / r=5 as CUDA-graph replays and eager, pure host time behind a GPU sleep; Vim-S with ranks up
# to 32 in the kernel; then `rmeeto bench` eager Vim-Ti r=0,5 with the default.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache142 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run142_env.txt
group() {  # name, files...
  local name=$1; shift
  timeout 280 python3 -m pytest -v -m gpu -p no:cacheprovider "$@" > $OUT/run142_tests_$name.txt 2>&1
  echo "rc=$?" >> $OUT/run142_tests_$name.txt
}
group ops tests/test_triton_ops.py &
group model tests/test_gpu_model.py tests/test_scan_chunk.py &
group compile tests/test_gpu_compile.py &
wait
for f in $OUT/run142_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed|rc=" $f | tail -8; done
AB="python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --configs fwd.DT_FOLD_MAX_R=0;"
{ timeout 60 $AB --rounds 7; timeout 60 $AB --rounds 7 --eager; } 2>&1 | grep -v -i warn > $OUT/run142_ab_ti.txt
timeout 60 python3 scripts/host_enqueue.py --model vim_tiny_patch16_224 --r 0,5,0,5 --rounds 15 \
  --configs "fwd.DT_FOLD_MAX_R=0;fwd.DT_FOLD_MAX_R=0;;" 2>&1 | grep -v -i warn > $OUT/run142_host_ti.txt
timeout 70 python3 scripts/ab_scan_cfg.py --model vim_small_patch16_224 --r 0,11 --rounds 5 \
  --configs "fwd.DT_FOLD_MAX_R=0;fwd.DT_FOLD_MAX_R=32" 2>&1 | grep -v -i warn > $OUT/run142_ab_s.txt
timeout 60 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --rounds 10 2>&1 \
  | grep -v -i "warn\|^W1" > $OUT/run142_eager_ti.txt
cat $OUT/run142_ab_ti.txt $OUT/run142_host_ti.txt $OUT/run142_ab_s.txt; grep -E "^auto|rc=|im/s" $OUT/run142_eager_ti.txt
date -u >> $OUT/run142_env.txt
