"""On a GPU: VideoMamba on the Triton path against the official fixture and the PyTorch reference."""
import pytest
import torch

import rmeeto

from test_videomamba import patch_args, reference_model, rel, video_reference  # noqa: F401 (fixture)

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def no_tf32():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def test_triton_path_matches_official_video_logits(video_reference):
    ref = video_reference
    m = reference_model(ref, "triton").cuda()
    x = ref["input"].cuda()
    with torch.no_grad():
        assert rel(m(x).cpu(), ref["logits"]["base"]) < 1e-4
        for name, run in ref["runs"].items():
            rmeeto.patch(m, **patch_args(run))
            _, state = m.forward_tokens(x)
            assert state.token_counts == ref["token_counts"][name]
            assert rel(m(x).cpu(), ref["logits"][name]) < 1e-4, name


@pytest.mark.parametrize("frames,settings", [(8, None), (8, dict(r=88)), (16, dict(r=88)),
                                             (8, dict(r=88, mode="prune")), (16, dict(r=200, order="shuffle"))])
def test_triton_matches_reference_at_video_lengths(frames, settings):
    torch.manual_seed(0)
    kw = dict(depth=4, embed_dim=64, num_frames=frames, num_classes=10)
    a = rmeeto.create_model("videomamba_tiny_patch16_224", **kw).cuda().eval()
    b = rmeeto.create_model("videomamba_tiny_patch16_224", **kw).cuda().eval()
    b.load_state_dict(a.state_dict())
    a.backend, b.backend = "triton", "torch"
    b.merge_impl = "torch"
    if settings:
        rmeeto.patch(a, **settings)
        rmeeto.patch(b, **settings)
    x = torch.randn(2, 3, frames, 224, 224, device="cuda")
    assert a.num_tokens == 1 + frames * 196
    with torch.no_grad():
        _, sa = a.forward_tokens(x)
        _, sb = b.forward_tokens(x)
        assert sa.token_counts == sb.token_counts
        assert rel(a(x), b(x)) < 1e-4


def test_training_step_at_1569_tokens_matches_reference():
    torch.manual_seed(0)
    kw = dict(depth=3, embed_dim=64, num_frames=8, num_classes=5)
    a = rmeeto.patch(rmeeto.create_model("videomamba_tiny_patch16_224", **kw), r=88).cuda()
    b = rmeeto.patch(rmeeto.create_model("videomamba_tiny_patch16_224", **kw), r=88).cuda()
    b.load_state_dict(a.state_dict())
    a.backend, b.backend = "triton", "torch"
    x = torch.randn(2, 3, 8, 224, 224, device="cuda")
    for m in (a, b):
        m(x).square().mean().backward()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        if not pb.grad.any():  # the last block's forward-direction A: the class token is step 0 of its scan
            assert not pa.grad.any(), name
            continue
        assert rel(pa.grad, pb.grad) < 1e-3, name
