#!/usr/bin/env bash
# run 143: where the forward scan forms delta from dt (DT_AHEAD 0: at the top of each step; 1: as the next step's
# inputs are loaded; 2: from a row loaded a step earlier) against the product in torch (fwd.DT_FOLD_MAX_R=0), as GPU
# time: Vim-Ti r=0 / r=5 CUDA-graph replays with the two-direction launch that eager forwards use
# (set.scan_split=off) and with the graphs' default two-stream launch; configurations interleaved in one process.
# Then eager Vim-Ti with and without the kernel's product, 15 interleaved rounds. First the new GPU tests.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache143 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run143_env.txt
timeout 150 python3 -m pytest -v -m gpu -p no:cacheprovider tests/test_triton_ops.py -k "dt_proj" \
  > $OUT/run143_tests_ops.txt 2>&1; echo "rc=$?" >> $OUT/run143_tests_ops.txt
grep -E "FAILED|ERROR|passed|failed|rc=" $OUT/run143_tests_ops.txt | tail -6
AB="python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --rounds 5"
S="set.scan_split=off"
timeout 110 $AB --configs "$S fwd.DT_FOLD_MAX_R=0;$S fwd.DT_AHEAD=0;$S fwd.DT_AHEAD=1;$S fwd.DT_AHEAD=2" 2>&1 \
  | grep -v -i warn > $OUT/run143_graph_twodir.txt
timeout 110 $AB --configs "fwd.DT_FOLD_MAX_R=0;fwd.DT_AHEAD=0;fwd.DT_AHEAD=1;fwd.DT_AHEAD=2" 2>&1 \
  | grep -v -i warn > $OUT/run143_graph_split.txt
timeout 90 python3 scripts/ab_scan_cfg.py --model vim_tiny_patch16_224 --r 0,5 --rounds 15 --eager \
  --configs "fwd.DT_FOLD_MAX_R=0;" 2>&1 | grep -v -i warn > $OUT/run143_eager.txt
cat $OUT/run143_graph_twodir.txt $OUT/run143_graph_split.txt $OUT/run143_eager.txt
date -u >> $OUT/run143_env.txt
