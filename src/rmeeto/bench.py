"""``rmeeto bench``: throughput, speed-up, GFLOPs and memory for several r or ratios at once.

Protocol: a batch of random images, weights cast to the compute dtype with autocast on (as the
official scripts do with ``model.half()``), warm-up iterations, then the median over timed
iterations, each synchronised. ``--timing pipelined`` times as ToMe's ``benchmark`` does instead: the steps
enqueued back to back, one synchronisation after the last, their mean (one figure per round, the median over
rounds); a step's host work then overlaps the GPU work of the one before it. ``--train`` times forward + backward +
AdamW steps instead.
``--rounds N`` interleaves the settings: each is timed N times in turn, on iters/N steps, which keeps a
drift of the host's speed (eager forwards of small models are bound by it) out of the speed-ups.
``--compile MODE`` times ``torch.compile(model, mode=MODE)`` forwards (``none``: eager), compiled afresh for every
setting and round, before the warm-up; a recompile while it is timed is an error, not a figure. ``MODE+frozen``
compiles with Inductor's ``freezing`` (see :func:`rmeeto.compile_for_inference`).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity

from .cli import parse_kv
from .cli_checks import (UsageError, build_model, check_at_least, check_out_file, check_patch, check_r_ratio,
                         plot_extensions, require)
from .compile import compile_for_inference
from .cuda_graphs import GraphedStep, graphed
from .flops import gflops
from .models import create_model
from .ops.dispatch import BACKENDS, available_backends
from .patch import MERGE_RANGE, label_merges, patch, reduction_ratio, unpatch
from .env_info import environment

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
MERGE_IMPLS = ("auto", "torch", "triton")
COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
FROZEN = "+frozen"  # a compile mode's suffix: the weights become constants of the compiled graph
TIMINGS = ("synced", "pipelined")  # every step synchronised; or back to back, as ToMe's benchmark


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# A step whose host part (up to the return of the call that enqueues its work) takes at least this share of the
# synchronised step left the GPU waiting on Python: its speed is the CPU's, and moves with it. (A step that waits for
# the GPU inside itself would read the same; rmeeto's forwards and training steps do not.)
HOST_BOUND_SHARE = 0.9


def _timeit(step, device, warmup: int, iters: int, timing: str = "synced") -> tuple[list[float], list[float]]:
    """Seconds per synchronised step, and seconds per step until ``step()`` returned (its host part); with
    ``timing="pipelined"`` one entry each: the mean over ``iters`` steps enqueued back to back."""
    for _ in range(warmup):
        step()
    _sync(device)
    if timing == "pipelined":
        return _timeit_pipelined(step, device, iters)
    times, host = [], []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        _sync(device)
        host.append(t1 - t0)
        times.append(time.perf_counter() - t0)
    return times, host


def _timeit_pipelined(step, device, iters: int) -> tuple[list[float], list[float]]:
    """ToMe's loop: ``iters`` steps with one synchronisation after the last; the mean step and its mean host part."""
    host = 0.0
    t0 = time.perf_counter()
    for _ in range(iters):
        t = time.perf_counter()
        step()
        host += time.perf_counter() - t
    _sync(device)
    return [(time.perf_counter() - t0) / iters], [host / iters]


def for_inference(model, x: torch.Tensor, dt: torch.dtype) -> torch.Tensor:
    """Put ``model`` in eval mode with its weights in ``dt`` (as the official scripts' ``model.half()``; the
    caller restores fp32 with ``model.float()``) and return ``x`` in ``dt``."""
    model.eval()
    if dt != torch.float32:
        model.to(dt)
    return x.to(dt)


