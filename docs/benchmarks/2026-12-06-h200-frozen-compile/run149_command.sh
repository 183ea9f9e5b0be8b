#!/usr/bin/env bash
# The same H200 right after run 148: the GPU test files not run since eaea2b0's src/, eight workers, then the
# host-share test alone (scripts/gpu_suite.sh pending without its compile comparison).
OUT=$OUT; HS=tests/test_gpu_bench.py::test_host_share_tells_a_host_bound_forward_from_a_graph_replay
export PYTHONPATH=$PWD/src
timeout 300 python3 -m pytest -m gpu -n 8 -v -p no:cacheprovider -rfE tests/test_gpu_videomamba.py tests/test_scan_chunk.py \
  tests/test_gpu_train_graph.py tests/test_fused_merge.py > $OUT/pending_tests.txt 2>&1
grep -E "FAILED|ERROR|passed|failed" $OUT/pending_tests.txt | tail -15
timeout 60 python3 -m pytest -m gpu -v -p no:cacheprovider $HS 2>&1 | tail -3 | tee $OUT/pending_host_share.txt
