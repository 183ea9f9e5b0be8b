#!/usr/bin/env bash
# One H200, 2026-12-06 03:55 UTC, commit f8c6b55 (src tree f96206a1): compile_for_inference's GPU test, then
# frozen against default torch.compile and eager (compare_compile_options.py; rmeeto bench --compile
# none,default,default+frozen).
scripts/record_env.sh > $OUT/run148_env.txt; OUT=$OUT bash scripts/gpu_suite.sh frozen 2>&1 | tail -40
