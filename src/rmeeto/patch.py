"""``rmeeto.patch(model, r=...)`` / ``rmeeto.unpatch(model)``: token reduction as a class swap.

As in tomesd, patching swaps the classes of the model and its blocks for subclasses made on the
fly (``_parent`` remembers the original), so no weight moves and the ``state_dict`` is unchanged.
Patching again first unpatches; ``unpatch`` restores the original classes exactly.

The per-layer schedule is computed from the settings and the token count at the start of each
forward and handed to the blocks in the explicit per-forward :class:`TokenState`.
"""
from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field, fields
from typing import Iterator, Optional, Sequence, Union

import torch
from torch import nn

from .merge import CLS_PLACEMENTS, DISTANCES, MODES, ORDERS, follow_groups, max_r, merge_tokens, plan_merge
from .ops import settings as kernel_settings
from .ops.dispatch import fused_merge, merge_impl

METRICS = ("hidden", "residual", "delta", "B", "C")
SCHEDULES = (None, "official")
OFFICIAL_KEEP = 197 - 11 * 11  # tokens left after the last merge in R-MeeTo's released code


@dataclass
class PatchConfig:
    """Settings of a patch; ``asdict`` of it is what checkpoints store."""

    r: Union[int, list, None] = None
    ratio: Optional[float] = None
    interval: int = 2
    first: int = 2
    mode: str = "merge"
    order: str = "keep"
    metric: str = "hidden"
    distance: str = "cosine"
    cls: str = "proportional"
    schedule: Optional[str] = None
    track_groups: bool = False
    _resolved: dict = field(default_factory=dict, repr=False, compare=False)


def merge_layers(depth: int, first: int = 2, interval: int = 2) -> list[int]:
    """Blocks that merge at their start: first, first+interval, ... < depth."""
    return list(range(first, depth, interval)) if interval > 0 else []


def resolve_schedule(cfg: PatchConfig, depth: int, num_tokens: int) -> list[int]:
    """The r that each block applies at its start (0 for none), capped to what can merge."""
    layers = merge_layers(depth, cfg.first, cfg.interval)
    if isinstance(cfg.r, (list, tuple)):
        if len(cfg.r) == depth:
            wanted = list(cfg.r)
        elif len(cfg.r) == len(layers):
            wanted = [0] * depth
            for i, r in zip(layers, cfg.r):
                wanted[i] = r
        else:
            raise ValueError(f"a per-layer r list needs {len(layers)} entries (one per merge block "
                             f"{layers}) or {depth} (one per block); got {len(cfg.r)}")
    else:
        wanted = [(cfg.r or 0) if i in layers else 0 for i in range(depth)]
    out, t = [], num_tokens
    last = layers[-1] if layers else None
    for i, r in enumerate(wanted):
        if cfg.schedule == "official" and i == last and depth - i <= cfg.interval:
            r = max(t - (num_tokens - (197 - OFFICIAL_KEEP)), 0)
        r = max(0, min(int(r), max_r(t)))
        out.append(r)
        t -= r
    return out


def tokens_per_block(schedule: Sequence[int], num_tokens: int) -> list[int]:
    """Tokens each block processes (after its own merge)."""
    out, t = [], num_tokens
    for r in schedule:
        t -= r
        out.append(t)
    return out


def ratio_of(schedule: Sequence[int], num_tokens: int) -> float:
    """Paper's reduction ratio: 1 - mean tokens per block / initial tokens."""
    counts = tokens_per_block(schedule, num_tokens)
    return 1.0 - sum(counts) / (len(counts) * num_tokens)


def r_for_ratio(ratio: float, cfg: PatchConfig, depth: int, num_tokens: int) -> int:
    """The constant r whose reduction ratio is closest to ``ratio``."""
    trial = PatchConfig(**{**_public(cfg), "ratio": None})
    best, best_err, top = 0, float("inf"), 0.0
    for r in range(0, max_r(num_tokens) + 1):
        trial.r = r
        got = ratio_of(resolve_schedule(trial, depth, num_tokens), num_tokens)
        top = max(top, got)
        if abs(got - ratio) < best_err - 1e-12:
            best, best_err = r, abs(got - ratio)
    if ratio > top + 0.005:
        raise ValueError(f"ratio={ratio} cannot be reached: the most this schedule gives is {top:.3f} "
                         f"(merging every {cfg.interval} blocks from block {cfg.first}). Lower the ratio "
                         "or merge more often (interval=1).")
    return best


