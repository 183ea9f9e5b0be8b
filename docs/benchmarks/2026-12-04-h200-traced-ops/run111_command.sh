#!/usr/bin/env bash
# run 111: why the kernels run slower when Inductor launches them (run 110): the options Inductor compiles them with
# (scripts/inspect_inductor_kernels.py: generated code's triton_meta / inductor_meta, Triton's cache, the forward
# scan alone with Triton's debug option off and on); then the GPU tests of compile and export after settings are read
# at import.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache111 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR
scripts/record_env.sh > $OUT/run111_env.txt
python3 -c "import inspect, torch._inductor.runtime.triton_heuristics as h; print(inspect.getsource(h._should_enable_triton_debug_asserts))" \
  > $OUT/run111_inspect.txt 2>&1
timeout 200 python3 scripts/inspect_inductor_kernels.py --model vim_tiny_patch16_224 --r 5 2>&1 | grep -v "^W1\|^  warn" \
  >> $OUT/run111_inspect.txt
tail -c 6000 $OUT/run111_inspect.txt
timeout 190 python3 -m pytest -v -rA -m gpu tests/test_gpu_compile.py -p no:cacheprovider > $OUT/run111_gpu_tests_full.txt 2>&1
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|Error" $OUT/run111_gpu_tests_full.txt | cut -c1-300 | tee $OUT/run111_gpu_tests.txt | tail -12
date -u >> $OUT/run111_env.txt
