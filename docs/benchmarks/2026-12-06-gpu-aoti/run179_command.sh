# one H100 or H200 (env.txt names it), 2026-12-06, src/ of 31d1942: compile_for_inference after the instance fix:
# its tests (CPU-path ones too) on the GPU machine, then eager against default and frozen, Vim-S r=0, a frozen graph
# of its own this time
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 150 python3 -m pytest -q -p no:logging -p no:cacheprovider tests/test_compile.py tests/test_gpu_compile.py \
  -k "own_weights or plainly or shallowest or inference" 2>&1 | tail -4 | tee $OUT/tests.txt
timeout 110 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 0 --variants default,frozen \
  --rounds 5 --iters 15 > $OUT/compare_s_r0.txt 2>&1; echo "rc=$?" >> $OUT/compare_s_r0.txt
grep -v -i "warn\|^W1" $OUT/compare_s_r0.txt | tail -c 2500