def training_step(model, x: torch.Tensor, dt: torch.dtype, cuda_graph: bool = False) -> Callable[[], None]:
    """One AdamW step on ``x`` with random labels, as a callable (``model`` put in training mode); with
    ``cuda_graph`` the forward and backward replay from a CUDA graph, as ``rmeeto train --cuda-graph`` runs them."""
    model.train()
    y = torch.randint(0, max(model.num_classes, 1), (x.shape[0],), device=x.device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6, fused=x.device.type == "cuda")
    loss_fn = torch.nn.CrossEntropyLoss()

    def loss_and_backward(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, dtype=dt, enabled=dt != torch.float32, cache_enabled=not cuda_graph):
            loss = loss_fn(model(xb), yb)
        loss.backward()
        return loss.detach()
    micro = GraphedStep(loss_and_backward, model.parameters(), static_inputs=True) if cuda_graph else loss_and_backward

    def step():
        micro(x, y)
        opt.step()
        opt.zero_grad(set_to_none=not cuda_graph)
    return step


def compiled_forward(model, x: torch.Tensor, autocast, mode: str) -> Callable[[], torch.Tensor]:
    """An inference step through ``torch.compile(model, mode=mode)``, called once here, so that the compile is not
    timed. Dynamo's caches are reset first: every setting compiles afresh, and none counts against another's
    recompile limit (past it Dynamo would run the forward eagerly, and the figure would not be the compiled one)."""
    torch._dynamo.reset()
    base = mode.removesuffix(FROZEN)
    compiled = compile_for_inference(model, mode=base) if mode.endswith(FROZEN) else torch.compile(model, mode=base)

    def fwd():
        with torch.inference_mode(), autocast:
            return compiled(x)
    fwd()
    return fwd


def measure(model, batch_size: int = 128, device: str = "cuda", dtype: str = "fp16", train: bool = False,
            warmup: int = 20, iters: int = 30, cuda_graph: bool = False, compile_mode: str = "none",
            timing: str = "synced") -> dict:
    """Images per second (median) and peak memory of ``model`` as patched now; on a GPU also ``host_share``, the
    median share of a step spent before its enqueuing call returned (see :data:`HOST_BOUND_SHARE`). With
    ``compile_mode`` (inference only) the forward runs through :func:`compiled_forward`; ``timing`` is one of
    :data:`TIMINGS` (see :func:`_timeit`)."""
    dev = torch.device(device)
    dt = DTYPES[dtype]
    compiled = compile_mode != "none"
    model = model.to(dev)
    x = torch.randn(batch_size, *model.input_shape, device=dev)
    autocast = torch.autocast(dev.type, dtype=dt, enabled=dt != torch.float32)
    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(dev)
    if train:
        step = training_step(model, x, dt, cuda_graph and dev.type == "cuda")
    else:
        xin = for_inference(model, x, dt)

        def fwd():
            with torch.inference_mode(), autocast:
                return model(xin)
        step = fwd
        if compiled:
            step = compiled_forward(model, xin, autocast, compile_mode)
            if dev.type == "cuda":  # not what compiling (max-autotune's trials) allocated
                torch.cuda.reset_peak_memory_stats(dev)
        elif cuda_graph and dev.type == "cuda":
            def fwd_nograd():
                with torch.no_grad(), autocast:
                    return model(xin)
            step = graphed(fwd_nograd, dev, idempotent=True)  # a forward: its replay may run twice
    with torch.compiler.set_stance("fail_on_recompile") if compiled else contextlib.nullcontext():
        times, host = _timeit(step, dev, warmup, iters, timing)
    if compiled:
        torch._dynamo.reset()  # the compiled code holds the fp16 weights
    model.float()
    return {**_summary(times, host, batch_size, dev.type == "cuda"), "step_s": times, "host_s": host,
            "peak_mem_gb": torch.cuda.max_memory_allocated(dev) / 2 ** 30 if dev.type == "cuda" else None,
            "ratio": reduction_ratio(model), "gflops": gflops(model)}


