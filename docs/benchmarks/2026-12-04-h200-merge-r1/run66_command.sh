#!/usr/bin/env bash
# run 66: the merge-cost curve at every r in 1..(t-1)//2 on Vim-Ti, Vim-S and Vim-B, interleaved in CUDA graphs, with
# --check (exit 1 where a median speed-up is below 1); the fused merge's and the models' GPU tests; the
# interpreter test's subprocess with the GPU visible and hidden (why it failed on a GPU machine)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; git log -1 --format=%h 2>/dev/null
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py src/rmeeto/patch.py scripts/bench_merge_curve.py; } \
  > $OUT/run66_env.txt 2>&1
timeout 330 python3 scripts/bench_merge_curve.py --r all --rounds 5 --iters 10 --check 2>&1 | grep -v -i warn \
  > $OUT/run66_curve_all.txt; echo "exit status $? (the script's, by pipefail)" >> $OUT/run66_curve_all.txt
tail -4 $OUT/run66_curve_all.txt
timeout 190 python3 -m pytest -q -m gpu tests/test_fused_merge.py tests/test_gpu_model.py 2>&1 | tail -8 \
  | tee $OUT/run66_gpu_tests.txt
for vis in "" "0"; do
  echo "== CUDA_VISIBLE_DEVICES='$vis' (the first 25 s of the interpreter script)" >> $OUT/run66_interpreter.txt
  CUDA_VISIBLE_DEVICES=$vis TRITON_INTERPRET=1 timeout 25 python3 tests/test_fused_merge.py 2>&1 | grep -v -i warn \
    | tail -15 >> $OUT/run66_interpreter.txt
done
date -u >> $OUT/run66_env.txt
