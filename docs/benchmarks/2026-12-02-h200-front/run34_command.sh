#!/usr/bin/env bash
# run 34: the fused front at block configurations with fewer registers (and num_stages); default-mode torch.compile
# against eager at Vim-S r=0 and Vim-Ti r=5, the two cases not re-timed since the ops were registered without
# custom_op's layers (the unfused front, the default)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py src/rmeeto/ops/dispatch.py scripts/bench_front.py \
    scripts/profile_compile.py; } > $OUT/env.txt 2>&1
timeout 90 python3 scripts/bench_front.py --shapes 128x768x197,128x384x197,32x768x1569 \
  --cfgs 64/64/4/3,64/32/8/2,64/16/4/2,128/32/8/2,64/32/4/2,64/16/8/2,32/32/4/2 2>&1 | grep -v Warn \
  | tee $OUT/bench_front.txt
timeout 100 python3 scripts/profile_compile.py --model vim_small_patch16_224 --r 0 2>&1 | grep -v Warn > $OUT/compile_s0.txt
timeout 100 python3 scripts/profile_compile.py --model vim_tiny_patch16_224 --r 5 2>&1 | grep -v Warn > $OUT/compile_ti5.txt
grep -iE "round|median|ratio|x eager|compiled" $OUT/compile_s0.txt $OUT/compile_ti5.txt | head -40
date -u >> $OUT/env.txt
