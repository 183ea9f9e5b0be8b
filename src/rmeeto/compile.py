"""``torch.compile`` for inference with the weights compiled in as constants (Inductor's ``freezing``).

A plain ``torch.compile(model)`` lifts every weight to a graph input (415 tensors for Vim-Ti), and the compiled
code checks the size, stride and alignment of each one, and Dynamo guards each one, on every call: host time spent
before the first kernel starts, which a synchronised forward cannot hide. With ``freezing`` the weights become
constants of the graph and the only input is the batch.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, Optional

import torch
import torch._inductor.config as inductor_config


def compile_for_inference(model: torch.nn.Module, mode: Optional[str] = None, module_guards: bool = False,
                          **compile_kwargs: Any) -> Callable[..., Any]:
    """``torch.compile(model, mode=mode, **compile_kwargs)`` with Inductor's ``freezing`` on while it compiles.

    Call the result under ``torch.no_grad()`` or ``torch.inference_mode()``. The compiled graph holds the weights as
    they were at its first call: after changing them (``load_state_dict``, ``.half()``, ``rmeeto.patch`` to another
    r) compile again. Nothing checks that for you unless ``module_guards``: by default Dynamo's guards on the
    modules are cut down to :func:`weight_identity_guards` (the full set cost 0.2-0.4 ms of each synchronised call on
    one H200's host, 2026-12-05), which still tells this model from another instance of its class."""
    options = dict(compile_kwargs.pop("options", None) or {})
    if mode not in (None, "default"):  # torch.compile takes a mode or options, not both
        options = {**torch._inductor.list_mode_options(mode), **options}
    if compile_kwargs.get("backend", "inductor") == "inductor":
        # part of the backend's identity: Dynamo reuses compiled code only under an equal backend, so a plain
        # torch.compile of another instance never runs this frozen graph, nor this model an unfrozen one
        options.setdefault("freezing", True)
    if not module_guards:
        options.setdefault("guard_filter_fn", weight_identity_guards)
    compiled = torch.compile(model, options=options or None, **compile_kwargs)

    @functools.wraps(model.forward)
    def forward(*args: Any, **kwargs: Any) -> Any:
        if torch.is_grad_enabled():
            raise RuntimeError("compile_for_inference: call the model under torch.no_grad() or "
                               "torch.inference_mode(), or compile it with torch.compile to train it")
        # Dynamo reads the global setting while tracing (to keep the weights out of the graph's inputs), so it is
        # on for every call: any call may be the one that compiles
        before, inductor_config.freezing = inductor_config.freezing, True
        try:
            return compiled(*args, **kwargs)
        finally:
            inductor_config.freezing = before
    return forward


def weight_identity_guards(entries: list) -> list[bool]:
    """Dynamo's ``guard_filter_fn`` for frozen graphs: the guards on modules are dropped (as by
    ``torch.compiler.skip_guard_on_all_nn_modules_unsafe``) but one, the identity of the weight nearest the root
    module (``cls_token`` on Vim). A frozen graph holds its weights as constants: with no such guard, another instance
    of the same class (same ``r``) passed the remaining guards and ran this graph, giving this model's logits for its
    own (found on 2026-12-06). One identity costs about 4 us a call on this package's CPU machine; all 415 of Vim-Ti,
    31-128 us (``scripts/profile_guards.py``)."""
    on_modules = [e.orig_guard.source.is_unspecialized_nn_module() for e in entries]
    weights = [i for i, e in enumerate(entries) if on_modules[i] and e.guard_type == "ID_MATCH" and e.has_value
               and isinstance(e.value, torch.Tensor)]
    keep = min(weights, key=lambda i: (len(entries[i].name), entries[i].name), default=-1)
    return [i == keep or not on_modules[i] for i in range(len(entries))]


def inductor_call_inputs(code: str) -> int:
    """How many inputs the ``call`` of Inductor's generated ``code`` (from ``run_and_get_code``) takes: 1 where only
    the batch is left, the batch and every weight otherwise; -1 where the code has no such function."""
    call = re.search(r"def call\(self, args\):\n\s+(.*?) = args", code)
    return call.group(1).strip(" ,").count(",") + 1 if call else -1
