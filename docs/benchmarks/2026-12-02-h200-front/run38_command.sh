#!/usr/bin/env bash
# run 38: DDP built, warmed up and captured on one side stream; the DDP test now also requires no stream-mismatch warning
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src; { date -u; md5sum src/rmeeto/cuda_graphs.py src/rmeeto/train/dist.py src/rmeeto/train/engine.py tests/test_gpu_train_graph.py; } > $OUT/env.txt; timeout 90 python3 -m pytest -q -m gpu tests/test_gpu_train_graph.py -k "ddp or test_graph_replays" -p no:cacheprovider -W always -rw 2>&1 | tail -15 | tee $OUT/gpu_tests.txt; date -u >> $OUT/env.txt
