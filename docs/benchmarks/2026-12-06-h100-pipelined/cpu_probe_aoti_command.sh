# this project's 2-core CPU machine, 2026-12-06: the Triton path on CPU tensors (Triton's interpreter), exported for
# inference and compiled by AOTInductor (output: cpu_probe_aoti_output.txt)
TRITON_INTERPRET=1 PYTHONPATH=src python -X faulthandler scripts/probe_aoti.py --triton-on-cpu --depth 4 \
  --embed-dim 16 --img 32 --r 2 --batch-size 2 2>&1 | grep -v "^W1"
