#!/usr/bin/env bash
# run 106: first GPU runs of what changed since run 103: `rmeeto bench --rounds` with CUDA graphs
# (tests/test_gpu_bench.py), the eager merge step's own choice of path (19faa13; tests/test_fused_merge.py),
# and scripts/bench_vs_mamba_ssm.py capturing through rmeeto.cuda_graphs.graphed (5684c0c) against mamba_ssm 2.3.1,
# built meanwhile; then default torch.compile against eager (scripts/profile_compile.py) for Vim-Ti r=5 and Vim-S r=11.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache PYTHONPATH=$PWD/src
scripts/record_env.sh > $OUT/run106_env.txt
md5sum .device_data/mamba_ssm-2.3.1.tar.gz >> $OUT/run106_env.txt
( date -u; bash scripts/build_mamba_ssm.sh .device_data/mamba_ssm-2.3.1.tar.gz /tmp/mamba_whl; date -u ) \
  > $OUT/run106_mamba_build.txt 2>&1 &
BPID=$!
timeout 200 python3 -m pytest -q -rA -m gpu tests/test_gpu_bench.py tests/test_fused_merge.py -k "bench or once or captured" \
  -p no:cacheprovider > $OUT/run106_gpu_tests_full.txt 2>&1
grep -E "^(PASSED|FAILED|ERROR)|passed|failed" $OUT/run106_gpu_tests_full.txt | tee $OUT/run106_gpu_tests.txt | tail -3
wait $BPID; tail -2 $OUT/run106_mamba_build.txt
for mode in "" "--cuda-graph"; do
  echo "== ${mode:-as enqueued}" | tee -a $OUT/run106_vs_mamba_ssm.txt
  timeout 80 python3 scripts/bench_vs_mamba_ssm.py $mode --no-copies 2>&1 | grep -v -i warn | tee -a $OUT/run106_vs_mamba_ssm.txt
done
for args in "vim_tiny_patch16_224 5" "vim_small_patch16_224 11"; do
  set -- $args
  timeout 110 python3 scripts/profile_compile.py --model $1 --r $2 --rounds 5 --prof-iters 3 --top 0 2>&1 \
    | grep -v -i warn | grep -v "^only in\|^kernel " | sed "s/^/[$1 r=$2] /" | tee -a $OUT/run106_compile.txt
done
date -u >> $OUT/run106_env.txt
