#!/usr/bin/env bash
# run 4 (CARRY_CFG K=8): model and merge GPU tests while mamba_ssm builds; the contract against mamba_ssm; the
# VideoMamba-S training step (chunked backward) with the previous carry and with this one
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_vs_mamba_ssm.py .device_data/wt_old/src/rmeeto/ops/triton/scan_chunk.py; } > $OUT/env.txt 2>&1
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) > $OUT/mamba_build.txt 2>&1 &
BPID=$!
export PYTHONPATH=$PWD/src
timeout 270 python3 -m pytest -q -m gpu tests/test_gpu_model.py tests/test_fused_merge.py tests/test_gpu_videomamba.py \
  "tests/test_gpu_compile.py::test_compiled_video_model_with_the_tiled_merge" -p no:cacheprovider 2>&1 | tail -15 > $OUT/gpu_tests.txt
cat $OUT/gpu_tests.txt
wait $BPID; tail -2 $OUT/mamba_build.txt
timeout 100 python3 scripts/bench_vs_mamba_ssm.py --layout-cfgs 64/64/4 2>&1 | grep -v -i warn | tee $OUT/vs_mamba_ssm.txt
for v in old:$PWD/.device_data/wt_old/src new:$PWD/src old:$PWD/.device_data/wt_old/src new:$PWD/src; do
  PYTHONPATH=${v#*:} timeout 70 python3 -m rmeeto.cli bench --model videomamba_small --r 0 --batch-size 16 --dtype bf16 --train \
    --warmup 3 --iters 10 2>&1 | grep -E "^auto|r=0" | sed "s/^/[${v%%:*}] /" | tee -a $OUT/video_train.txt
done
date -u >> $OUT/env.txt
