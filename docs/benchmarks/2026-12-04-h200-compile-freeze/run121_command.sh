#!/usr/bin/env bash
# run 121: the GPU parity tests the scan's layout fix (dd0338b) had not yet seen (the merged official Vim fixture, the
# official VideoMamba fixture); then default torch.compile against eager with the traced ops and Inductor's freezing
# (the weights become constants, so the per-call stacking kernel may fold away), with and without Dynamo's module
# guards, on Vim-Ti r=5.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache121 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR /tmp/torchinductor_$(whoami)
scripts/record_env.sh > $OUT/run121_env.txt
timeout 280 python3 -m pytest -v -rA -m gpu tests/test_gpu_model.py tests/test_gpu_videomamba.py -p no:cacheprovider \
  -k "triton_model_matches_reference or official_video_logits" > $OUT/run121_gpu_tests_full.txt 2>&1
echo "rc=$?" >> $OUT/run121_gpu_tests_full.txt
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=" $OUT/run121_gpu_tests_full.txt | cut -c1-300 > $OUT/run121_gpu_tests.txt
cat $OUT/run121_gpu_tests.txt | tail -12
for flags in "--inductor freezing=True" "--inductor freezing=True --skip-module-guards"; do
  timeout 130 python3 scripts/profile_compile.py --model vim_tiny_patch16_224 --r 5 --traced-ops --rounds 5 \
    --prof-iters 3 --top 8 $flags > $OUT/run121_raw.txt 2>&1
  echo "rc=$? [$flags]" >> $OUT/run121_compile.txt
  grep -v -i "warn\|^W1\|^  " $OUT/run121_raw.txt | sed "s/^/[Ti r=5 $flags] /" >> $OUT/run121_compile.txt
done
grep "median\|host us\|per forward\|_scan_fwd\|_stack\|_biconv\|rc=\|Error" $OUT/run121_compile.txt | cut -c1-170
date -u >> $OUT/run121_env.txt
