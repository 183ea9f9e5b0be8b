set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src
RM="python3 -m rmeeto.cli"
(bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz > $OUT/mamba_build.txt 2>&1; echo "build rc=$?" >> $OUT/mamba_build.txt) &
BUILD=$!
timeout 260 python3 -m pytest -q -m gpu tests/test_gpu_launch.py tests/test_gpu_model.py tests/test_triton_ops.py tests/test_scan_chunk.py tests/test_gpu_compile.py tests/test_fused_merge.py > $OUT/gpu_tests.txt 2>&1
tail -5 $OUT/gpu_tests.txt
for spec in vim_small_patch16_224:0,11 vim_tiny_patch16_224:0,5 vim_base_patch16_224:0,11; do
  for g in --cuda-graph ""; do
    timeout 60 $RM bench --model ${spec%%:*} --r ${spec##*:} --batch-size 128 --dtype fp16 $g --warmup 10 --iters 30 2>&1 | sed "s/^/[${spec%%:*} ${g:-eager}] /"
  done
done | tee $OUT/model_bench.txt | grep "r="
timeout 60 $RM bench --model vim_small_patch16_224 --ratio 0.54 --batch-size 128 --dtype fp16 --cuda-graph --warmup 10 --iters 30 2>&1 | tee $OUT/ratio.txt | grep "ratio\|0.54"
timeout 90 $RM bench --model vim_small_patch16_224 --r 0,11 --batch-size 128 --dtype bf16 --train --warmup 5 --iters 20 2>&1 | tee $OUT/train.txt | grep "r="
timeout 60 python3 scripts/bench_scan.py --old rmeeto.ops.triton.scan_prev --dirs 1,2 --tc auto --shapes 32x768x1569,16x768x3137,8x1152x1569 --rep 30 > $OUT/scan_video.txt 2>&1; tail -8 $OUT/scan_video.txt
wait $BUILD; tail -2 $OUT/mamba_build.txt
timeout 120 python3 scripts/bench_vs_mamba_ssm.py 2>&1 | tee $OUT/vs_mamba_ssm.txt
