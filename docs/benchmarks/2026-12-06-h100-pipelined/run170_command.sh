# one H100 or H200 (env.txt names it), 2026-12-06, src/ of 96137fd: the 45 fused-merge GPU tests that run 169's
# timeout cut off (run170_fused_merge_rest.txt, in collection order from the 54th); eager against torch.compile
# (default) and compile_for_inference (frozen) again in a second process, Vim-S r=11, and on Vim-Ti r=5
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
D=docs/benchmarks/2026-12-06-h100-pipelined  # named 2026-12-06-pipelined when it ran
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 300 python3 -c "import pytest, sys; sys.exit(pytest.main(['-q', '-m', 'gpu', '-p', 'no:logging']
  + open('$D/run170_fused_merge_rest.txt').read().splitlines()))" 2>&1 | tail -4 | tee $OUT/fused_merge_rest_tests.txt
timeout 130 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 11 \
  --variants default,frozen --rounds 6 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tee $OUT/compare_s_r11.txt
timeout 110 python3 scripts/compare_compile_options.py --model vim_tiny_patch16_224 --r 5 \
  --variants default,frozen --rounds 6 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tee $OUT/compare_ti_r5.txt
