# this project's 2-core CPU machine, 2026-12-06, commit 0522838: eager against the default compile and AOTInductor on
# the torch path, a width-16 Vim-Ti at 32 px, r=2, batch 1 (output: cpu_aoti_output.txt)
PYTHONPATH=src python scripts/compare_compile_options.py --device cpu --img-size 32 --embed-dim 16 --batch-size 1 \
  --r 2 --variants default,aoti --rounds 4 --iters 5 2>&1 | grep -v "^W1"
