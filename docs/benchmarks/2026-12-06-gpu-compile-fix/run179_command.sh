# one H100 or H200 (env.txt names it), 2026-12-06, src/ of ea33fd7 (31d1942's compile_for_inference): the instance
# fix's tests (CPU-path ones too) on the GPU machine; eager against the default compile, a frozen graph of its own,
# and a frozen one with Inductor's cpp_wrapper, Vim-S r=0, all in one process; eager Vim-Ti r=0 / r=5 in two processes
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a $OUT/env.txt
timeout 150 python3 -m pytest -q -p no:logging -p no:cacheprovider tests/test_compile.py tests/test_gpu_compile.py \
  -k "own_weights or plainly or shallowest or inference" 2>&1 | tail -4 | tee $OUT/tests.txt
timeout 200 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r 0 \
  --variants default,frozen,frozen-cpp --rounds 6 --iters 15 > $OUT/compare_s_r0.txt 2>&1
echo "rc=$?" >> $OUT/compare_s_r0.txt
grep -v -i "warn\|^W1\|^  File\|^Thread\|^$" $OUT/compare_s_r0.txt | tail -c 2500
for p in 1 2; do
  timeout 55 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --iters 100 --rounds 10 2>&1 \
    | grep -v -i "warn\|host-bound:" | tee $OUT/ti_eager_synced_$p.txt
done
