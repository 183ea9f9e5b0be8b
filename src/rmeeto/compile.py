"""``torch.compile`` for inference with the weights compiled in as constants (Inductor's ``freezing``).

A plain ``torch.compile(model)`` lifts every weight to a graph input (415 tensors for Vim-Ti), and the compiled
code checks the size, stride and alignment of each one, and Dynamo guards each one, on every call: host time spent
before the first kernel starts, which a synchronised forward cannot hide. With ``freezing`` the weights become
constants of the graph and the only input is the batch. Direct calls go further: once a graph of the whole
forward is compiled and checked, later calls with a like batch run it without entering Dynamo at all.
"""
from __future__ import annotations

import dis
import functools
import inspect
import re
import types
from typing import Any, Callable, Optional

import torch
import torch._inductor.config as inductor_config


def compile_for_inference(model: torch.nn.Module, mode: Optional[str] = None, module_guards: bool = False,
                          direct_calls: Optional[bool] = None, **compile_kwargs: Any) -> Callable[..., Any]:
    """``torch.compile(model, mode=mode, **compile_kwargs)`` with Inductor's ``freezing`` on while it compiles.

    Call the result under ``torch.no_grad()`` or ``torch.inference_mode()``. The compiled graph holds the weights as
    they were at its first call: after changing them (``load_state_dict``, ``.half()``, ``rmeeto.patch`` to another
    r) compile again. Nothing checks that for you unless ``module_guards``: by default Dynamo's guards on the
    modules are cut down to :func:`weight_identity_guards` (the full set cost 0.2-0.4 ms of each synchronised call on
    one H200's host, 2026-12-05), which still tells this model from another instance of its class.

    With ``direct_calls`` (the default unless ``module_guards`` or a mode with CUDA graphs) a forward that Dynamo
    compiled whole, with a batch as its one input, is called directly on later calls with a batch of the same
    shape, strides, dtype and device under the same global state (:class:`DirectCalls`): Dynamo's frame entry and
    guards, Python run before the first kernel, are skipped. (CUDA graph trees count Dynamo's entries to tell one
    call from the next, so graphed modes keep them.)"""
    options = dict(compile_kwargs.pop("options", None) or {})
    backend = compile_kwargs.pop("backend", "inductor")
    if backend == "inductor":
        # part of the backend's identity: Dynamo reuses compiled code only under an equal backend, so a plain
        # torch.compile of another instance never runs this frozen graph, nor this model an unfrozen one
        options.setdefault("freezing", True)
    guards = {} if module_guards else {"guard_filter_fn": options.pop("guard_filter_fn", weight_identity_guards)}
    mode_options = torch._inductor.list_mode_options(mode) if mode not in (None, "default") else {}
    graphed = {**mode_options, **options}.get("triton.cudagraphs")
    if direct_calls and (module_guards or graphed or not _HAS_STATE_QUERIES):
        raise ValueError("compile_for_inference: direct_calls skip Dynamo's guards and entry, so they cannot go with "
                         "module_guards, a mode with CUDA graphs or torch < 2.4; leave direct_calls unset")
    if direct_calls is None:
        direct_calls = _HAS_STATE_QUERIES and not (module_guards or graphed)
    if direct_calls:
        capture = GraphCapture(backend, mode, options, compile_kwargs.get("dynamic"))
        compiled = torch.compile(model, backend=capture, options=guards or None, **compile_kwargs)
        direct = DirectCalls(capture, model)
    else:
        options = {**mode_options, **options}  # torch.compile takes a mode or options, not both
        compiled = torch.compile(model, backend=backend, options={**options, **guards} or None, **compile_kwargs)
        direct = None

    @functools.wraps(model.forward)
    def forward(*args: Any, **kwargs: Any) -> Any:
        if torch.is_grad_enabled():
            raise RuntimeError("compile_for_inference: call the model under torch.no_grad() or "
                               "torch.inference_mode(), or compile it with torch.compile to train it")
        key = call_key(args, kwargs) if direct is not None else None
        fn = direct.graphs.get(key) if key is not None else None
        if fn is not None:
            return fn(args[0])[0]
        seen = direct.mark() if key is not None else None
        # Dynamo reads the global setting while tracing (to keep the weights out of the graph's inputs), so it is
        # on for every call through it: any such call may be the one that compiles
        before, inductor_config.freezing = inductor_config.freezing, True
        try:
            out = compiled(*args, **kwargs)
        finally:
            inductor_config.freezing = before
        return direct.adopt(key, seen, args[0], out) if seen is not None else out
    forward.direct_calls = direct  # type: ignore[attr-defined]
    return forward


def _first_parameter(model: torch.nn.Module) -> Optional[str]:
    """The name of the first parameter of ``model.forward`` (the batch), if it has one."""
    params = list(inspect.signature(model.forward).parameters.values())
    return params[0].name if params and params[0].kind in (params[0].POSITIONAL_ONLY,
                                                           params[0].POSITIONAL_OR_KEYWORD) else None


