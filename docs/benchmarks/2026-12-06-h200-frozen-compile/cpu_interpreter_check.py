"""A frozen and a default compile of a 4-block Vim-Ti (width 32, 64 px) against eager, merged (r=5) and not."""
import torch, rmeeto
from rmeeto.ops import dispatch
dispatch.available_backends = lambda d: ["triton", "torch", "ref"]
for r in (5, 0):
    for frozen in (True, False):
        torch._dynamo.reset(); torch.manual_seed(0)
        m = rmeeto.create_model("vim_tiny_patch16_224", img_size=64, depth=4, num_classes=10, embed_dim=32)
        m = (rmeeto.patch(m, r=r) if r else m).eval(); x = torch.randn(2, 3, 64, 64)
        c = rmeeto.compile_for_inference(m) if frozen else torch.compile(m)
        with torch.inference_mode():
            want = m(x); got = c(x); again = c(x)
        rel = lambda a: ((a - want).abs().max() / want.abs().max()).item()
        print(f"r={r} frozen={frozen}: rel {rel(got):.2e} again {rel(again):.2e}", flush=True)
