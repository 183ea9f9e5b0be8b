#!/usr/bin/env bash
# run 141: the GPU tests of every path that runs the forward scan kernel whose load of A changed in c1a4644 (besides
# tests/test_triton_ops.py, run 140): the chunked scan and VideoMamba, the models with the official fixtures, and
# torch.compile / torch.export (Inductor launches the kernel itself there). Three pytest processes in parallel.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache141 PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run141_env.txt
group() {  # name, files...
  local name=$1; shift
  timeout 330 python3 -m pytest -v -m gpu -p no:cacheprovider "$@" > $OUT/run141_tests_$name.txt 2>&1
  echo "rc=$?" >> $OUT/run141_tests_$name.txt
}
group scan tests/test_scan_chunk.py tests/test_gpu_videomamba.py &
group model tests/test_gpu_model.py &
group compile tests/test_gpu_compile.py &
wait
for f in $OUT/run141_tests_*.txt; do echo "== $f"; grep -E "FAILED|ERROR|passed|failed|rc=" $f | tail -8; done
date -u >> $OUT/run141_env.txt
