# one H100 or H200 (env.txt names it), 2026-12-06, src/ and tests/ of the commit that adds this file (src/ of
# 6b1dfda): GPU tests that use the forward scan kernel and did not run in run 192 (VideoMamba, CUDA-graph training
# steps, the chunked scan), in that order, cut off at 240 s
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 240 python3 -m pytest -v -m gpu -p no:logging -p no:cacheprovider tests/test_gpu_videomamba.py \
  tests/test_gpu_train_graph.py tests/test_scan_chunk.py -k "not interpreter_cpu" > $OUT/tests.txt 2>&1
echo "rc=$?" >> $OUT/tests.txt
grep -i "passed\|failed\|error\|rc=" $OUT/tests.txt | tail -40
