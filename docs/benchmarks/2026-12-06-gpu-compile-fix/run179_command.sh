# one H100 or H200 (env.txt names it), 2026-12-06, src/ of a95e32f (31d1942's compile_for_inference): the instance
# fix's tests (CPU-path ones too) on the GPU machine; eager against the default compile, a frozen graph of its own,
# and a frozen one with Inductor's cpp_wrapper, Vim-S r=0, all in one process; then every speed target of the
# parallel-scan work in one process (scripts/bench_targets.py, its table as of a95e32f)
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 120 python3 -m pytest -q -p no:logging -p no:cacheprovider tests/test_compile.py tests/test_gpu_compile.py \
  -k "own_weights or plainly or shallowest or inference" 2>&1 | tail -4 | tee $OUT/tests.txt
timeout 170 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 0 \
  --variants default,frozen,frozen-cpp --rounds 6 --iters 15 > $OUT/compare_s_r0.txt 2>&1
echo "rc=$?" >> $OUT/compare_s_r0.txt
grep -v -i "warn\|^W1\|^  File\|^Thread\|^$" $OUT/compare_s_r0.txt | tail -c 2000
timeout 270 python3 scripts/bench_targets.py --json $OUT/targets.json > $OUT/targets.txt 2>&1
echo "rc=$?" >> $OUT/targets.txt
grep -v -i "warn" $OUT/targets.txt | tail -c 3500
