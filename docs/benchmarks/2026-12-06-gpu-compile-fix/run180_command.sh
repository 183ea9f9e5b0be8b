# one H100 or H200 (env.txt names it), 2026-12-06, the src/ and tests/ of the commit that adds this file: the compile
# tests run 179 did not reach (its 120 s ran out after five), with the new GPU test of two instances frozen one after
# the other; then the Vim-S bf16 training step eager and as a CUDA graph, r=0 and r=11 (rmeeto bench)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 260 python3 -m pytest -q -p no:logging -p no:cacheprovider tests/test_gpu_compile.py tests/test_compile.py \
  -k "two_instances or frozen_compile_matches or one_op_merge or plainly or shallowest or skips_module_guards" \
  > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt
grep -v -i "warn" $OUT/tests.txt | tail -5
for g in "" "--cuda-graph"; do
  timeout 75 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --dtype bf16 --train $g 2>&1 \
    | grep -v -i "warn\|host-bound:" | tee -a $OUT/train.txt
done
