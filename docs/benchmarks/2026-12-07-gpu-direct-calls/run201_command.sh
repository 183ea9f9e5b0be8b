# one H100 or H200 (env.txt names it), 2026-12-07, src/, tests/ and scripts/ of the commit that last changed this
# file: the frozen-compile GPU tests again, after their check for Dynamo's entry was narrowed to calls of the compiled
# module (run 200 counted a function that the compiled graph runs itself on the GPU) and direct calls were limited to
# forwards whose Dynamo code only calls the graph; then Vim-S compiled for inference with direct calls (frozen) and
# without (frozen-via-dynamo) against eager, r=11 and r=0, each in two processes (alternating rounds in each)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
bash scripts/record_env.sh > $OUT/env.txt; head -3 $OUT/env.txt
timeout 170 python3 -m pytest -q -m gpu -p no:logging -p no:cacheprovider tests/test_gpu_compile.py \
  -k "directly or frozen" > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt; tail -3 $OUT/tests.txt
for run in a b; do
  for r in 11 0; do
    f=$OUT/compare_s_r${r}_$run.txt
    timeout 100 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r $r \
      --variants frozen-via-dynamo,frozen --rounds 6 --iters 15 > $f 2>&1
    echo "rc=$?" >> $f
    grep -v -i "warn\|^W1\|^  File\|^Thread\|^$" $f | tail -4 | cut -c1-200
  done
done