def _public(cfg: PatchConfig) -> dict:
    return {k: v for k, v in asdict(cfg).items() if not k.startswith("_")}


_PUBLIC_FIELDS = tuple(f.name for f in fields(PatchConfig) if not f.name.startswith("_"))


def _settings_key(cfg: PatchConfig) -> str:
    """The public settings as a string, for the per-forward schedule cache: ``asdict`` deep-copies the cached
    schedule too, a third of a millisecond of host time per forward; the field names are read once."""
    return repr(tuple(getattr(cfg, name) for name in _PUBLIC_FIELDS))


def _is_vim(model: nn.Module) -> bool:
    return hasattr(model, "layers") and hasattr(model, "patch_embed") and hasattr(model, "new_state") \
        and all(hasattr(b, "mixer") and hasattr(b, "layer_idx") for b in model.layers)


def _validate(cfg: PatchConfig, model: nn.Module) -> None:
    for name, value, allowed in (("mode", cfg.mode, MODES), ("order", cfg.order, ORDERS),
                                 ("metric", cfg.metric, METRICS), ("distance", cfg.distance, DISTANCES),
                                 ("cls", cfg.cls, CLS_PLACEMENTS), ("schedule", cfg.schedule, SCHEDULES)):
        if value not in allowed:
            raise ValueError(f"unknown {name}={value!r}; choose one of {allowed}")
    if cfg.cls == "spatial" and cfg.order != "keep":
        raise ValueError("cls='spatial' needs order='keep' (a shuffled order has no true place)")
    if cfg.interval < 1 or cfg.first < 0:
        raise ValueError(f"interval must be >= 1 and first >= 0 (got interval={cfg.interval}, first={cfg.first})")
    if cfg.r is not None and cfg.ratio is not None:
        raise ValueError("give either r or ratio, not both")
    n0 = model.num_tokens
    rs = cfg.r if isinstance(cfg.r, (list, tuple)) else [cfg.r or 0]
    for r in rs:
        if not isinstance(r, int) or isinstance(r, bool):
            raise TypeError(f"r must be an int or a list of ints, got {r!r}")
        if r < 0:
            raise ValueError(f"r={r} is negative; use r=0 for no merging")
        if r > max_r(n0):
            raise ValueError(f"r={r} is too large: with {n0} tokens at most {max_r(n0)} can merge in one "
                             "step (half of the non-class tokens). Use a smaller r or ratio.")
    if cfg.ratio is not None:
        if not 0.0 <= cfg.ratio < 1.0:
            raise ValueError(f"ratio={cfg.ratio} must be in [0, 1)")
        r_for_ratio(cfg.ratio, cfg, len(model.layers), n0)  # raises if out of reach
    if isinstance(cfg.r, list):
        resolve_schedule(cfg, len(model.layers), n0)  # raises on a bad per-layer list


def _metric(name: str, hidden, residual, state):
    """What tokens are compared on: the block's input, its residual, or the previous block's SSM values."""
    if name == "hidden":
        return hidden
    if name == "residual":
        return hidden if residual is None else residual
    value = getattr(state.aux, name, None) if state.aux is not None else None
    if value is None:
        raise RuntimeError(f"metric {name!r} needs the previous block's SSM values; merge from block 1 or later")
    return value


MERGE_RANGE = "rmeeto::merge"
_labelled = [False]  # see label_merges


@contextlib.contextmanager
def label_merges() -> Iterator[None]:
    """Within the block, every token reduction runs inside a ``torch.profiler.record_function`` range named
    :data:`MERGE_RANGE`, so a profile shows what the merge blocks' own work costs (``rmeeto bench
    --merge-cost``). Outside it the forward takes no range."""
    _labelled[0] = True
    try:
        yield
    finally:
        _labelled[0] = False


