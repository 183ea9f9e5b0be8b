import sys, importlib, torch
sys.path.insert(0, "scripts")
import bench_scan as bs
new = importlib.import_module("rmeeto.ops.triton.scan")
old = importlib.import_module("rmeeto.ops.triton.scan_prev")
shape = sys.argv[1] if len(sys.argv) > 1 else "128x768x197"
b, E, L = map(int, shape.split("x"))
t = bs._inputs(1, b, E, L, 16, torch.float16)
for mod in (old, new):
    for _ in range(3):
        bs._run(mod, t, dict(TC=0) if mod is new else None, False)
torch.cuda.synchronize()
