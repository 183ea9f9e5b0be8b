#!/usr/bin/env bash
# Default torch.compile against compiles without Inductor's per-input asserts, without Dynamo's module guards, and
# without both, on this project's 2-core CPU (torch path), all in one process, alternating rounds.
PYTHONPATH=src .venv/bin/python scripts/compare_compile_options.py --model vim_tiny_patch16_224 --r 1 --device cpu \
  --img-size 32 --embed-dim 16 --batch-size 1 --variants default,no-asserts,no-module-guards,lean --rounds 10 \
  --iters 15 2>&1 | grep -v "^W1"