class MergeBlockMixin:
    """Modifications: reduce the tokens at the start of the block, before the add + norm + mixer."""

    def forward(self, hidden, residual, state, backend=None):
        r = state.schedule[self.layer_idx]
        if r <= 0:
            return self._parent.forward(self, hidden, residual, state, backend)
        label = torch.profiler.record_function(MERGE_RANGE) if _labelled[0] else contextlib.nullcontext()
        with label:
            normed, hidden, residual = self._reduce_tokens(hidden, residual, state, backend, r)
        if normed is not None:  # the fused merge did the block's residual add + norm as well
            return self.mix(normed, residual, state, backend)
        return self._parent.forward(self, hidden, residual, state, backend)

    def _reduce_tokens(self, hidden, residual, state, backend, r: int):
        """Merge or prune ``r`` tokens of ``hidden`` and ``residual``; updates the sizes, groups and class
        token position in ``state``. Returns ``(normed, hidden, residual)``: ``normed`` is None unless the
        fused merge also did the block's residual add + RMSNorm (then ``hidden`` is None)."""
        cfg: PatchConfig = self._rmeeto_cfg
        metric = _metric(cfg.metric, hidden, residual, state)
        fused = fused_merge(state.merge_impl, backend, metric, hidden, residual, state.cls_index, cfg.mode,
                            cfg.order, cfg.distance, cfg.cls)
        normed = None
        with_norm = fused is not None and residual is not None and hasattr(self, "mix") and \
            kernel_settings.current().merge_norm
        if with_norm and state.groups is None and fused.merge_once_applies(metric, hidden, residual, self.norm.weight,
                                                                           cfg.mode):
            # inference: plan, merge, add and norm in one launch (no plan object to follow groups with)
            normed, residual, state.size, state.cls_index = fused.merge_add_norm_once(
                metric, self.drop_path(hidden), residual, self.norm.weight, self.norm.eps, r, state.cls_index,
                state.size, cfg.mode)
            return normed, None, residual
        if fused is not None:
            plan = fused.merge_plan(metric, r, state.cls_index, state.size, cfg.mode)
            if with_norm:
                normed, residual = fused.merge_add_norm(plan, self.drop_path(hidden), residual, self.norm.weight,
                                                        self.norm.eps)
                hidden = None
            else:
                hidden, residual = fused.merge_apply(plan, hidden, residual)
            state.size = plan.new_size
        else:
            plan = plan_merge(metric, r, state.cls_index, cfg.mode, cfg.order, cfg.distance, cfg.cls)
            if plan is not None:
                size = state.size if state.size is not None else \
                    torch.ones(hidden.shape[0], hidden.shape[1], 1, device=hidden.device)
                state.size, hidden, residual = merge_tokens(plan, size, hidden, residual)
        if plan is not None:
            if state.groups is not None:
                state.groups = follow_groups(plan, state.groups.expand(metric.shape[0], -1))
            state.cls_index = plan.cls_index
        return normed, hidden, residual


class MergeModelMixin:
    """Modifications: the merge schedule of each forward (resolved when patched, then cached); ``r`` as a settable
    attribute."""

    def merge_schedule(self) -> list[int]:
        """The per-block r, resolved once per token count, depth and settings (cached on the patch's settings).
        :func:`patch` and the ``r`` setter resolve it at once: resolved inside a compiled forward, it would leave a
        guard that fails on the next call, and the model would compile twice."""
        cfg: PatchConfig = self._rmeeto_cfg
        key = (self.num_tokens, len(self.layers), _settings_key(cfg))
        if cfg._resolved.get("key") != key:
            c = cfg
            if cfg.ratio is not None:
                c = PatchConfig(**{**_public(cfg), "ratio": None,
                                   "r": r_for_ratio(cfg.ratio, cfg, len(self.layers), self.num_tokens)})
            cfg._resolved = {"key": key, "schedule": resolve_schedule(c, len(self.layers), self.num_tokens)}
        return cfg._resolved["schedule"]

    def new_state(self, cls_index):
        state = self._parent.new_state(self, cls_index)
        cfg: PatchConfig = self._rmeeto_cfg
        state.schedule = self.merge_schedule()
        state.merge_impl = merge_impl(getattr(self, "merge_impl", None))  # once per forward
        state.want_aux = cfg.metric in ("delta", "B", "C")
        if cfg.track_groups:
            state.groups = torch.arange(self.num_tokens, device=self.pos_embed.device).expand(1, -1)
        return state

    @property
    def r(self):
        return self._rmeeto_cfg.r

    @r.setter
    def r(self, value):
        new = PatchConfig(**{**_public(self._rmeeto_cfg), "r": value, "ratio": None})
        _validate(new, self)
        self._rmeeto_cfg.r, self._rmeeto_cfg.ratio = value, None
        self.merge_schedule()


