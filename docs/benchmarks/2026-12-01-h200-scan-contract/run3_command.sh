#!/usr/bin/env bash
# run 3: the blocked chunk carry against the previous one (per-kernel device time), its block sweep, the chunked-scan
# GPU tests, then the contract against mamba_ssm again (built in the background meanwhile)
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch,triton;print('torch',torch.__version__,'triton',triton.__version__)"; date -u
  md5sum src/rmeeto/ops/triton/*.py scripts/bench_vs_mamba_ssm.py .device_data/wt_old/src/rmeeto/ops/triton/scan_chunk.py; } > $OUT/env.txt 2>&1
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) > $OUT/mamba_build.txt 2>&1 &
BPID=$!
SH=8x1152x1569,16x768x3137,32x768x1569
PYTHONPATH=$PWD/.device_data/wt_old/src timeout 100 python3 .device_data/wt_old/scripts/bench_vs_mamba_ssm.py --profile $SH 2>&1 \
  | grep -v -i warn > $OUT/profile_old.txt
export PYTHONPATH=$PWD/src
timeout 100 python3 scripts/bench_vs_mamba_ssm.py --profile $SH 2>&1 | grep -v -i warn > $OUT/profile_new.txt
for c in 16/8/4 32/16/4 8/16/2 16/32/8 32/8/4; do
  timeout 60 python3 scripts/bench_vs_mamba_ssm.py --profile $SH --carry $c 2>&1 | grep -E "CARRY|carry|backward:|forward:" >> $OUT/carry_sweep.txt
done
grep -E "carry|backward:|forward:" $OUT/profile_old.txt | sed 's/^/[old] /'; grep -E "carry|backward:|forward:|total|wall|host time" $OUT/profile_new.txt | sed 's/^/[new] /'
cat $OUT/carry_sweep.txt
timeout 200 python3 -m pytest -q -m gpu tests/test_scan_chunk.py tests/test_triton_ops.py -p no:cacheprovider 2>&1 | tail -15 > $OUT/gpu_tests.txt
cat $OUT/gpu_tests.txt
wait $BPID; tail -2 $OUT/mamba_build.txt
timeout 120 python3 scripts/bench_vs_mamba_ssm.py --layout-cfgs 64/64/4 2>&1 | grep -v -i warn | tee $OUT/vs_mamba_ssm.txt
date -u >> $OUT/env.txt
