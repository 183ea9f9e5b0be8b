#!/usr/bin/env bash
# run 120: the forward scan hides A's alignment from the compiler inside the kernel (tl.multiple_of(..., 1)) instead
# of do_not_specialize, which Inductor ignores. The probe (unmerged Vim-Ti core alone, eager against the compiled
# traced op, and the variants' layouts); default torch.compile against eager with the traced ops (Vim-Ti r=5,
# Vim-S r=11); then GPU tests of the scan and of the compiled traced ops.
set -uo pipefail
export PYTHONUNBUFFERED=1 TRITON_CACHE_DIR=/tmp/tcache120 PYTHONPATH=$PWD/src
rm -rf $TRITON_CACHE_DIR /tmp/torchinductor_$(whoami)
scripts/record_env.sh > $OUT/run120_env.txt
timeout 100 python3 scripts/probe_traced_scan.py --model vim_tiny_patch16_224 --r 0 > $OUT/run120_probe.txt 2>&1
echo "rc=$?" >> $OUT/run120_probe.txt
timeout 40 python3 scripts/diff_triton_variants.py _scan_fwd_seq_kernel --lines 40 > $OUT/run120_diff.txt 2>&1
grep -A3 "median ms\|device us per core" $OUT/run120_probe.txt | grep -v warn | cut -c1-150
grep "variant\|#blocked\|\.version" $OUT/run120_diff.txt | cut -c1-160
for args in "vim_tiny_patch16_224 5" "vim_small_patch16_224 11"; do
  set -- $args
  timeout 120 python3 scripts/profile_compile.py --model $1 --r $2 --traced-ops --rounds 5 --prof-iters 3 --top 8 \
    > $OUT/run120_raw.txt 2>&1
  echo "rc=$? $args" >> $OUT/run120_compile.txt
  grep -v -i "warn\|^W1\|^  " $OUT/run120_raw.txt | sed "s/^/[$1 r=$2] /" >> $OUT/run120_compile.txt
done
grep "median\|host us\|per forward\|_scan_fwd\|_stack\|_biconv\|rc=" $OUT/run120_compile.txt | cut -c1-160
timeout 150 python3 -m pytest -v -rA -m gpu tests/test_gpu_compile.py tests/test_triton_ops.py tests/test_gpu_model.py \
  -p no:cacheprovider -k "traced_ops or bimamba_half or bimamba_fp32 or selective_scan_triton or scan_fwd_split or \
  triton_model_matches_reference" > $OUT/run120_gpu_tests_full.txt 2>&1
echo "rc=$?" >> $OUT/run120_gpu_tests_full.txt
grep -E "^(PASSED|FAILED|ERROR)|passed|failed|rc=" $OUT/run120_gpu_tests_full.txt | cut -c1-300 > $OUT/run120_gpu_tests.txt
grep -c PASSED $OUT/run120_gpu_tests.txt; grep -E "FAILED|ERROR|passed|failed|rc=" $OUT/run120_gpu_tests.txt | tail -8
date -u >> $OUT/run120_env.txt
