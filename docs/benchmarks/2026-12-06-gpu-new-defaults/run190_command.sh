# one H100 or H200 (env.txt names it), 2026-12-06, src/, tests/ and scripts/ of the commit that adds this file:
# (1) the GPU tests of the models against the official fixtures, the Triton kernels (the opt-in dt_proj fold, the
# captured-scan rule), the chunked scan and the CUDA-graph training step, at the defaults of 93044f4 (no dt_proj
# in the scan) and c37d923 (the captured scan chosen by width and programs a multiprocessor); (2) every speed
# target of the parallel-scan work in one process at those defaults (scripts/bench_targets.py)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 330 python3 -m pytest -q -m gpu -p no:logging -p no:cacheprovider tests/test_gpu_model.py \
  tests/test_triton_ops.py tests/test_scan_chunk.py tests/test_gpu_train_graph.py \
  -k "not interpreter_cpu and not access_only" > $OUT/tests.txt 2>&1; echo "rc=$?" >> $OUT/tests.txt
grep -i "passed\|failed\|error\|rc=" $OUT/tests.txt | tail -12
timeout 250 python3 scripts/bench_targets.py --json $OUT/targets.json > $OUT/targets.txt 2>&1
echo "rc=$?" >> $OUT/targets.txt
grep -v -i "warn" $OUT/targets.txt | tail -c 4000
