# one H100 or H200 (env.txt names it), 2026-12-07, src/ and tests/ of the commit that last changed this file: the
# frozen-compile GPU tests again, after their check for Dynamo's entry was narrowed to calls of the compiled module
# (run 200 counted a function that the compiled graph runs itself on the GPU) and direct calls were limited to
# forwards whose Dynamo code only calls the graph
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
bash scripts/record_env.sh > $OUT/env.txt; head -3 $OUT/env.txt
timeout 170 python3 -m pytest -q -m gpu -p no:logging -p no:cacheprovider tests/test_gpu_compile.py \
  -k "directly or frozen" > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt; tail -3 $OUT/tests.txt
