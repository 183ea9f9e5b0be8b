#!/usr/bin/env bash
# run 23: GPU tests (graphed training, compile incl. Inductor training, models), rmeeto bench --train with and
# without --cuda-graph, the training step ways interleaved
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  python3 -c "import torch, triton; print(torch.__version__, triton.__version__)"
  md5sum src/rmeeto/ops/triton/*.py src/rmeeto/ops/dispatch.py src/rmeeto/cuda_graphs.py src/rmeeto/bench.py \
    src/rmeeto/train/engine.py scripts/bench_train_modes.py; } > $OUT/env.txt 2>&1
PYTHONPATH=$PWD/src timeout 260 python3 -m pytest -q -m gpu tests/test_gpu_train_graph.py tests/test_gpu_compile.py \
  tests/test_gpu_model.py -p no:cacheprovider 2>&1 | grep -v Warn | tail -25 | tee $OUT/gpu_tests.txt
bench() { PYTHONPATH=$PWD/src python3 -c "import sys; sys.argv=['rmeeto','bench']+sys.argv[1:]; from rmeeto.cli import main; sys.exit(main())" "$@"; }
for g in "" "--cuda-graph" "--cuda-graph" ""; do
  echo "== rmeeto bench --model vim_small_patch16_224 --r 0,11 --train --dtype bf16 $g" | tee -a $OUT/bench_train.txt
  timeout 100 bench --model vim_small_patch16_224 --r 0,11 --train --dtype bf16 $g 2>&1 | grep -v Warn | tee -a $OUT/bench_train.txt
done
PYTHONPATH=$PWD/src timeout 120 python3 scripts/bench_train_modes.py --r 11 --ways eager,graph,graph-all \
  2>&1 | grep -v Warning | tee $OUT/train_modes.txt
date -u >> $OUT/env.txt
