import torch, rmeeto, cProfile, pstats, time
m = rmeeto.patch(rmeeto.create_model("vim_tiny_patch16_224"), r=5).cuda().eval().half()
x = torch.randn(128, 3, 224, 224, device="cuda", dtype=torch.half)
with torch.no_grad():
    for _ in range(10): m(x)
    torch.cuda.synchronize()
    pr = cProfile.Profile(); pr.enable()
    t = time.perf_counter()
    for _ in range(20): m(x)
    host = (time.perf_counter() - t) / 20
    pr.disable(); torch.cuda.synchronize()
print(f"host per forward under cProfile {host*1e3:.2f} ms")
pstats.Stats(pr).sort_stats("tottime").print_stats(30)
