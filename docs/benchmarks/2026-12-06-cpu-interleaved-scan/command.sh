# this project's 2-core CPU (no GPU), 2026-12-06, src/ of the commit that adds this file: the interleaved forward
# scan (FWD_CFG PAIR) under Triton's interpreter: exactness against the fp64 reference (every case of the chunked
# scan's interpreter test, the PAIR ones among them), then every memory access checked in tiny Vim-Ti (inference and
# training, r=0 and r=5) and VideoMamba-Ti forwards
export PYTHONPATH=$PWD/src
.venv/bin/python -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
TRITON_INTERPRET=1 .venv/bin/python tests/test_scan_chunk.py 2>&1 | grep -v -i warn
.venv/bin/python scripts/check_kernel_bounds.py --pair --r 0,5 --embed-dim 48 2>&1 | grep -v -i warn
.venv/bin/python scripts/check_kernel_bounds.py --pair --r 0,5 --embed-dim 48 --train 2>&1 | grep -v -i warn
.venv/bin/python scripts/check_kernel_bounds.py --pair --r 0 --embed-dim 48 --model videomamba_tiny_patch16_224 \
  --frames 4 2>&1 | grep -v -i warn
