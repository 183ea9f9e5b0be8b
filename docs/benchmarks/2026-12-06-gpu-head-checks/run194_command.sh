# one H100 or H200 (env.txt names it), 2026-12-06, src/ and tests/ of the commit that adds this file: every GPU test
# of the Triton kernels, the models against the official fixtures (Vim and VideoMamba), the compiled and exported
# models, the CUDA-graph training steps and the chunked scan, at the tree after the dt_proj fold left the scan
# (6b1dfda), the captured-scan rule moved into scan.split_helps (c7a1569) and want_delta left the ops (f25c8e3)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
bash scripts/record_env.sh > $OUT/env.txt; head -3 $OUT/env.txt
timeout 540 python3 -m pytest -q -m gpu -p no:logging -p no:cacheprovider tests/test_triton_ops.py \
  tests/test_gpu_model.py tests/test_gpu_videomamba.py tests/test_gpu_compile.py tests/test_gpu_train_graph.py \
  tests/test_scan_chunk.py -k "not interpreter_cpu and not access_only" > $OUT/tests.txt 2>&1
echo "rc=$?" >> $OUT/tests.txt
grep -i "passed\|failed\|error\|rc=" $OUT/tests.txt | tail -20
