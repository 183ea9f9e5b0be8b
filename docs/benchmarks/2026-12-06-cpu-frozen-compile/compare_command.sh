#!/usr/bin/env bash
# Eager, default torch.compile, the "lean" options (input asserts off, module guards skipped), and the weights frozen in
# (compile_for_inference's route), with and without the lean options, on this project's 2-core CPU, one process.
PYTHONPATH=src .venv/bin/python scripts/compare_compile_options.py --model vim_tiny_patch16_224 --r 1 --device cpu \
  --img-size 32 --embed-dim 16 --batch-size 1 --variants default,lean,frozen,frozen-lean --rounds 10 \
  --iters 15 2>&1 | grep -v "^W1"
