# one H100 or H200 (env.txt names it), 2026-12-06, commit 62c7c48 (the scan reads only the rank's dt columns and
# weights; merged frozen compiles no longer refused): the runs of run160 again, the GPU tests, eager Vim-Ti
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
python3 -c "import torch, triton; print(torch.__version__, triton.__version__)" | tee -a $OUT/env.txt
D="python3 scripts/diag_frozen_ops.py --watch none"
v() { echo "== $1"; shift; timeout 90 "$@" 2>&1 | grep -v -i warn | grep "call" | tr '\n' ' '; echo; }
( v seq $D --cases default:0,default:5
  v alone-nan $D --cases default:5 --pollute nan
  v alone-big $D --cases default:5 --pollute big
  v plain-alone-nan $D --cases default:5 --pollute nan --plain
  v r0-alone-nan $D --cases default:0 --pollute nan ) | tee $OUT/pollute.txt
timeout 420 python3 -m pytest -q -m gpu tests/test_gpu_compile.py tests/test_triton_ops.py tests/test_gpu_model.py \
  2>&1 | tail -4 | tee $OUT/gpu_tests.txt
timeout 60 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --dtype fp16 --warmup 10 --iters 60 \
  --rounds 3 2>&1 | grep -E "^auto|im/s" | tee $OUT/ti_eager.txt
