#!/usr/bin/env bash
# run 31: the graphed-training and model GPU tests that run 30 time limit cut (same tree as run 30)
export PYTHONPATH=$PWD/src TRITON_CACHE_DIR=/tmp/tcache; md5sum src/rmeeto/ops/triton/bimamba.py src/rmeeto/cuda_graphs.py > $OUT/env.txt; timeout 170 python3 -m pytest -q -m gpu tests/test_gpu_train_graph.py tests/test_gpu_model.py -p no:cacheprovider 2>&1 | grep -v Warn | tail -6 | tee $OUT/gpu_tests.txt
