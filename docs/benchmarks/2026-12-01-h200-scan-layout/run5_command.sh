export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src
RM="python3 -m rmeeto.cli"
timeout 60 python3 -m pytest -x -q tests/test_gpu_launch.py 2>&1 | tail -25 | tee $OUT/launch_test.txt
for f in 1 0; do for spec in vim_tiny_patch16_224:0,5 vim_small_patch16_224:0,11; do
  RMEETO_FAST_LAUNCH=$f timeout 50 $RM bench --model ${spec%%:*} --r ${spec##*:} --batch-size 128 --dtype fp16 --warmup 10 --iters 30 2>&1 | sed "s/^/[${spec%%:*} eager FAST_LAUNCH=$f] /"
done; done | tee $OUT/eager_bench.txt | grep "r="
timeout 120 python3 -m pytest -q -m gpu tests/test_gpu_compile.py tests/test_fused_merge.py 2>&1 | tail -6 | tee $OUT/gpu_tests2.txt
