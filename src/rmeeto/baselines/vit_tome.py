"""ToMe-style token reduction for timm Vision Transformers, for the Mamba-vs-Transformer comparison.

Each block merges (or prunes) ``r`` tokens between its attention and its MLP, with the same
bipartite plan as :mod:`rmeeto.merge` (class token at index 0, never merged; size-weighted
average). Proportional attention is not used. Sizes live on the model for one forward, reset by
a pre-hook: fine for a baseline, not thread-safe.
"""
from __future__ import annotations


from torch import nn

from ..merge import max_r, merge_tokens, plan_merge


def tokens_per_block(num_tokens: int, depth: int, r: int) -> list[int]:
    """Tokens at each block's attention input."""
    out, t = [], num_tokens
    for _ in range(depth):
        out.append(t)
        t -= min(r, max_r(t))
    return out


def ratio_for(num_tokens: int, depth: int, r: int) -> float:
    counts = tokens_per_block(num_tokens, depth, r)
    # the MLP of each block already sees the reduced tokens: average attention and MLP inputs
    after = counts[1:] + [counts[-1] - min(r, max_r(counts[-1]))]
    return 1.0 - (sum(counts) + sum(after)) / (2 * depth * num_tokens)


def r_for_ratio(num_tokens: int, depth: int, ratio: float) -> int:
    return min(range(max_r(num_tokens) + 1), key=lambda r: abs(ratio_for(num_tokens, depth, r) - ratio))


class _ToMeBlock(nn.Module):
    """Modifications: merge ``r`` tokens between attention and MLP."""

    def forward(self, x, attn_mask=None, is_causal=False):
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        state = self._tome_state
        if state["r"] > 0:
            plan = plan_merge(x, state["r"], 0, mode=state["mode"])
            if plan is not None:
                size = state["size"] if state["size"] is not None else x.new_ones(x.shape[0], x.shape[1], 1).float()
                state["size"], x = merge_tokens(plan, size, x)
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


def patch_vit(model: nn.Module, r: int, mode: str = "merge") -> nn.Module:
    """Make a timm ``VisionTransformer`` drop ``r`` tokens per block (ToMe-style); r=0 undoes it."""
    state = {"r": r, "mode": mode, "size": None}
    for blk in model.blocks:
        if not isinstance(blk, _ToMeBlock):
            blk.__class__ = type("ToMe" + blk.__class__.__name__, (_ToMeBlock, blk.__class__), {})
        blk._tome_state = state
    if getattr(model, "_tome_hook", None) is not None:
        model._tome_hook.remove()
    model._tome_hook = model.register_forward_pre_hook(lambda m, a: state.update(size=None))
    model._tome_r = r
    return model


def create_deit_tiny(img_size: int = 56, patch_size: int = 4, in_chans: int = 1, num_classes: int = 10,
                     drop_path_rate: float = 0.05) -> nn.Module:
    """A DeiT-Ti-shaped ViT (depth 12, width 192, 3 heads) from timm, untrained. It carries ``img_size`` and
    ``in_chans`` like rmeeto's Vim, so ``rmeeto train`` can feed it."""
    import timm

    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=img_size, patch_size=patch_size,
                              in_chans=in_chans, num_classes=num_classes, drop_path_rate=drop_path_rate)
    model.img_size, model.in_chans = img_size, in_chans
    return model


# Transformer baselines ``rmeeto train --model`` accepts besides the registered Vims (trained from scratch;
# ``--r``/``--ratio`` do not apply: ``patch_vit`` reduces them, in ``rmeeto study vit``)
BASELINES = {"deit_tiny_patch16_224": dict(img_size=224, patch_size=16, in_chans=3, num_classes=1000)}


def create_baseline(name: str, num_classes=None, channels=None, **kwargs) -> nn.Module:
    """A :data:`BASELINES` model; ``channels`` is accepted as the Vim models' name for ``in_chans``."""
    cfg = dict(BASELINES[name])
    if num_classes is not None:
        cfg["num_classes"] = num_classes
    if channels is not None:
        cfg["in_chans"] = channels
    cfg.update(kwargs)
    return create_deit_tiny(**cfg)