def _summary(times: list[float], host: list[float], batch_size: int, on_gpu: bool) -> dict:
    """Images/s and ms of the median step, and the median host share (GPU only)."""
    med = statistics.median(times)
    # on the CPU every op finishes before it returns, so the host part is the whole step and says nothing
    host_share = statistics.median(h / t for h, t in zip(host, times)) if on_gpu else None
    return {"im_per_s": batch_size / med, "ms_per_batch": med * 1e3, "host_share": host_share}


def combine_rounds(rounds: list[dict], batch_size: int) -> dict:
    """One setting's :func:`measure` results (its rounds) as one: the median over all their timed steps, the
    highest peak memory. The per-step lists ``step_s`` and ``host_s`` are left out."""
    times = [t for r in rounds for t in r["step_s"]]
    host = [h for r in rounds for h in r["host_s"]]
    out = {k: v for k, v in rounds[-1].items() if k not in ("step_s", "host_s")}
    out.update(_summary(times, host, batch_size, out["host_share"] is not None))
    peaks = [r["peak_mem_gb"] for r in rounds if r["peak_mem_gb"] is not None]
    out["peak_mem_gb"] = max(peaks) if peaks else None
    return out


def split_iters(iters: int, rounds: int) -> list[int]:
    """``iters`` timed steps spread over ``rounds`` rounds as evenly as they go."""
    return [iters // rounds + (k < iters % rounds) for k in range(rounds)]


def merge_cost_ms(model, batch_size: int = 128, device: str = "cuda", dtype: str = "fp16", iters: int = 3) -> float:
    """Milliseconds per inference forward spent in the merge blocks' own token reduction (plan + apply), from a
    profile of ``iters`` eager forwards: the device time of the kernels inside the :data:`MERGE_RANGE` ranges on a
    GPU, their CPU time on the CPU. 0 for an unpatched model. With the fused merge's ``merge_norm`` (the default)
    the apply kernel also does the block's residual add + RMSNorm, which an unmerged block runs as a kernel of its
    own; that share is counted here too, so the figure is an upper bound on the merge's own cost."""
    dev = torch.device(device)
    dt = DTYPES[dtype]
    model = model.to(dev)
    x = for_inference(model, torch.randn(batch_size, *model.input_shape, device=dev), dt)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with torch.inference_mode(), torch.autocast(dev.type, dtype=dt, enabled=dt != torch.float32):
        model(x)  # first-call work (compilation, caches) stays out of the profile
        _sync(dev)
        with label_merges(), torch.profiler.profile(activities=activities) as prof:
            for _ in range(iters):
                model(x)
            _sync(dev)
    model.float()
    if dev.type != "cuda":
        return sum(e.cpu_time_total for e in prof.events() if e.name == MERGE_RANGE) / iters / 1e3
    return launched_in_ranges_us(prof.profiler.kineto_results.events(), MERGE_RANGE) / iters / 1e3


_LAUNCH_CALLS = ("cudaLaunch", "cuLaunch", "cudaMemcpy", "cudaMemset", "cuMemcpy", "cuMemset")


def launched_in_ranges_us(events, range_name: str) -> float:
    """Device microseconds of the kernels, copies and memsets launched inside the host-side ranges named
    ``range_name``: each launch call on the host and the work it starts on the device share a CUDA correlation id.
    (The profiler's own grouping attributes a kernel to the torch op that launched it, so a Triton kernel launched
    straight from Python under a plain range was left out; and the device-side copy of a range spans from its
    first kernel's start to its last's end, idle gaps included.)"""
    spans = [(e.start_ns(), e.end_ns()) for e in events
             if e.name() == range_name and e.device_type() == DeviceType.CPU]
    launched = {e.correlation_id() for e in events
                if e.device_type() == DeviceType.CPU and e.name().startswith(_LAUNCH_CALLS)
                and any(a <= e.start_ns() <= b for a, b in spans)}
    return sum(e.duration_ns() for e in events if e.device_type() == DeviceType.CUDA
               and not e.is_user_annotation() and e.correlation_id() in launched) / 1e3


def parse_settings(r: Optional[str], ratio: Optional[str]) -> list[tuple[str, Any]]:
    """``--r 0,5,11`` or ``--ratio 0.14,0.31`` as ``[("r", 0), ...]``, the unmerged row first."""
    if r and ratio:
        raise UsageError("give --r or --ratio, not both")
    kind, text, cast = ("r", r, int) if r else ("ratio", ratio, float)
    try:
        settings = [(kind, cast(v)) for v in text.split(",") if v.strip()] if text else [("r", 0)]
    except ValueError:
        example = "0,5,11" if kind == "r" else "0.14,0.31"
        raise UsageError(f"--{kind} {text!r} is not a comma list of {'integers' if kind == 'r' else 'numbers'}; "
                         f"e.g. --{kind} {example}") from None
    if ("r", 0) not in settings and ("ratio", 0.0) not in settings:
        settings = [("r", 0)] + settings
    return settings


@dataclass
class BenchConfig:
    """What :func:`run_bench` times: ``model`` under each reduction setting (``[("r", 0), ("r", 5)]``
    or ``("ratio", 0.3)``, the unmerged row first), for every scan backend and merge implementation."""
    model: str = "vim_small_patch16_224"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    settings: list[tuple[str, Any]] = field(default_factory=lambda: [("r", 0)])
    mode: str = "merge"
    batch_size: int = 128
    device: str = "cpu"
    dtype: str = "fp16"
    backends: list[str] = field(default_factory=lambda: ["auto"])
    merges: list[str] = field(default_factory=lambda: ["auto"])
    compiles: list[str] = field(default_factory=lambda: ["none"])  # COMPILE_MODES; "none" is eager
    train: bool = False
    cuda_graph: bool = False
    warmup: int = 20
    iters: int = 30
    rounds: int = 1  # interleave: every setting times iters/rounds steps in turn, rounds times
    timing: str = "synced"  # TIMINGS: every step synchronised, or back to back (one figure per round)
    merge_cost: bool = False  # also profile the merge blocks' own work per forward (inference only)


def run_bench(cfg: BenchConfig) -> list[dict]:
    """Time every (backend, merge implementation, compile mode, setting); prints a row each, returns the rows."""
    rows: list[dict] = []
    runs = [(b, m, c) for b in cfg.backends for m in cfg.merges for c in cfg.compiles]
    labels = [_run_label(cfg, *run) for run in runs]
    width = max(14, *map(len, labels))
    for (backend, merge, mode), label in zip(runs, labels):
        _bench_settings(cfg, backend, merge, mode, label, rows, width)
    note = host_bound_note(rows)
    if note:
        print(note)
    return rows


def _run_label(cfg: BenchConfig, backend: str, merge: str, mode: str) -> str:
    """The rows' backend column: the backend, ``/merge`` where several runs differ in it, ``+mode`` if compiled."""
    one_pair = len(cfg.backends) * len(cfg.merges) == 1
    label = backend if one_pair or merge == "auto" else f"{backend}/{merge}"
    return label if mode == "none" else f"{label}+{mode}"


def _bench_settings(cfg: BenchConfig, backend: str, merge: str, mode: str, label: str, rows: list,
                    width: int = 14) -> None:
    """One model, every setting in turn, ``cfg.rounds`` times over (so that a drift in the machine's speed reaches
    every setting alike); speedups are over the first (unpatched) row."""
    model = create_model(cfg.model, **cfg.model_kwargs)
    model.backend = None if backend == "auto" else backend
    model.merge_impl = merge
    done: list[list[dict]] = [[] for _ in cfg.settings]
    base = None
    for rnd, iters in enumerate(split_iters(cfg.iters, cfg.rounds)):
        for (kind, value), results in zip(cfg.settings, done):
            if value:
                patch(model, **{kind: value}, mode=cfg.mode)
            else:
                unpatch(model)
            results.append(measure(model, cfg.batch_size, cfg.device, cfg.dtype, cfg.train, cfg.warmup, iters,
                                   cfg.cuda_graph, mode, cfg.timing))
            if rnd < cfg.rounds - 1:
                continue
            res = combine_rounds(results, cfg.batch_size)
            if cfg.merge_cost:
                res["merge_ms"] = merge_cost_ms(model, cfg.batch_size, cfg.device, cfg.dtype)
            base = base or res["im_per_s"]
            _describe(res, cfg, label, merge, mode, f"{kind}={value}", base)
            rows.append(res)
            print_row(res, header=len(rows) == 1, width=width)


def _describe(res: dict, cfg: BenchConfig, label: str, merge: str, compile_mode: str, setting: str,
              base: float) -> None:
    """Add a row's speed-up over ``base`` images/s, its ideal, and what was run."""
    ideal = 1.0 / (1.0 - res["ratio"])
    res.update(model=cfg.model, backend=label, merge=merge, setting=setting, speedup=res["im_per_s"] / base,
               ideal=ideal, of_ideal=res["im_per_s"] / base / ideal, mode="train" if cfg.train else "infer",
               compile=compile_mode, dtype=cfg.dtype, batch_size=cfg.batch_size, cuda_graph=cfg.cuda_graph,
               rounds=cfg.rounds, timing=cfg.timing)


def print_row(r: dict, header: bool = False, width: int = 14) -> None:
    """One row, the backend column ``width`` wide; with ``merge_ms`` (``--merge-cost``) also the merge blocks' own
    ms per batch and its share. ``host``: the share of a step spent enqueuing it, ``*`` where that makes the row
    host-bound (:func:`host_bound`)."""
    cost = "merge_ms" in r
    if header:
        print(f"{'backend':{width}s} {'setting':10s} {'ratio':>6s} {'GFLOPs':>7s} {'im/s':>9s} {'speedup':>8s} "
              f"{'ideal':>6s} {'of ideal':>8s} {'peak GB':>8s} {'host':>5s}"
              + (f" {'merge ms':>9s} {'share':>6s}" if cost else ""))
    mem = f"{r['peak_mem_gb']:8.2f}" if r["peak_mem_gb"] is not None else f"{'-':>8s}"
    share = r.get("host_share")
    host = f"{share:4.0%}" + ("*" if host_bound(r) else " ") if share is not None else f"{'-':>5s}"
    extra = f" {r['merge_ms']:9.3f} {r['merge_ms'] / r['ms_per_batch']:6.1%}" if cost else ""
    print(f"{r['backend']:{width}s} {r['setting']:10s} {r['ratio']:6.3f} {r['gflops']:7.3f} {r['im_per_s']:9.1f} "
          f"{r['speedup']:7.2f}x {r['ideal']:5.2f}x {r['of_ideal']:7.0%} {mem} {host}{extra}", flush=True)


def host_bound(row: dict) -> bool:
    """Whether a GPU row spent at least :data:`HOST_BOUND_SHARE` of each step enqueuing work: the GPU then waited on
    Python, and the row times the CPU. Never for a pipelined row: there a step's host part also holds any wait for
    room in a full launch queue, so a high share cannot tell the host's bound from the GPU's (a low one still shows
    that the GPU was the bound)."""
    share = row.get("host_share")
    return share is not None and share >= HOST_BOUND_SHARE and row.get("timing", "synced") == "synced"


def host_bound_note(rows: list[dict]) -> Optional[str]:
    """The line printed under a table with host-bound rows, else None."""
    if not any(host_bound(r) for r in rows):
        return None
    return (f"* host-bound: at least {HOST_BOUND_SHARE:.0%} of each step went to enqueuing it, so the GPU waited on "
            "the CPU and these figures follow the CPU's speed; --cuda-graph replays the forward without that cost, "
            "and --rounds N times the settings in turn so that a drift of the CPU's speed reaches them alike")


def plot(rows: list[dict], path: str) -> None:
    import matplotlib  # optional extra ([plot])

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for backend in dict.fromkeys(r["backend"] for r in rows):
        rs = [r for r in rows if r["backend"] == backend]
        ax.plot([r["ratio"] for r in rs], [r["im_per_s"] for r in rs], "o-", label=backend)
        base = rs[0]["im_per_s"]
        ax.plot([r["ratio"] for r in rs], [base * r["ideal"] for r in rs], ":", color="gray")
    ax.set_xlabel("reduction ratio")
    ax.set_ylabel("images / s")
    ax.set_title(f"{rows[0]['model']} ({rows[0]['mode']}, {rows[0]['dtype']}, batch {rows[0]['batch_size']})",
                 fontsize=8)
    ax.legend(title="backend (dotted: ideal)", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def check_bench(cfg: BenchConfig, json_path: Optional[str] = None, plot_path: Optional[str] = None) -> None:
    """Stop before any work on a bad setting (see :mod:`rmeeto.cli_checks`)."""
    try:
        device = torch.device(cfg.device)
    except RuntimeError:
        raise UsageError(f"--device {cfg.device!r} is not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda but no CUDA device is visible; use --device cpu")
    for backend in cfg.backends:
        if backend not in BACKENDS + ("auto",):
            raise UsageError(f"--backend {backend!r} is unknown; choose from auto,{','.join(BACKENDS)}")
        if backend != "auto" and backend not in available_backends(device.type):
            raise UsageError(f"--backend {backend} cannot run on {device.type} here; usable: "
                             f"{','.join(available_backends(device.type))}")
    for merge in cfg.merges:
        if merge not in MERGE_IMPLS:
            raise UsageError(f"--merge {merge!r} is unknown; choose from {','.join(MERGE_IMPLS)}")
    if cfg.merge_cost and cfg.train:
        raise UsageError("--merge-cost profiles inference forwards; drop --train or --merge-cost")
    _check_compiles(cfg)
    if cfg.timing not in TIMINGS:
        raise UsageError(f"--timing {cfg.timing!r} is unknown; choose from {','.join(TIMINGS)}")
    check_at_least(cfg.batch_size, "--batch-size", 1)
    check_at_least(cfg.iters, "--iters", 1)
    check_at_least(cfg.warmup, "--warmup", 0)
    check_at_least(cfg.rounds, "--rounds", 1)
    if cfg.rounds > cfg.iters:
        raise UsageError(f"--rounds {cfg.rounds} needs at least as many --iters (got {cfg.iters}): every round times "
                         "one step or more of each setting")
    if json_path:
        check_out_file(json_path, "--json")
    if plot_path:
        require("bench --plot", "matplotlib")
        check_out_file(plot_path, "--plot", plot_extensions())
    check_r_ratio(r=[v for k, v in cfg.settings if k == "r"])
    check_r_ratio(ratio=[v for k, v in cfg.settings if k == "ratio"])
    model = build_model(cfg.model, cfg.model_kwargs)
    for kind, value in cfg.settings:
        check_patch(model, cfg.model, **{kind: value}, mode=cfg.mode)


def _check_compiles(cfg: BenchConfig) -> None:
    """``--compile``: known modes, inference only, and not with what it would conflict with."""
    for mode in cfg.compiles:
        if mode.removesuffix(FROZEN) not in COMPILE_MODES or mode == "none" + FROZEN:
            raise UsageError(f"--compile {mode!r} is unknown; choose from {','.join(COMPILE_MODES)}, "
                             f"each but none optionally with {FROZEN}")
    if all(mode == "none" for mode in cfg.compiles):
        return
    if cfg.train:
        raise UsageError("--compile times inference forwards; drop --train or --compile")
    if cfg.cuda_graph:
        raise UsageError("--compile and --cuda-graph both replace the eager forward; for compiled CUDA graphs use "
                         "--compile reduce-overhead without --cuda-graph")
    if cfg.merge_cost:
        raise UsageError("--merge-cost profiles eager forwards; drop --compile or --merge-cost")


def cmd_bench(args: argparse.Namespace) -> int:
    cfg = BenchConfig(model=args.model, model_kwargs=parse_kv(args.model_kwargs),
                      settings=parse_settings(args.r, args.ratio), mode=args.mode, batch_size=args.batch_size,
                      device=args.device, dtype=args.dtype, backends=args.backend.split(","),
                      merges=args.merge.split(","), compiles=args.compile.split(","), train=args.train,
                      cuda_graph=args.cuda_graph, warmup=args.warmup, iters=args.iters, rounds=args.rounds,
                      merge_cost=args.merge_cost, timing=args.timing)
    check_bench(cfg, args.json, args.plot)
    rows = run_bench(cfg)
    meta = environment(args.device)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
    if args.plot:
        plot(rows, args.plot)
    return 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="throughput / speedup / GFLOPs / memory for several r or ratios")
    p.add_argument("--model", default="vim_small_patch16_224", help="registered model name")
    p.add_argument("--model-kwargs", nargs="*", default=[], metavar="KEY=VALUE",
                   help="create_model overrides, e.g. depth=4 embed_dim=96 img_size=112")
    p.add_argument("--r", default=None, help="comma list, e.g. 0,5,11 (r=0, unmerged, is always timed first)")
    p.add_argument("--ratio", default=None, help="comma list of reduction ratios instead of --r, e.g. 0.14,0.31")
    p.add_argument("--mode", default="merge", choices=["merge", "prune", "prune-random", "prune-norm"],
                   help="how tokens are reduced")
    p.add_argument("--batch-size", type=int, default=128, help="images per timed forward")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="cuda, cuda:N or cpu (default: cuda if available)")
    p.add_argument("--dtype", default="fp16", choices=sorted(DTYPES), help="compute dtype (autocast)")
    p.add_argument("--backend", default="auto", help="comma list of scan backends: auto,torch,triton,ref")
    p.add_argument("--merge", default="auto",
                   help="comma list of merge implementations: auto (fused Triton on CUDA), torch, triton")
    p.add_argument("--compile", default="none", metavar="MODES",
                   help="comma list of torch.compile modes to time the forward under, e.g. none,default "
                   f"(none: eager; from {','.join(COMPILE_MODES)}; MODE{FROZEN}: the weights compiled in as constants); "
                   "each setting compiles afresh, untimed")
    p.add_argument("--train", action="store_true", help="time forward+backward+AdamW instead")
    p.add_argument("--cuda-graph", action="store_true", help="replay the forward (with --train: the forward and "
                   "backward, as rmeeto train --cuda-graph) from a CUDA graph")
    p.add_argument("--merge-cost", action="store_true",
                   help="also profile what the merge blocks' own work (plan + apply) costs per batch, and its share")
    p.add_argument("--warmup", type=int, default=20, help="untimed iterations before each setting's timed ones")
    p.add_argument("--iters", type=int, default=30, help="timed iterations (the median is reported)")
    p.add_argument("--rounds", type=int, default=1,
                   help="time the settings in turn this many times, iters/rounds steps each (with --warmup each "
                   "time), and report the median over all, so that a drift of the machine's speed reaches every "
                   "setting alike")
    p.add_argument("--timing", default="synced", choices=TIMINGS,
                   help="synced: the median of steps each synchronised (the host's lead before a step's first kernel "
                   "counts); pipelined: ToMe's loop, steps enqueued back to back with one synchronisation, the mean "
                   "per round and the median over rounds")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the rows here")
    p.add_argument("--plot", default=None, metavar="PNG", help="also plot images/s against the ratio here "
                   "(needs matplotlib: pip install 'rmeeto[plot]')")
    p.set_defaults(func=cmd_bench)
