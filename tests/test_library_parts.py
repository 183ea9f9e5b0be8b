"""The maintained parts the training loop uses (timm's EMA and cosine schedule), and why the
resumable sampler stays our own rather than torchdata's StatefulDataLoader."""
import math
import warnings

import pytest
import torch
from torch.utils.data import Dataset

from conftest_data import TINY_KW  # also puts src/ on sys.path
import rmeeto
from rmeeto.data.sampler import SeededDataset, TrainSampler
from rmeeto.train.schedule import CosineWarmupLR

timm_utils = pytest.importorskip("timm.utils", reason="timm (the [train] extra) is not installed")


def test_timm_ema_on_a_patched_model_is_the_plain_average():
    torch.manual_seed(0)
    model = rmeeto.patch(rmeeto.create_model("vim_tiny_patch16_224", num_classes=3, **TINY_KW), r=2)
    decay = 0.75
    ema = timm_utils.ModelEmaV3(model, decay)
    expected = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x = torch.randn(2, 3, 32, 32)
    for _ in range(3):
        model(x).square().mean().backward()
        opt.step()
        opt.zero_grad()
        ema.update(model)
        for k, v in model.state_dict().items():
            expected[k] = expected[k] * decay + v * (1 - decay) if v.is_floating_point() else v.clone()
    got = ema.module.state_dict()
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        torch.testing.assert_close(got[k], v, rtol=1e-6, atol=1e-7, msg=k)
    assert not torch.equal(got["head.weight"], model.state_dict()["head.weight"])
    # the copy merges tokens like the model it was made from, whatever the model does later
    assert rmeeto.patch_settings(ema.module) == rmeeto.patch_settings(model)
    rmeeto.unpatch(model)
    assert rmeeto.patch_settings(ema.module)["r"] == 2


def _recipe_lr(step, base, total, warmup, lo, start):
    if step < warmup:
        return start + (base - start) * step / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return lo + 0.5 * (base - lo) * (1 + math.cos(math.pi * t))


def test_schedule_follows_the_recipe_through_a_refit_and_layer_scales():
    p, q = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([{"params": [p]}, {"params": [q], "lr_scale": 0.25}], lr=0.0)
    s = CosineWarmupLR(opt, base_lr=2e-3, total_steps=40, warmup_steps=6, min_lr=1e-5, warmup_lr=1e-6)
    for step in range(60):
        if step == 20:
            s.set_total_steps(30)  # --time-budget shortens the run mid-way
        total = 40 if step < 20 else 30
        want = _recipe_lr(step, 2e-3, total, 6, 1e-5, 1e-6)
        assert opt.param_groups[0]["lr"] == pytest.approx(want, rel=1e-12), step
        assert opt.param_groups[1]["lr"] == pytest.approx(0.25 * want, rel=1e-12), step
        s.step()
    # resumed from its state dict in a fresh optimizer, it sets the same lr
    opt2 = torch.optim.AdamW([p], lr=0.0)
    s2 = CosineWarmupLR(opt2, 1.0, 1)
    s2.load_state_dict(s.state_dict())
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == pytest.approx(1e-5)


class _Jitter(Dataset):
    """Sample ``i`` comes back with a draw from torch's global RNG: a stand-in for augmentation."""

    def __len__(self):
        return 24

    def __getitem__(self, key):
        i = key[0] if isinstance(key, tuple) else key  # our sampler's (index, seed), seed unused
        return torch.tensor([i, int(torch.randint(0, 2**30, ()))])


def test_sampler_vs_stateful_dataloader():
    """Why data/sampler.py is kept: StatefulDataLoader's augmentation and saved state depend on the
    number of workers; ours do not (a run may resume with another --workers)."""
    sdl = pytest.importorskip("torchdata.stateful_dataloader", reason="torchdata is not installed")
    warnings.filterwarnings("ignore", message=".*set_vital.*")

    def theirs(workers):
        sampler = TrainSampler(len(_Jitter()), 4, seed=3)
        return sdl.StatefulDataLoader(_Jitter(), batch_size=4, sampler=sampler, num_workers=workers)

    def ours(workers, start_batch=0):
        sampler = TrainSampler(len(_Jitter()), 4, seed=3)
        sampler.set_epoch(0, start_batch)
        return sdl.StatefulDataLoader(SeededDataset(_Jitter()), batch_size=4, sampler=sampler,
                                      num_workers=workers)

    def draw(loader):
        torch.manual_seed(0)
        return torch.cat(list(loader))

    a0, a2 = draw(theirs(0)), draw(theirs(2))
    assert torch.equal(a0[:, 0], a2[:, 0])  # the same order ...
    assert not torch.equal(a0[:, 1], a2[:, 1])  # ... but other augmentations with 2 workers
    b0 = draw(ours(0))
    assert torch.equal(draw(ours(2)), b0)

    # a state saved mid-epoch with 0 workers cannot resume a loader with 2
    first = theirs(0)
    it = iter(first)
    next(it), next(it)
    state = first.state_dict()
    resumed = theirs(2)
    resumed.load_state_dict(state)
    with pytest.raises(AssertionError):
        next(iter(resumed))
    # our position is (epoch, batch): resuming after 2 batches with 2 workers gives the rest exactly
    assert torch.equal(draw(ours(2, start_batch=2)), b0[8:])
