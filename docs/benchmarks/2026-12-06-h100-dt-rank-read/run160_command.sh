# one H100 or H200 (the output names it), 2026-12-06, commit 0bd5524 (scripts/diag_frozen_ops.py --pollute):
# each line a fresh process; the merged tiny Vim frozen alone on polluted memory, and the failing sequence
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
timeout 300 python3 -m pytest -q -m gpu tests/test_gpu_compile.py 2>&1 | tail -5 | tee $OUT/gpu_compile_tests.txt