class GraphCapture:
    """A Dynamo backend that compiles as ``torch.compile(backend=backend, mode=mode, options=options)`` does, and
    keeps every compiled graph's callable with the forward parameter each of its inputs comes from (``None`` for
    an input that is not one: a weight, a size)."""

    def __init__(self, backend: Any, mode: Optional[str], options: dict, dynamic: Optional[bool]) -> None:
        if backend == "inductor":
            self.inner = torch._TorchCompileInductorWrapper(mode, options, dynamic)
        else:
            self.inner = torch._TorchCompileWrapper(backend, mode, options, dynamic)
        self.graphs: list[tuple[Callable[..., Any], list[Optional[str]]]] = []

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: list) -> Callable[..., Any]:
        from torch._dynamo.source import LocalSource

        sources = [getattr(n.meta.get("grapharg"), "source", None) for n in gm.graph.nodes if n.op == "placeholder"]
        names = [s.local_name if isinstance(s, LocalSource) and s.is_input else None for s in sources]
        fn = self.inner(gm, example_inputs)
        self.graphs.append((fn, names))
        return fn


# what call_key reads of the global state (torch >= 2.4); without them direct calls are off
_HAS_STATE_QUERIES = hasattr(torch, "get_autocast_dtype") and hasattr(torch._C, "_len_torch_dispatch_stack")


def call_key(args: tuple, kwargs: dict) -> Optional[tuple]:
    """What a direct call must match: the batch's shape, strides, dtype, device and flags, and the global state
    that Dynamo guards (inference mode, autocast, default dtype, determinism, active modes); ``None``
    unless the call is ``forward(batch)``."""
    if kwargs or len(args) != 1 or type(args[0]) is not torch.Tensor:
        return None
    x, dev = args[0], args[0].device.type
    return (x.shape, x.stride(), x.dtype, x.device, x.requires_grad, x.is_inference(),
            torch.is_inference_mode_enabled(), torch.is_autocast_enabled(dev),
            torch.get_autocast_dtype(dev), torch.get_default_dtype(), torch.are_deterministic_algorithms_enabled(),
            torch._C._len_torch_function_stack(), torch._C._len_torch_dispatch_stack())


_WRITES = {"STORE_ATTR", "STORE_SUBSCR", "STORE_SLICE", "STORE_GLOBAL", "STORE_DEREF", "STORE_NAME", "DELETE_ATTR",
           "DELETE_SUBSCR", "DELETE_GLOBAL", "DELETE_DEREF", "DELETE_NAME", "IMPORT_NAME"}
_DYNAMO_HELPERS = {"record_pregraph_bytecode_enter", "record_pregraph_bytecode_exit"}  # its own timing marks


def only_calls_its_graph(code: types.CodeType) -> bool:
    """Whether the code Dynamo wrote for a frame does nothing but call its compiled graph: no attribute, item or
    global written and no other function called (a forward's side effects, ``self.calls += 1``, are replayed there,
    outside the graph)."""
    for ins in dis.get_instructions(code):
        if ins.opname in _WRITES:
            return False
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and not str(ins.argval).startswith(
                ("__compiled_fn", "__import_torch_dot__dynamo_dot_utils")):
            return False
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and ins.argval not in _DYNAMO_HELPERS:
            return False
    return True


def _forward_code(model: torch.nn.Module) -> Optional[types.CodeType]:
    """The code object of ``model.forward``, the frame Dynamo compiles."""
    return getattr(getattr(model.forward, "__func__", model.forward), "__code__", None)


class DirectCalls:
    """Compiled graphs that later calls with the same :func:`call_key` run without Dynamo. A graph is adopted only
    when the call that compiled it compiled no other graph and broke no graph, the code Dynamo wrote for the
    forward only calls graphs (:func:`only_calls_its_graph`), the batch is the graph's only input, and run directly
    on the same batch the graph returns the forward's output exactly."""

    def __init__(self, capture: GraphCapture, model: torch.nn.Module) -> None:
        self.capture, self.batch_name, self.code = capture, _first_parameter(model), _forward_code(model)
        self.graphs: dict[tuple, Callable[..., Any]] = {}

    def _forward_is_pure(self) -> bool:
        from torch._C._dynamo.eval_frame import _debug_get_cache_entry_list

        entries = _debug_get_cache_entry_list(self.code) if self.code is not None else []
        return bool(entries) and all(only_calls_its_graph(e.code) for e in entries)

    def mark(self) -> tuple[int, int]:
        """The number of graphs captured and of graph breaks so far, before a call through Dynamo."""
        return len(self.capture.graphs), sum(torch._dynamo.utils.counters["graph_break"].values())

    def adopt(self, key: tuple, seen: tuple[int, int], x: torch.Tensor, out: Any) -> Any:
        """``out``, or the adopted graph's own output for ``x`` where the graph that gave ``out`` is adopted."""
        if self.mark() != (seen[0] + 1, seen[1]) or not isinstance(out, torch.Tensor):
            return out
        fn, names = self.capture.graphs[-1]
        if names != [self.batch_name] or not self._forward_is_pure():
            return out
        want = out.clone()  # a backend may hand the same output buffer to the checking run below
        got = fn(x)
        if not (isinstance(got, (list, tuple)) and len(got) == 1 and isinstance(got[0], torch.Tensor)
                and got[0].shape == want.shape and torch.equal(got[0], want)):
            return want
        self.graphs[key] = fn
        return got[0]


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