def _swap(module: nn.Module, mixin: type, cfg: PatchConfig) -> None:
    parent = module.__class__
    module.__class__ = type(f"RMeeTo{parent.__name__}", (mixin, parent), {"_parent": parent})
    module._rmeeto_cfg = cfg


def unpatch(model: nn.Module) -> nn.Module:
    """Undo :func:`patch`; a no-op on an unpatched model."""
    for m in model.modules():
        if hasattr(m.__class__, "_parent") and hasattr(m, "_rmeeto_cfg"):
            m.__class__ = m.__class__._parent
            del m._rmeeto_cfg
    return model


def patch(model: nn.Module, r: Union[int, Sequence[int], None] = None, ratio: Optional[float] = None,
          interval: int = 2, first: int = 2, mode: str = "merge", order: str = "keep",
          metric: str = "hidden", distance: str = "cosine", cls: str = "proportional",
          schedule: Optional[str] = None, track_groups: bool = False) -> nn.Module:
    """Make ``model`` reduce tokens (R-MeeTo), in place; returns the same object.

    - ``r``: tokens removed at each merge block (int), or a list per merge block / per block.
    - ``ratio``: instead of r, the paper's reduction ratio to reach (picks the closest constant r).
    - ``interval``/``first``: merge at the start of blocks first, first+interval, ... (2, 4, ..., 22).
    - ``mode``: ``merge`` (size-weighted average), ``prune`` (drop the matched sources),
      ``prune-random`` (drop r random sources), ``prune-norm`` (drop the r lowest-norm sources).
    - ``order``: ``keep`` original token order, or ``shuffle`` (the paper's odd-even ablation).
    - ``metric``: block input ``hidden``, ``residual`` stream, or the previous block's SSM ``delta``/``B``/``C``.
    - ``distance``: ``cosine``, ``l1`` or ``l2`` on the L2-normalised metric.
    - ``cls``: ``proportional`` re-insertion (published) or ``spatial`` (its true place).
    - ``schedule="official"``: like R-MeeTo's released code, the last merge block cuts to 197-121=76 tokens.
    - ``track_groups``: record which patch ended in which token (for :mod:`rmeeto.vis`).
    """
    if not _is_vim(model):
        raise TypeError(f"rmeeto.patch expects a Vision Mamba model from rmeeto.create_model, got "
                        f"{type(model).__name__}")
    unpatch(model)
    if isinstance(r, tuple):
        r = list(r)
    cfg = PatchConfig(r=r, ratio=ratio, interval=interval, first=first, mode=mode, order=order, metric=metric,
                      distance=distance, cls=cls, schedule=schedule, track_groups=track_groups)
    _validate(cfg, model)
    _swap(model, MergeModelMixin, cfg)
    for block in model.layers:
        _swap(block, MergeBlockMixin, cfg)
    model.merge_schedule()
    return model


def patch_settings(model: nn.Module) -> Optional[dict]:
    """The keyword arguments that re-create ``model``'s patch, or None if unpatched."""
    cfg = getattr(model, "_rmeeto_cfg", None)
    if cfg is None or not isinstance(model, MergeModelMixin):
        return None
    out = _public(cfg)
    out.pop("track_groups")
    return out


def schedule_of(model: nn.Module) -> list[int]:
    """The per-block r the model applies now (all zeros when unpatched)."""
    if not isinstance(model, MergeModelMixin):
        return [0] * len(model.layers)
    return model.new_state(model.num_tokens // 2).schedule


def reduction_ratio(model: nn.Module) -> float:
    """The paper's reduction ratio of ``model`` as patched: 1 - mean tokens per block / initial tokens."""
    return ratio_of(schedule_of(model), model.num_tokens)
