# one H100 or H200 (env.txt names it), 2026-12-06, commit 804e15e: rmeeto bench's GPU tests; eager against
# torch.compile (default) and compile_for_inference (frozen), synchronised and pipelined (ToMe's loop), Vim-S r=0 and
# r=11; eager Vim-Ti r=0 / r=5 in both timings, settings interleaved
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print(torch.__version__, triton.__version__)" | tee -a $OUT/env.txt
timeout 150 python3 -m pytest -q -m gpu -p no:logging tests/test_gpu_bench.py 2>&1 | tail -3 | tee $OUT/gpu_bench_tests.txt
for r in 11 0; do
  timeout 170 python3 scripts/compare_compile_options.py --model vim_small_patch16_224 --r $r \
    --variants default,frozen --rounds 6 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tee $OUT/compare_s_r$r.txt
done
for timing in synced pipelined; do
  timeout 100 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --iters 100 --rounds 10 \
    --timing $timing --json $OUT/ti_eager_$timing.json 2>&1 | grep -v -i "warn" | tee $OUT/ti_eager_$timing.txt
done
timeout 100 python3 -m rmeeto.cli bench --model vim_small_patch16_224 --r 0,11 --iters 60 --rounds 6 \
  --timing pipelined --json $OUT/s_eager_pipelined.json 2>&1 | grep -v -i "warn" | tee $OUT/s_eager_pipelined.txt
