#!/usr/bin/env bash
# run 100: the GPU tests of run 99 again (that run's were cut by its time limit while mamba_ssm built), verbose;
# the issue's model targets at this commit (`rmeeto bench`, fp16, batch 128, CUDA graph; Vim-S bf16 training step);
# eager Vim-Ti r=0 / r=5 in three processes.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run100_env.txt
timeout 240 python3 -m pytest -q -rA -m gpu tests/test_fused_merge.py tests/test_gpu_compile.py \
  tests/test_gpu_model.py -k "compile or export or once or gpu_model or eager_inference or captured" \
  -p no:cacheprovider 2>&1 | grep -E "^(PASSED|FAILED|ERROR)|passed|failed" | tee $OUT/run100_gpu_tests.txt
RM="python3 -m rmeeto.cli"
for spec in vim_small_patch16_224:--r:0,11 vim_small_patch16_224:--ratio:0.54 vim_tiny_patch16_224:--r:0,5; do
  IFS=: read -r model flag vals <<< "$spec"
  timeout 50 $RM bench --model $model $flag $vals --dtype fp16 --cuda-graph 2>&1 | grep -v -i warn \
    | sed "s/^/[$model graph] /" | tee -a $OUT/run100_targets.txt
done
timeout 60 $RM bench --model vim_small_patch16_224 --r 11 --dtype bf16 --train --cuda-graph 2>&1 | grep -v -i warn \
  | sed 's/^/[vim_s train graph] /' | tee -a $OUT/run100_targets.txt
for i in 1 2 3; do
  timeout 50 $RM bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 2>&1 | grep -v -i warn \
    | sed "s/^/[vim_ti eager, process $i] /" | tee -a $OUT/run100_eager.txt
done
date -u >> $OUT/run100_env.txt
