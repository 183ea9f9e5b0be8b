#!/usr/bin/env bash
# run 58: out_proj with the gated sum in its prologue (gated_linear) against the sum-and-gate pass + cuBLAS, alone,
# and in Vim-S, Vim-Ti and Vim-B in CUDA graphs (DEFER_GATE, the default, against DEFER_GATE=0), interleaved; Vim-Ti
# in CUDA graphs, the paired forward scan (64 and 32 channels) against the split forward; rmeeto bench on Vim-S
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/settings.py scripts/bench_gated_linear.py scripts/ab_scan_cfg.py \
    scripts/with_scan_cfg.py src/rmeeto/ops/dispatch.py src/rmeeto/models/mixer.py; } > $OUT/run58_env.txt 2>&1
timeout 200 python3 scripts/bench_gated_linear.py --shapes 128x197x384x192,128x197x768x384,128x197x1536x768,32x1569x768x384 \
  2>&1 | grep -v -i warn | tee $OUT/run58_gated_linear.txt
for m in vim_small_patch16_224:0,11:5 vim_tiny_patch16_224:0,5:5 vim_base_patch16_224:0,11:3; do
  IFS=: read name rs rounds <<< "$m"
  timeout 100 python3 scripts/ab_scan_cfg.py --model $name --r $rs --configs "fwd.DEFER_GATE=0;;gl.num_warps=4" \
    --rounds $rounds 2>&1 | grep -v -i warn | tee -a $OUT/run58_ab_fused_graph.txt
done
timeout 90 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --rounds 5 \
  --configs ";set.scan_split=off fwd.PAIR=1;set.scan_split=off fwd.PAIR=1 fwd.PAIR_BLOCK_E=32" 2>&1 | grep -v -i warn | tee $OUT/run58_ab_vim_ti_graph.txt
timeout 40 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --batch-size 128 --dtype fp16 --cuda-graph \
  --warmup 10 --iters 30 2>&1 | grep -v -i warn | tee $OUT/run58_bench_graph.txt
date -u >> $OUT/run58_env.txt
