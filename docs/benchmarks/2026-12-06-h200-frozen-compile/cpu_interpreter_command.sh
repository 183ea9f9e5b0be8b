#!/usr/bin/env bash
# This project's 2-core CPU: the GPU test's frozen case in fp32 (width 32), the Triton backend forced under Triton's
# interpreter.
TRITON_INTERPRET=1 RMEETO_BACKEND=triton RMEETO_MERGE=triton CUDA_VISIBLE_DEVICES="" PYTHONPATH=src \
  .venv/bin/python docs/benchmarks/2026-12-06-h200-frozen-compile/cpu_interpreter_check.py 2>&1 | grep -v "^W1\|warn"
