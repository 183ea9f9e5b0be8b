"""timm.create_model builds rmeeto's models when both are installed (issue 14, item 10). Each case
runs in a fresh interpreter, because what is tested is the order in which the two are imported."""
import importlib.util
import subprocess
import sys

import pytest
import torch

from conftest_data import ROOT, subprocess_env

pytestmark = pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed")

SMALL = dict(depth=2, embed_dim=32, img_size=32, patch_size=8, stride=8, num_classes=3)
KW = ", ".join(f"{k}={v}" for k, v in SMALL.items())  # the same, as Python source


def run(code: str, **env) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, cwd=ROOT, env={**subprocess_env(), **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow  # a fresh interpreter per import order
def test_rmeeto_first_then_timm_with_pretrained_weights(tmp_path):
    import rmeeto

    src = rmeeto.create_model("vim_small_patch16_224", **SMALL)
    snap = tmp_path / "hub" / "models--hustvl--Vim-small-midclstok" / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    torch.save({"model": src.state_dict()}, snap / "vim_s_midclstok_80p5acc.pth")
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text("a" * 40)
    torch.save(src.state_dict(), tmp_path / "expected.pth")
    out = run(f"""
import sys, torch, rmeeto
assert "timm" not in sys.modules  # registering costs no timm import
import timm
m = timm.create_model("vim_small_patch16_224", pretrained=True, {KW})
want = torch.load(r"{tmp_path / 'expected.pth'}", weights_only=True)
assert isinstance(m, rmeeto.models.VisionMamba)
assert all(torch.equal(v, want[k]) for k, v in m.state_dict().items())
print(sorted(set(rmeeto.list_models()) & set(timm.list_models())) == rmeeto.list_models())
""", HF_HUB_CACHE=str(tmp_path / "hub"), HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")
    assert out.strip() == "True"


@pytest.mark.slow  # a fresh interpreter per import order
def test_timm_first_and_its_names_are_kept():
    out = run(f"""
import warnings
import timm
from timm.models import register_model, model_entrypoint

def vim_tiny_patch16_224(pretrained=False, **kwargs):  # a name timm already has
    return "timm's own"

register_model(vim_tiny_patch16_224)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import rmeeto
assert not [w for w in caught if "Overwriting" in str(w.message)], caught
assert model_entrypoint("vim_tiny_patch16_224") is vim_tiny_patch16_224
m = timm.create_model("vim_base_patch16_224", {KW})
print(type(m).__name__, m.embed_dim, m.num_classes)
""")
    assert out.split() == ["VisionMamba", "32", "3"]
