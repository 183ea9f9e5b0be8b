#!/usr/bin/env bash
# run 19: eager Vim-Ti r=0 against r=5 (rmeeto bench, batch 128, fp16, no CUDA graph), two processes
export PYTHONPATH=$PWD/src; nvidia-smi --query-gpu=name --format=csv,noheader; date -u; git log -1 --format=%h 2>/dev/null
md5sum src/rmeeto/ops/triton/library.py src/rmeeto/ops/dispatch.py
for i in 1 2; do
  timeout 60 python3 -c "import sys; sys.argv=['rmeeto','bench','--model','vim_tiny_patch16_224','--r','5']; from rmeeto.cli import main; sys.exit(main())" 2>&1 | grep -v -i warn | tail -4
done
