#!/usr/bin/env bash
# run 79: scan_chunk=tune (the chunked forward's chunk length measured per shape) against the rule: the GPU tests,
# the lengths it picks for VideoMamba-Ti and -S at r=88, the models in CUDA graphs interleaved (r=0 and r=88), then
# rmeeto bench of Ti and S under both settings
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run79_env.txt
timeout 150 python3 -m pytest -q -m gpu tests/test_scan_chunk.py tests/test_fused_merge.py -k "chunk or tuned or bookkeeping" \
  2>&1 | tail -3 | tee $OUT/run79_gpu_tests.txt
timeout 60 python3 - <<'PY' 2>&1 | grep -v "UserWarning\|warn_once" | tee $OUT/run79_tuned.txt
import torch, rmeeto
from rmeeto.ops import settings
from rmeeto.ops.triton import scan, scan_tune
settings.configure(scan_chunk="tune")
for name in ("videomamba_tiny", "videomamba_small"):
    m = rmeeto.create_model(name).cuda().half().eval()
    rmeeto.patch(m, r=88)
    with torch.no_grad():
        m(torch.randn(32, *m.input_shape, device="cuda", dtype=torch.half))
    for key, tc in sorted(scan_tune._TUNED.items(), key=lambda kv: (kv[0][2], -kv[0][0])):
        rule = scan.chunk_len("fwd", key[0], key[1], key[2], key[4], key[5])
        print(f"{name}: L {key[0]} batch {key[1]} E {key[2]}: rule {rule}, tuned {tc}")
    scan_tune.forget()
PY
for m in tiny small; do
  timeout 130 python3 scripts/ab_scan_cfg.py --model videomamba_$m --r 0,88 --batch 32 --rounds 5 --iters 20 \
    --configs ";set.scan_chunk=tune" 2>&1 | grep -v "UserWarning\|warn_once" | tee -a $OUT/run79_ab.txt
done
for cfg in "set.scan_chunk=auto" "set.scan_chunk=tune"; do
  timeout 80 python3 scripts/with_scan_cfg.py $cfg -- bench --model videomamba_tiny --r 0,88 --batch-size 32 --dtype fp16 \
    --warmup 5 --iters 20 --cuda-graph --merge-cost 2>&1 | grep -v "UserWarning\|warn_once\|kernel configuration" \
    | sed "s/^/[tiny $cfg] /" | tee -a $OUT/run79_bench.txt
done
date -u >> $OUT/run79_env.txt
