export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src
timeout 40 python3 -m pytest -x -q tests/test_gpu_launch.py 2>&1 | grep -E "passed|failed|Error|assert" | head -8
python3 - <<'PY'
import triton, torch
from triton import knobs
print("triton", triton.__version__, "enter hook", knobs.runtime.launch_enter_hook, "exit hook", knobs.runtime.launch_exit_hook)
PY
for f in 1 0; do RMEETO_FAST_LAUNCH=$f timeout 40 python3 -m rmeeto.cli bench --model vim_tiny_patch16_224 --r 0,5 --batch-size 128 --dtype fp16 --warmup 10 --iters 30 2>&1 | grep "r=" | sed "s/^/[Ti eager FAST_LAUNCH=$f] /"; done | tee $OUT/eager_ti.txt
