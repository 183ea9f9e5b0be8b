#!/usr/bin/env bash
# run 121: the official-fixture GPU tests that run 120's time limit cut off (the merged Vim settings), and the
# official VideoMamba logits, on the scan with A's alignment hidden inside the kernel; as many as the time allows.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache121 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run121_env.txt
timeout 85 python3 -m pytest -v -rA -m gpu tests/test_gpu_videomamba.py tests/test_gpu_model.py -p no:cacheprovider \
  -k "official_video_logits or triton_model_matches_reference" > $OUT/run121_gpu_tests_full.txt 2>&1
echo "rc=$?" >> $OUT/run121_gpu_tests_full.txt
grep -E "PASSED|FAILED|ERROR|passed|failed|rc=" $OUT/run121_gpu_tests_full.txt | cut -c1-200
date -u >> $OUT/run121_env.txt
