#!/usr/bin/env bash
# run 122: where a synchronised compiled forward loses time against eager (scripts/gpu_idle_gaps.py: before the
# first kernel, GPU idle between kernels, after the last), Vim-Ti r=5 with the traced ops and freezing; the same
# with the weights stacked by torch ops (which freezing may fold) instead of the stacking kernel, with and without
# freezing; then the interleaved timing of the folded variant.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache122 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR /tmp/torchinductor_$(whoami)
scripts/record_env.sh > $OUT/run122_env.txt
M="--model vim_tiny_patch16_224 --r 5 --traced-ops"
for flags in "--inductor freezing=True" "--inductor freezing=True --stack-torch" "--stack-torch"; do
  timeout 110 python3 scripts/gpu_idle_gaps.py $M $flags > $OUT/run122_raw.txt 2>&1
  echo "rc=$? [$flags]" >> $OUT/run122_gaps.txt
  grep -v -i "warn\|^W1" $OUT/run122_raw.txt >> $OUT/run122_gaps.txt
done
cut -c1-200 $OUT/run122_gaps.txt
timeout 130 python3 scripts/profile_compile.py $M --rounds 5 --prof-iters 3 --top 8 --inductor freezing=True \
  --stack-torch --skip-module-guards > $OUT/run122_raw.txt 2>&1
echo "rc=$?" >> $OUT/run122_compile.txt
grep -v -i "warn\|^W1\|^  " $OUT/run122_raw.txt >> $OUT/run122_compile.txt
grep "round\|median\|host us\|per forward\|only in\|rc=\|Error" $OUT/run122_compile.txt | cut -c1-170
date -u >> $OUT/run122_env.txt
