# one H100 or H200 (env.txt names it), 2026-12-06, commit after 622fe37: eager against AOTInductor (torch.export,
# then aoti_compile_and_package; kernels launched from C++), Vim-Ti r=5, both timings
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
timeout 160 python3 scripts/compare_compile_options.py --model vim_tiny_patch16_224 --r 5 \
  --variants aoti --rounds 6 --iters 15 2>&1 | grep -v -i "warn\|^W1" | tail -25 | tee $OUT/compare_ti_r5_aoti.txt
