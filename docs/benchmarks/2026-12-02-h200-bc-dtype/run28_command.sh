#!/usr/bin/env bash
# run 28: fp32 x_dbl for inference against the compute dtype, interleaved in one process (with a register cap of 104
# and the defaults repeated as a placement control); the graph targets; the GPU tests not run since their last
# edits; default compile against eager (Vim-S r=11, Vim-Ti r=0)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  git log -1 --format=%h 2>/dev/null; md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py scripts/ab_scan_cfg.py \
    scripts/with_scan_cfg.py scripts/profile_compile.py; } > $OUT/env.txt 2>&1
AB="python3 scripts/ab_scan_cfg.py --rounds 7 --iters 20"
CF=";core.x_dbl_fp32=0;fwd.maxnreg=104;"
timeout 100 $AB --model vim_small_patch16_224 --r 0,11 --configs "$CF" 2>&1 | grep -v Warn | tee $OUT/ab.txt
timeout 50 $AB --model vim_tiny_patch16_224 --r 0,5 --configs "$CF" 2>&1 | grep -v Warn | tee -a $OUT/ab.txt
timeout 50 $AB --model vim_base_patch16_224 --r 0 --configs "$CF" 2>&1 | grep -v Warn | tee -a $OUT/ab.txt
timeout 60 $AB --model videomamba_small --r 0 --batch 32 --configs "$CF" 2>&1 | grep -v Warn | tee -a $OUT/ab.txt
timeout 230 python3 -m pytest -q -m gpu tests/test_gpu_train_graph.py tests/test_gpu_model.py tests/test_gpu_compile.py \
  -p no:cacheprovider 2>&1 | grep -v Warn | tail -15 | tee $OUT/gpu_tests.txt
RM="python3 -m rmeeto.cli"
for spec in vim_small_patch16_224:--r:0,11 vim_small_patch16_224:--ratio:0.54 vim_tiny_patch16_224:--r:0,1,5; do
  IFS=: read -r model flag vals <<< "$spec"
  timeout 45 $RM bench --model $model $flag $vals --dtype fp16 --cuda-graph --merge-cost 2>&1 | grep -E "^auto" \
    | sed "s/^/[$model graph] /" | tee -a $OUT/targets.txt
done
timeout 100 python3 scripts/profile_compile.py --model vim_small_patch16_224 --r 11 2>&1 | grep -v Warn > $OUT/compile_s11.txt
date -u >> $OUT/env.txt
