#!/usr/bin/env bash
# run 86: at the new defaults (the bit search from 1024 padded sources, the compacted second sort, the forward carry
# K=4): VideoMamba-Ti r=88 / r=0 in CUDA graphs against the search at every length, other carry blockings and a wider
# score program, interleaved; the contract's one-direction forward at carry K=4 against K=8; the GPU tests of the
# fused merge (every bookkeeping form) and of the chunked scan
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run86_env.txt
timeout 120 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 88 --batch 32 --rounds 5 --iters 20 \
  --configs ";tbook.search_from=16;carry.K=2;best.sources=128 best.num_warps=8" 2>&1 \
  | grep -v "UserWarning\|warn_once" | tee $OUT/run86_ab.txt
timeout 90 python3 scripts/ab_scan_cfg.py --model videomamba_tiny --r 0 --batch 32 --rounds 5 --iters 20 \
  --configs ";carry.K=8;carry.K=2" 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run86_ab.txt
for k in 4 8; do
  echo "[carry.K=$k]" | tee -a $OUT/run86_scan.txt
  timeout 60 python3 -c "import sys; sys.path[:0] = ['scripts']; from with_scan_cfg import apply; apply(['carry.K=$k']); \
import bench_scan; sys.exit(bench_scan.main(['--shapes', '8x1152x1569,16x768x3137,32x768x1569', '--dirs', '1', \
'--tc', 'auto', '--fwd-only', '--rep', '30']))" 2>&1 | grep "dirs=" | tee -a $OUT/run86_scan.txt
done
timeout 280 python3 -m pytest -q -m gpu tests/test_fused_merge.py tests/test_scan_chunk.py \
  -k "video or bookkeeping or patched or half or chunk or tuned" 2>&1 | tail -4 | tee $OUT/run86_gpu_tests.txt
date -u >> $OUT/run86_env.txt
