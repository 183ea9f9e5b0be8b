"""The re-training loop behind ``rmeeto train`` (single process, torchrun, multi-node).

Determinism (what makes ``--resume`` exact): the data order is a function of (seed, epoch)
(:class:`rmeeto.data.TrainSampler`), each sample's augmentation RNG is seeded from
(seed, epoch, index) (:class:`rmeeto.data.SeededDataset`), and before every micro-batch the
global Python/NumPy/torch RNGs (mixup, drop-path, the GPU pipeline) are re-seeded from
(seed, rank, micro-step). A checkpoint stores the position inside the epoch, so a resumed run
replays exactly the same computation as an uninterrupted one.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from timm.utils import ModelEmaV3
from torch import nn

from ..baselines.vit_tome import BASELINES, create_baseline
from ..checkpoint import CheckpointError, UnsafeCheckpointError, atomic_save, check_state_dict, read_checkpoint
from ..cli_checks import UsageError, build_model as build_checked
from ..cuda_graphs import WARMUP_STEPS, GraphedStep
from ..models.vim import VisionMamba
from ..data import (DataError, build_criterion, build_dataset, build_eval_loader, build_mixup,
                    build_train_loader, dataset_classes, gpu_pipelines, make_subset, split_holdout,
                    to_device_batch)
from ..patch import patch, patch_settings, reduction_ratio, unpatch
from . import elastic, faults, run_dir
from .config import ModelConfig, TrainConfig
from .dist import (GRAPH_WARMUP_STEPS, DistInfo, all_reduce_sum, barrier, broadcast_object, cleanup,
                   init_distributed, wrap_ddp)
from .errors import NonFiniteLoss, TrainError
from .losses import DistillationLoss
from .run_dir import CHECKPOINT_NAME, StartPlan
from .schedule import CosineWarmupLR
from .state import atomic_write_text, rng_state, seed_everything, set_rng_state, step_seed
from .video import apply_layer_decay, forward_views, skipped_videos, video_options


# ----------------------------------------------------------------------------- helpers

def _crowded_workers(workers: int, local_procs: int) -> Optional[str]:
    """A warning when loader workers leave no CPU core for the training processes themselves."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers * local_procs + local_procs <= cores:
        return None
    fit = max(1, cores // local_procs - 1)
    return (f"{local_procs} process(es) x --workers {workers} loader workers on {cores} CPU cores leave no core "
            f"for the training loop itself; try --workers {fit}")


_ECHO: contextvars.ContextVar[Callable[..., None]] = contextvars.ContextVar("rmeeto_train_echo", default=print)


def log(info: Optional[DistInfo], *msg) -> None:
    """Print on rank 0 (nothing inside ``train(..., quiet=True)``)."""
    if info is None or info.is_main:
        _ECHO.get()(*msg, flush=True)


def amp_dtype(amp: Optional[str], device: torch.device) -> Optional[torch.dtype]:
    if amp is None:
        amp = "bf16" if device.type == "cuda" else "off"
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "off": None}[amp]


def autocast(device: torch.device, dtype: Optional[torch.dtype], cache: bool = True):
    """``cache=False`` for a CUDA graph capture: autocast's cache of cast weights would outlive the capture."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype, cache_enabled=cache)


def build_model(args: ModelConfig, drop_path: float = 0.0, teacher: bool = False) -> nn.Module:
    """``rmeeto.create_model`` from the model settings (``drop_path``: the stochastic depth rate unless
    ``model_kwargs`` sets ``drop_path_rate``; a ``teacher`` has none); a bad name, bad kwargs or a
    checkpoint that cannot be read or does not fit the model is re-raised as a one-line :class:`TrainError`."""
    kw = dict(args.model_kwargs or {})
    kw.update({k: getattr(args, k) for k in ("num_frames", "kernel_size") if getattr(args, k) is not None})
    kw["drop_path_rate"] = 0.0 if teacher else kw.get("drop_path_rate", drop_path)
    if args.model in BASELINES:
        if args.pretrained:
            raise TrainError(f"--pretrained applies to the Vim models; --model {args.model} is a Transformer "
                             "baseline that trains from scratch")
        try:
            return create_baseline(args.model, num_classes=args.num_classes, **kw)
        except TypeError as e:
            raise TrainError(f"cannot build --model {args.model} with --model-kwargs {kw}: {e}") from e
    try:
        return build_checked(args.model, kw, pretrained=args.pretrained, num_classes=args.num_classes,
                             trust_checkpoint=args.trust_checkpoint)
    except UsageError as e:
        raise TrainError(str(e)) from e


def require_vim(model: nn.Module, name: str) -> None:
    """Token merging (``--r``/``--ratio``) patches Vim models only."""
    if not isinstance(model, VisionMamba):
        raise TrainError(f"--r/--ratio merge tokens of Vim models; --model {name} is a Transformer baseline "
                         "(rmeeto study vit reduces it ToMe-style)")


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


@torch.inference_mode()
def evaluate(model: nn.Module, loader, info: Optional[DistInfo] = None, dtype: Optional[torch.dtype] = None,
             pipeline=None, view_average: str = "logits", progress=None, timed: bool = False) -> dict:
    """Top-1/top-5/loss over the (sharded) loader; all ranks get the global numbers, computed
    from summed counts so uneven shards are weighted correctly. Multi-view video batches are
    scored on their views' average (:func:`forward_views`). Without ``info``: one process, on the
    model's device. ``progress``: a bar advanced by each batch's samples (``update(n)``).
    ``timed`` adds ``seconds`` and ``images_per_s`` of this rank's forward passes alone
    (synchronised; an untimed forward of the first batch keeps one-off set-up out)."""
    if info is None:
        info = DistInfo(device=next(model.parameters()).device)
    was_training = model.training
    model.eval()
    dev = info.device
    acc = torch.zeros(4, dtype=torch.float64, device=dev)  # correct1, correct5, n, loss_sum
    seconds, timed_n, warm = 0.0, 0, not timed
    for batch in loader:
        x, y = to_device_batch(batch, dev, pipeline)
        with autocast(dev, dtype):
            if not warm:  # Triton compilation on CUDA, lazy set-up on the CPU (16 samples are enough there)
                forward_views(model, x if dev.type == "cuda" else x[:16], view_average)
                warm = True
            if timed:
                _sync(dev)
            t0 = time.perf_counter()
            out = forward_views(model, x, view_average)
            if timed:
                _sync(dev)
                seconds += time.perf_counter() - t0
                timed_n += y.numel()
        out = out.float()
        k = min(5, out.shape[-1])
        hit = out.topk(k, dim=-1).indices == y[:, None]
        acc[0] += hit[:, 0].sum()
        acc[1] += hit.any(dim=1).sum()
        acc[2] += y.numel()
        acc[3] += F.cross_entropy(out, y, reduction="sum")
        if progress is not None:
            progress.update(y.numel())
    all_reduce_sum(acc, info)
    model.train(was_training)
    c1, c5, n, loss = acc.tolist()
    n = max(n, 1)
    stats = {"top1": 100.0 * c1 / n, "top5": 100.0 * c5 / n, "loss": loss / n, "n": int(acc[2].item())}
    if timed:
        stats.update(seconds=seconds, images_per_s=timed_n / max(seconds, 1e-12))
    return stats


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    skip = set(getattr(model, "no_weight_decay", lambda: set())())
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name.endswith(".bias") or name in skip or name.split(".")[-1] in skip:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return str(v)


def args_dict(cfg: TrainConfig) -> dict:
    """The settings as plain values (args.yaml, a checkpoint's ``args``): ``TrainConfig(**d)`` reads them back."""
    return {k: _jsonable(v) for k, v in asdict(cfg).items()}


class Recorder:
    """Rank-0 records: metrics.jsonl, TensorBoard scalars."""

    def __init__(self, out: str, enabled: bool, tensorboard: bool):
        self.enabled = enabled
        self.tb = None
        self.path = os.path.join(out, "metrics.jsonl")
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
                self.tb = SummaryWriter(os.path.join(out, "tb"))
            except Exception as e:  # tensorboard missing: keep going with JSONL only
                print(f"warning: TensorBoard disabled ({e})", file=sys.stderr)

    def write(self, record: dict, step: int) -> None:
        if not self.enabled:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps(_jsonable(record)) + "\n")
        if self.tb is not None:
            kind = record.get("type", "x")
            for k, v in record.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("step", "epoch"):
                    self.tb.add_scalar(f"{kind}/{k}", v, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


# ----------------------------------------------------------------------------- training

def run_command(body: Callable[[Any, DistInfo], int], cfg: Any) -> int:
    """Run ``body(cfg, info)`` between torch.distributed set-up and clean-up; returns the exit code
    (0 ok, 2 bad input, 3 NaN loss). Shared by ``rmeeto train`` and ``rmeeto eval``."""
    hazard = elastic.restart_hazard()
    if hazard:
        if os.environ.get("RANK", "0") == "0":
            print(f"error: {hazard}", file=sys.stderr, flush=True)
        return 2
    info = init_distributed(cfg.device, graph_capture=bool(getattr(cfg, "cuda_graph", False)))
    rc = 1
    try:
        rc = body(cfg, info)
    except NonFiniteLoss as e:
        print(f"error (rank {info.rank}): {e}", file=sys.stderr, flush=True)
        rc = 3
    except (TrainError, DataError) as e:
        if info.is_main:
            print(f"error: {e}", file=sys.stderr, flush=True)
        rc = 2
    finally:
        # a barrier only after a clean run: after an error a peer may never reach it
        cleanup(info, synchronize=rc == 0)
    return rc


def run_train(cfg: TrainConfig) -> int:
    """Entry point of ``rmeeto train``; returns the exit code (0 ok, 2 bad input, 3 NaN loss)."""
    def body(cfg: TrainConfig, info: DistInfo) -> int:
        _train(cfg, info)
        return 0
    return run_command(body, cfg)


def train(cfg: TrainConfig, model: Optional[nn.Module] = None, datasets: Optional[tuple[Any, Any]] = None,
          progress: Optional[Callable[..., Any]] = None, quiet: bool = False) -> dict:
    """Re-train in this process (or in each torchrun process) and return the run summary
    (``summary.json``: the evaluations before/after merging and after each epoch, minutes, steps).

    ``model``: train this model (moved to the device, trained in place; its patch is kept unless
    ``cfg.r``/``cfg.ratio`` set one) instead of building ``cfg.model``. ``datasets``: ``(train, val)``
    datasets of ``(image, label)`` instead of ``cfg.dataset``/``cfg.data_dir``; ``val`` may be None
    (no evaluation in the run). ``progress``: a tqdm-like factory, called as ``progress(total=,
    initial=, desc=)`` for each epoch's bar (images; ``update``, ``set_postfix``, ``close``); default
    tqdm when ``cfg.progress``. ``quiet``: no log lines on stdout. ``cfg.output=None`` keeps the
    run's files in a temporary folder that is removed afterwards. Bad settings or data raise
    :class:`TrainError` (or :class:`rmeeto.data.DataError`), a non-finite loss :class:`NonFiniteLoss`."""
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"train() takes a TrainConfig, got {type(cfg).__name__}")
    with contextlib.ExitStack() as stack:
        if cfg.output is None:
            cfg = replace(cfg, output=stack.enter_context(tempfile.TemporaryDirectory(prefix="rmeeto-train-")))
        if quiet:
            token = _ECHO.set(lambda *a, **k: None)
            stack.callback(_ECHO.reset, token)
        info = init_distributed(cfg.device, graph_capture=cfg.cuda_graph)
        ok = False
        try:
            summary = _train(cfg, info, model=model, datasets=datasets, progress=progress)
            ok = True
        finally:
            cleanup(info, synchronize=ok)
    return summary


def _batch_sizes(args: TrainConfig, info: DistInfo) -> tuple[int, int]:
    accum = int(args.accum_steps)
    if accum < 1:
        raise TrainError(f"--accum-steps must be >= 1, got {accum}")
    if args.global_batch_size is not None:
        denom = info.world_size * accum
        if args.global_batch_size % denom != 0:
            raise TrainError(
                f"--global-batch-size {args.global_batch_size} does not divide evenly over "
                f"{info.world_size} process(es) x {accum} accumulation step(s) (= {denom}); "
                f"pick a multiple of {denom}, or set --batch-size per process instead")
        bs = args.global_batch_size // denom
    else:
        bs = int(args.batch_size)
    if bs < 1:
        raise TrainError(f"batch size per process must be >= 1, got {bs}")
    if (args.mixup > 0 or args.cutmix > 0) and bs % 2 != 0:
        raise TrainError(f"mixup/cutmix needs an even batch size per process, got {bs}; "
                         f"use an even --batch-size (or --mixup 0 --cutmix 0)")
    return bs, bs * info.world_size * accum


def _load_resume(path: str, trust_checkpoint: bool = False) -> dict:
    try:
        ck = read_checkpoint(path, trust_checkpoint=trust_checkpoint)
    except UnsafeCheckpointError as e:
        raise TrainError(f"--resume: {e}") from e
    except Exception as e:
        raise TrainError(f"cannot read --resume checkpoint {path}: {e}") from e
    if not isinstance(ck, dict) or "optimizer" not in ck or "sampler" not in ck:
        raise TrainError(f"{path} is not an rmeeto training checkpoint (no optimizer/sampler state); "
                         f"to start from its weights use --pretrained {path}")
    return ck


def _plan_start(args: TrainConfig, info: DistInfo) -> tuple[StartPlan, list[str]]:
    """Rank 0 decides how the run starts in --output (:func:`run_dir.plan_start`) and every rank
    gets the same decision; also returns the torchrun agents of the group (empty outside torchrun)."""
    agents = elastic.group_agents(info) if elastic.under_torchrun() else []
    plan = None
    if info.is_main:
        own = bool(agents) and elastic.is_own_run(args.output, agents)
        plan = run_dir.plan_start(args.output, args.resume, bool(args.overwrite), own)
    plan = broadcast_object(plan, info)
    if plan.error:
        raise TrainError(plan.error)
    if plan.message:
        log(info, plan.message)
    return plan, agents


def _read_everywhere(path: str, info: DistInfo, trust_checkpoint: bool = False) -> dict:
    """Every rank reads the checkpoint itself; then they check that they all read the same one
    (same step and position), which fails when --output is not one folder that every node sees.
    A barrier at the end keeps rank 0 from writing a new checkpoint while a peer still reads."""
    ck, mark, err = None, None, None
    try:
        ck = _load_resume(path, trust_checkpoint)
        pos = ck["sampler"] if isinstance(ck["sampler"], dict) else {}
        mark = (ck.get("step"), pos.get("epoch"), pos.get("start_batch"))
    except TrainError as e:
        err = str(e)
    ref = broadcast_object(mark, info)
    bad = torch.tensor([float(err is not None or mark != ref)], dtype=torch.float64, device=info.device)
    all_reduce_sum(bad, info)
    if err is not None:
        raise TrainError(err if info.is_main else f"rank {info.rank}: {err}")
    if bad.item() > 0:
        raise TrainError(f"the processes read different checkpoints at {path} (rank 0: step {ref[0]}); "
                         "--output must be a folder that every node sees (a shared filesystem)")
    barrier(info)
    return ck


def _check_layout(ck: dict, path: str, info: DistInfo, bs: int) -> None:
    """A checkpoint's position in the epoch and its schedule are counted in its own batch layout;
    continuing with another one would skip or repeat images, so it is refused."""
    pos = ck["sampler"] if isinstance(ck["sampler"], dict) else {}
    then = (pos.get("world_size", info.world_size), pos.get("batch_size", bs))
    if then != (info.world_size, bs):
        raise TrainError(f"{path} was written by {then[0]} process(es) x batch {then[1]}; this run has "
                         f"{info.world_size} x {bs}. Resume with the same number of processes and batch "
                         "size (with torchrun: a fixed --nnodes, not MIN:MAX)")


def _finished_note(ck: dict, path: str) -> str:
    return (f"the run of {path} is finished (step {ck.get('step')}); nothing to do. To train it again "
            "use --overwrite, or choose another --output")


def _prepare_output(out: str, plan: StartPlan, ck: Optional[dict], agents: list[str]) -> None:
    """Rank 0, just before its first write: clear an earlier run (--overwrite), remove temporary files
    of writes a killed process left, record torchrun's agents, drop metrics of steps lost after ``ck``."""
    if plan.clear:
        run_dir.clear_run(out)
    stale = run_dir.remove_stale_temps(out)
    if stale:
        log(None, f"removed {len(stale)} unfinished temporary file(s) a killed process left in {out}")
    if agents:
        elastic.record_agents(out, agents)
    if ck is not None:
        run_dir.trim_metrics(out, int(ck["step"]))


@dataclass
class _Data:
    """The data side of a run: datasets, loaders, GPU pipelines, mixup and the loss."""
    train_ds: Any
    val_ds: Any
    train_loader: Any
    sampler: Any
    val_loader: Any
    train_pipe: Any
    val_pipe: Any
    mixup: Any
    criterion: Any


@dataclass
class _Optim:
    """Optimizer, loss scaler, schedule and weight EMA; ``spe`` is optimizer steps per epoch."""
    optimizer: torch.optim.Optimizer
    scaler: Optional[torch.amp.GradScaler]
    sched: CosineWarmupLR
    ema: Optional[ModelEmaV3]
    spe: int


@dataclass
class _Run:
    """What the epoch and step loop work with; fixed once set-up is done."""
    args: TrainConfig
    info: DistInfo
    dtype: Optional[torch.dtype]
    bs: int
    global_batch: int
    accum: int
    data: _Data
    opt: _Optim
    raw_model: nn.Module
    model: nn.Module  # raw_model, wrapped in DDP under torch.distributed
    fwd_model: nn.Module  # model, compiled with --compile
    teacher: Optional[nn.Module]
    recorder: Recorder
    ckpt_path: str
    kill_at: Optional[int]
    budget_s: Optional[float]
    probe: int
    progress: Optional[Callable[..., Any]] = None  # makes each epoch's bar (rank 0)
    graphed: Optional[GraphedStep] = None  # --cuda-graph: forward + backward replayed from a CUDA graph

    def num_epochs(self) -> int:
        return math.ceil(self.opt.sched.total_steps / self.opt.spe)


@dataclass
class _Progress:
    """Where the run stands; what a checkpoint stores besides the model and optimizer."""
    t_start: float
    summary: dict
    eval_seconds: Optional[float] = None
    step: int = 0
    epoch: int = 0
    start_micro: int = 0
    prior_elapsed: float = 0.0
    budget_state: dict = field(default_factory=lambda: {"fitted": False})
    last_ckpt_time: float = 0.0
    run_steps: int = 0  # optimizer steps taken by this process (for --time-budget)
    t_probe0: Optional[float] = None

    def elapsed(self) -> float:
        return self.prior_elapsed + time.time() - self.t_start


@dataclass
class _Epoch:
    """Per-epoch state of the step loop."""
    t_epoch: float
    start_micro: int
    micro: int
    pbar: Any = None
    first_wait: Optional[float] = None
    last_loss: float = float("nan")
    cur_lr: float = float("nan")
    stopped_early: bool = False
    loss_buf: list = field(default_factory=list)
    buf_steps: list = field(default_factory=list)


def _train(args: TrainConfig, info: DistInfo, model: Optional[nn.Module] = None,
           datasets: Optional[tuple[Any, Any]] = None, progress: Optional[Callable[..., Any]] = None) -> dict:
    """Set up a run (resume, model, data, merge, optimiser, output) and train it; returns the summary."""
    t_start = time.time()
    dev = info.device
    if args.cuda_graph:
        _check_cuda_graph(args, info)
    dtype = amp_dtype(args.amp, dev)
    bs, global_batch = _batch_sizes(args, info)
    accum = int(args.accum_steps)
    lr = args.lr * global_batch * int(args.num_sample) / float(args.lr_base_batch)
    plan, agents = _plan_start(args, info)
    resume_path = plan.resume_path
    ck = _read_everywhere(resume_path, info, args.trust_checkpoint) if resume_path else None
    if ck is not None and ck.get("finished"):
        log(info, _finished_note(ck, resume_path))
        return ck.get("summary") or {}
    if ck is not None:
        _check_layout(ck, resume_path, info, bs)
    try:
        kill_at = faults.kill_step(info.rank, resumed=ck is not None)
    except ValueError as e:
        raise TrainError(str(e)) from e
    seed_everything(args.seed)

    if model is None:
        model = build_model(args, drop_path=args.drop_path)
    data = _build_data(args, info, model, bs, accum, datasets)
    summary, eval_seconds = _patch_and_score(args, info, model, ck, data, dtype, global_batch, lr)
    teacher = None
    if args.distill:
        teacher = build_model(args, teacher=True)  # the unmerged pretrained model, built from the settings
        unpatch(teacher)
        teacher.to(dev).eval().requires_grad_(False)
        data.criterion = DistillationLoss(data.criterion, teacher, args.distill_alpha, args.distill_tau)
    opt = _build_optim(args, model, dev, dtype, lr, data.sampler.num_batches // accum)
    prog = _Progress(t_start=t_start, summary=summary, eval_seconds=eval_seconds)
    if ck is not None:
        _restore(ck, resume_path, args, info, model, opt, prog)

    raw_model = model
    # under DDP, --cuda-graph builds DDP, warms up and captures on one side stream (PyTorch's recipe)
    graph_stream = torch.cuda.Stream(dev) if args.cuda_graph and info.enabled else None
    if info.enabled:
        model = wrap_ddp(model, dev, graph_stream)
    fwd_model = torch.compile(model) if args.compile else model
    recorder = _open_output(args, info, plan, ck, agents, data, bs, global_batch, lr, opt.spe, dtype)
    run = _Run(args=args, info=info, dtype=dtype, bs=bs, global_batch=global_batch, accum=accum, data=data,
               opt=opt, raw_model=raw_model, model=model, fwd_model=fwd_model, teacher=teacher,
               recorder=recorder, ckpt_path=os.path.join(args.output, CHECKPOINT_NAME), kill_at=kill_at,
               budget_s=args.time_budget * 60.0 if args.time_budget else None,
               probe=max(2, int(args.budget_probe_steps)), progress=progress or _default_bar(args))
    if args.cuda_graph:
        run.graphed = GraphedStep(lambda x, y: _loss_and_backward(run, x, y), raw_model.parameters(),
                                  warmup_steps=GRAPH_WARMUP_STEPS if info.enabled else WARMUP_STEPS,
                                  stream=graph_stream)
    prog.last_ckpt_time = time.time()
    _loop(run, prog)
    return prog.summary


def _check_cuda_graph(args: TrainConfig, info: DistInfo) -> None:
    if args.compile:
        raise TrainError("--cuda-graph and --compile: use one of them (each wraps the forward its own way)")
    if info.device.type != "cuda":
        raise TrainError(f"--cuda-graph needs a CUDA device, this run is on {info.device}: drop --cuda-graph")
    if info.enabled and int(args.accum_steps) > 1:
        raise TrainError("--cuda-graph with several processes captures DDP's gradient all-reduce, which runs after "
                         "every micro-batch: use --accum-steps 1 (a larger --batch-size), or drop --cuda-graph")


def _default_bar(cfg: TrainConfig) -> Optional[Callable[..., Any]]:
    """``--progress``: a tqdm bar per epoch on stderr."""
    if not cfg.progress:
        return None

    def bar(total: int, initial: int, desc: str):
        from tqdm import tqdm
        return tqdm(total=total, initial=initial, unit="img", unit_scale=False, desc=desc,
                    dynamic_ncols=True, file=sys.stderr, mininterval=1.0)
    return bar


def _build_datasets(args: TrainConfig, model: nn.Module) -> tuple[Any, Any]:
    """The train and val datasets of the settings (with --holdout and --data-subset)."""
    data_kw = dict(img_size=int(model.img_size), channels=int(model.in_chans), num_classes=int(model.num_classes),
                   interpolation=args.train_interpolation, crop_pct=args.crop_pct,
                   video=video_options(args, model, args.model, args.num_sample), max_bad_images=args.max_bad_images)
    gpu_decode = bool(args.gpu_decode)
    train_ds = build_dataset(args.dataset, args.data_dir, "train", train_aug=True, aa=args.aa,
                             reprob=args.reprob, remode=args.remode, recount=args.recount,
                             color_jitter=args.color_jitter, gpu_decode=gpu_decode,
                             scale=tuple(args.scale), hflip=args.hflip, **data_kw)
    val_split = "train" if args.holdout else "val"
    val_ds = build_dataset(args.dataset, args.data_dir, val_split, classes=dataset_classes(train_ds),
                           gpu_decode=gpu_decode, **data_kw)
    if args.holdout:
        train_ds, val_ds = split_holdout(train_ds, val_ds, int(args.holdout), args.holdout_seed)
    return make_subset(train_ds, args.data_subset, args.seed), val_ds


def _build_data(args: TrainConfig, info: DistInfo, model: nn.Module, bs: int, accum: int,
                datasets: Optional[tuple[Any, Any]] = None) -> _Data:
    """Datasets (given, or built from the settings), loaders, GPU pipelines, mixup and the loss."""
    dev = info.device
    img_size, num_classes = int(model.img_size), int(model.num_classes)
    gpu_decode = bool(args.gpu_decode)
    if gpu_decode and (args.dataset != "folder" or datasets is not None):
        raise TrainError("--gpu-decode works on JPEG folders (--dataset folder) only")
    train_ds, val_ds = datasets if datasets is not None else _build_datasets(args, model)
    pin = bool(args.pin_memory) and dev.type == "cuda"
    train_loader, sampler = build_train_loader(train_ds, bs, world_size=info.world_size, rank=info.rank,
                                               seed=args.seed, workers=args.workers, pin_memory=pin,
                                               accum_steps=accum, gpu_decode=gpu_decode)
    val_loader = None
    if val_ds is not None:
        val_loader = build_eval_loader(val_ds, args.eval_batch_size or 2 * bs, world_size=info.world_size,
                                       rank=info.rank, workers=args.workers, pin_memory=pin, gpu_decode=gpu_decode)
    train_pipe = val_pipe = None
    if gpu_decode:
        train_pipe, val_pipe = gpu_pipelines(img_size, dev, reprob=args.reprob, randaug=args.gpu_randaug,
                                             crop_pct=args.crop_pct, hflip=args.hflip)
    mixup = build_mixup(num_classes, args.mixup, args.cutmix, args.mixup_prob, args.mixup_switch_prob,
                        args.mixup_mode, args.smoothing)
    criterion = build_criterion(mixup is not None, args.smoothing)
    return _Data(train_ds, val_ds, train_loader, sampler, val_loader, train_pipe, val_pipe, mixup, criterion)


def _patch_and_score(args: TrainConfig, info: DistInfo, model: nn.Module, ck: Optional[dict], data: _Data,
                     dtype: Optional[torch.dtype], global_batch: int, lr: float) -> tuple[dict, Optional[float]]:
    """Move the model to the device and merge it as asked (a resumed run: as its checkpoint was);
    on a fresh run score it before and after merging. Returns the run summary and the last eval time."""
    existing = patch_settings(model)
    if args.r is not None or args.ratio is not None:
        want = {"r": args.r, "ratio": args.ratio, "mode": args.mode, "order": args.order}
        if args.ratio is not None:
            want["r"] = None
    else:
        want = existing
    if ck is not None:
        want = (ck.get("rmeeto") or {}).get("patch")
    unpatch(model)
    model.to(info.device)
    summary: dict = {"model": args.model, "model_kwargs": _jsonable(args.model_kwargs),
                     "world_size": info.world_size, "global_batch_size": global_batch, "lr": lr,
                     "eval_set": f"holdout:{args.holdout}:{args.holdout_seed}" if args.holdout else "val",
                     "before_merge": None, "after_merge_no_train": None, "epochs": []}
    eval_seconds = None
    initial_eval = ck is None and args.initial_eval and data.val_loader is not None
    if initial_eval:
        t0 = time.time()
        summary["before_merge"] = evaluate(model, data.val_loader, info, dtype, data.val_pipe)
        eval_seconds = time.time() - t0
        log(info, f"before merge: top-1 {summary['before_merge']['top1']:.2f} "
                  f"top-5 {summary['before_merge']['top5']:.2f} ({eval_seconds:.1f}s)")
    if want:
        require_vim(model, args.model)
        patch(model, **want)
    if initial_eval:
        if want:
            t0 = time.time()
            summary["after_merge_no_train"] = evaluate(model, data.val_loader, info, dtype, data.val_pipe)
            eval_seconds = time.time() - t0
        else:
            summary["after_merge_no_train"] = summary["before_merge"]
        log(info, f"after merge, before training: top-1 {summary['after_merge_no_train']['top1']:.2f} "
                  f"top-5 {summary['after_merge_no_train']['top5']:.2f}")
    summary["patch"] = patch_settings(model)
    try:
        summary["reduction_ratio"] = float(reduction_ratio(model))
    except Exception:
        summary["reduction_ratio"] = None
    return summary, eval_seconds


def _build_optim(args: TrainConfig, model: nn.Module, dev: torch.device, dtype: Optional[torch.dtype], lr: float,
                 spe: int) -> _Optim:
    """AdamW (layer decay, no decay on norms and biases), fp16 loss scaler, cosine schedule, EMA."""
    groups = apply_layer_decay(param_groups(model, args.weight_decay), model, args.layer_decay)
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=tuple(args.opt_betas),
                                  eps=args.opt_eps, fused=dev.type == "cuda")  # as `rmeeto bench --train` times it
    scaler = torch.amp.GradScaler(dev.type) if dtype == torch.float16 else None
    warmup_steps = int(round(args.warmup_epochs * spe))
    sched = CosineWarmupLR(optimizer, lr, args.epochs * spe, warmup_steps, args.min_lr, args.warmup_lr)
    ema = ModelEmaV3(model, args.ema_decay) if args.ema else None
    return _Optim(optimizer, scaler, sched, ema, spe)


def _restore(ck: dict, resume_path: str, args: TrainConfig, info: DistInfo, model: nn.Module, opt: _Optim,
             prog: _Progress) -> None:
    """Load a --resume checkpoint into the model, optimisation state, position and RNGs."""
    try:
        check_state_dict(ck["model"], model)
        model.load_state_dict(ck["model"])
    except CheckpointError as e:
        meta = ck.get("rmeeto") or {}
        raise TrainError(f"--resume {resume_path} is from another model ({meta.get('model')} "
                         f"{meta.get('model_kwargs')}) than this run builds ({args.model} "
                         f"{args.model_kwargs}): {e}\nResume with the original --model/--model-kwargs, "
                         f"or use a new --output.") from e
    opt.optimizer.load_state_dict(ck["optimizer"])
    if opt.scaler is not None and ck.get("scaler"):
        opt.scaler.load_state_dict(ck["scaler"])
    opt.sched.load_state_dict(ck["scheduler"])
    if opt.ema is not None and ck.get("model_ema"):
        opt.ema.module.load_state_dict(ck["model_ema"])
    prog.step = int(ck["step"])
    prog.epoch = int(ck["sampler"]["epoch"])
    prog.start_micro = int(ck["sampler"]["start_batch"])
    prog.prior_elapsed = float(ck.get("elapsed_s", 0.0))
    prog.budget_state = dict(ck.get("time_budget") or prog.budget_state)
    prog.summary = ck.get("summary") or prog.summary
    set_rng_state(ck["rng"])
    log(info, f"resumed from {resume_path}: epoch {prog.epoch + 1}, step {prog.step}, "
              f"batch {prog.start_micro} of the epoch")


def _open_output(args: TrainConfig, info: DistInfo, plan: StartPlan, ck: Optional[dict], agents: list[str], data: _Data,
                 bs: int, global_batch: int, lr: float, spe: int, dtype: Optional[torch.dtype]) -> Recorder:
    """Rank 0 prepares --output and writes args.yaml; every rank gets a :class:`Recorder`."""
    out, accum = args.output, int(args.accum_steps)
    if info.is_main:
        os.makedirs(out, exist_ok=True)
        _prepare_output(out, plan, ck, agents)
    recorder = Recorder(out, info.is_main, args.tensorboard)
    if info.is_main:
        import yaml
        resolved = args_dict(args)
        resolved.update(world_size=info.world_size, per_process_batch_size=bs,
                        global_batch_size=global_batch, scaled_lr=lr)
        atomic_write_text(os.path.join(out, "args.yaml"), yaml.safe_dump(resolved, sort_keys=True))
        crowded = _crowded_workers(args.workers, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        if crowded:
            print(f"warning: {crowded}", file=sys.stderr)
        scored_on = "held out" if args.holdout else "val"
        n_val = "no" if data.val_ds is None else len(data.val_ds)
        log(info, f"training {args.model} on {len(data.train_ds)} images ({n_val} {scored_on}), "
                  f"{info.world_size} process(es) x batch {bs} x accum {accum} = {global_batch}/step, "
                  f"lr {lr:.3g}, {spe} steps/epoch, device {info.device}, amp {dtype}")
        if info.device.type == "cuda" and not info.enabled and not (args.cuda_graph or args.compile):
            log(info, "tip: on one GPU, --cuda-graph replays each step's forward and backward from a CUDA graph, "
                      "which is faster when the step is bound by the host (see docs/training.md)")
    return recorder


def _save(run: _Run, prog: _Progress, epoch: int, micro: int, finished: bool = False) -> None:
    """Write the checkpoint (rank 0); every rank restarts the --checkpoint-interval clock."""
    prog.last_ckpt_time = time.time()
    if not run.info.is_main:
        return
    args, raw_model, opt = run.args, run.raw_model, run.opt
    cfg = getattr(raw_model, "rmeeto_config", None) or {"name": args.model, "kwargs": args.model_kwargs}
    state = {
        "model": {k: v.detach().cpu() for k, v in raw_model.state_dict().items()},
        "model_ema": ({k: v.detach().cpu() for k, v in opt.ema.module.state_dict().items()}
                      if opt.ema is not None else None),
        "optimizer": opt.optimizer.state_dict(),
        "scaler": opt.scaler.state_dict() if opt.scaler is not None else None,
        "scheduler": opt.sched.state_dict(),
        "epoch": epoch, "step": prog.step, "finished": finished,
        "sampler": {"epoch": epoch, "start_batch": micro, "seed": args.seed,
                    "world_size": run.info.world_size, "batch_size": run.bs},
        "rng": rng_state(),
        "args": args_dict(args),
        "elapsed_s": prog.elapsed(),
        "time_budget": prog.budget_state,
        "summary": prog.summary,
        "rmeeto": {"model": cfg.get("name"), "model_kwargs": _jsonable(cfg.get("kwargs")),
                   "patch": patch_settings(raw_model)},
    }
    atomic_save(state, run.ckpt_path)


def _loop(run: _Run, prog: _Progress) -> int:
    """Epochs until the schedule ends: train, evaluate, checkpoint; then the summary."""
    sampler, loader = run.data.sampler, run.data.train_loader
    run.model.train()
    prefetched = None  # the next epoch's batches, started before the evaluation (see below)
    while prog.step < run.opt.sched.total_steps and prog.epoch < run.num_epochs():
        t_epoch = time.time()
        if prefetched is None:
            sampler.set_epoch(prog.epoch, prog.start_micro)
            batches = iter(loader)
        else:
            batches, prefetched = prefetched, None
        ep = _run_epoch(run, prog, batches, t_epoch)
        if ep is None:  # --stop-at-step
            run.recorder.close()
            return 0
        t_eval = time.time()
        if not ep.stopped_early and prog.step < run.opt.sched.total_steps and prog.epoch + 1 < run.num_epochs():
            # Start the next epoch's loader now: its workers fill their queues while we evaluate,
            # instead of the first steps of the next epoch waiting for them. Sample order and
            # augmentation depend only on (seed, epoch, index), so this changes no result.
            sampler.set_epoch(prog.epoch + 1, 0)
            prefetched = iter(loader)
        _end_epoch(run, prog, ep, t_eval)

    prog.summary["minutes"] = prog.elapsed() / 60.0
    prog.summary["steps"] = prog.step
    if run.info.is_main:
        atomic_write_text(os.path.join(run.args.output, "summary.json"),
                          json.dumps(_jsonable(prog.summary), indent=2))
        print_summary(prog.summary)
    run.recorder.close()
    return 0


def _run_epoch(run: _Run, prog: _Progress, batches, t_epoch: float) -> Optional[_Epoch]:
    """The steps of one epoch (from where a resumed run stopped); None when --stop-at-step stopped it."""
    args, spe, accum = run.args, run.opt.spe, run.accum
    ep = _Epoch(t_epoch=t_epoch, start_micro=prog.start_micro, micro=prog.start_micro)
    if run.info.is_main and run.progress is not None:
        ep.pbar = run.progress(total=spe * run.global_batch, initial=(ep.micro // accum) * run.global_batch,
                               desc=f"epoch {prog.epoch + 1}/{run.num_epochs()}")
    for batch in batches:
        if ep.first_wait is None:
            ep.first_wait = time.time() - t_epoch
        if not _forward_backward(run, prog, ep, batch):
            continue
        _optimizer_step(run, prog, ep)
        if run.budget_s is not None:
            _refit_budget(run, prog)
        end_of_epoch = ep.micro >= spe * accum
        done = prog.step >= run.opt.sched.total_steps
        if _log_point(run, prog, ep, end_of_epoch, done):
            return None
        if prog.step == run.kill_at:
            faults.kill_self()
        if done and not end_of_epoch:
            ep.stopped_early = True
            break
    if ep.pbar is not None:
        ep.pbar.close()
    return ep


def _forward_backward(run: _Run, prog: _Progress, ep: _Epoch, batch) -> bool:
    """One micro-batch: re-seed the RNGs, forward, backward; True when it completes a step's accumulation."""
    args, info, dev, accum = run.args, run.info, run.info.device, run.accum
    gmicro = prog.epoch * run.opt.spe * accum + ep.micro
    seed_everything(step_seed(args.seed, info.rank, gmicro))
    x, y = to_device_batch(batch, dev, run.data.train_pipe)
    if run.data.mixup is not None:
        x, y = run.data.mixup(x, y)
    last_micro = (ep.micro % accum) == accum - 1
    sync = run.model.no_sync() if (info.enabled and not last_micro) else contextlib.nullcontext()
    poison = args.debug_nan_step is not None and prog.step + 1 == args.debug_nan_step
    with sync:
        if run.graphed is not None and not poison:
            loss = run.graphed(x, y)
        else:
            loss = _loss_and_backward(run, x, y, poison)
        ep.loss_buf.append(loss.float())
        ep.buf_steps.append(prog.step + 1)
    ep.micro += 1
    return last_micro


def _loss_and_backward(run: _Run, x: torch.Tensor, y: torch.Tensor, poison: bool = False) -> torch.Tensor:
    """Forward, loss and its backward (scaled for accumulation and the fp16 loss scaler); the loss, detached.
    ``poison``: make the loss NaN (``--debug-nan-step``)."""
    criterion = run.data.criterion
    with autocast(run.info.device, run.dtype, cache=run.graphed is None):
        logits = run.fwd_model(x)
        loss = criterion(x, logits, y) if run.teacher is not None else criterion(logits, y)
    if poison:
        loss = loss * float("nan")
    scaled = loss / run.accum
    (run.opt.scaler.scale(scaled) if run.opt.scaler is not None else scaled).backward()
    return loss.detach()


def _optimizer_step(run: _Run, prog: _Progress, ep: _Epoch) -> None:
    """Clip, step, advance the schedule and the EMA."""
    opt, clip = run.opt, run.args.clip_grad
    if opt.scaler is not None:
        if clip:
            opt.scaler.unscale_(opt.optimizer)
            torch.nn.utils.clip_grad_norm_(run.raw_model.parameters(), clip)
        opt.scaler.step(opt.optimizer)
        opt.scaler.update()
    else:
        if clip:
            torch.nn.utils.clip_grad_norm_(run.raw_model.parameters(), clip)
        opt.optimizer.step()
    opt.optimizer.zero_grad(set_to_none=run.graphed is None)  # the graph writes into the gradients it has
    prog.step += 1
    prog.run_steps += 1
    ep.cur_lr = opt.optimizer.param_groups[0]["lr"]
    opt.sched.step()
    if opt.ema is not None:
        opt.ema.update(run.raw_model)
    if ep.pbar is not None:
        ep.pbar.update(run.global_batch)


def _refit_budget(run: _Run, prog: _Progress) -> None:
    """--time-budget: fit the schedule length to the wall clock, first after the probe steps,
    then again at every log point with the mean step time of this run so far."""
    args, spe = run.args, run.opt.spe
    if prog.run_steps == 1:
        prog.t_probe0 = time.time()
        return
    if not (prog.run_steps >= run.probe + 1 and
            (prog.run_steps == run.probe + 1 or prog.step % max(1, args.log_interval) == 0)):
        return
    step_time = (time.time() - prog.t_probe0) / (prog.run_steps - 1)
    total = _fit_budget(run.budget_s, prog.elapsed(), step_time, prog.eval_seconds,
                        0 if run.data.val_loader is None else len(run.data.val_loader),
                        prog.step, spe, prog.epoch, run.accum) if run.info.is_main else None
    total = broadcast_object(total, run.info)
    first_fit = not prog.budget_state.get("fitted")
    run.opt.sched.set_total_steps(total)
    prog.budget_state = {"fitted": True, "step_time_s": step_time, "total_steps": total,
                         "eval_s_estimate": prog.eval_seconds}
    if first_fit:
        log(run.info, f"\n--time-budget {args.time_budget} min: {step_time * 1000:.1f} ms/step -> "
                      f"{total} steps in all ({total / spe:.2f} epochs); re-fitted at each log point")


def _log_point(run: _Run, prog: _Progress, ep: _Epoch, end_of_epoch: bool, done: bool) -> bool:
    """After a step: at a log point record the loss and write a mid-epoch checkpoint when one is due;
    True when --stop-at-step stops the run here."""
    args, step = run.args, prog.step
    by_interval = (args.checkpoint_interval and args.checkpoint_interval > 0 and
                   time.time() - prog.last_ckpt_time >= args.checkpoint_interval * 60.0)
    by_steps = bool(args.checkpoint_every_steps) and step % args.checkpoint_every_steps == 0
    stop_here = args.stop_at_step is not None and step == args.stop_at_step
    # flush points are the same on every rank (the interval decision is rank 0's, shared
    # through the all-reduce in _reduce_losses), so the collective never mismatches
    if not (step % max(1, args.log_interval) == 0 or end_of_epoch or done or by_steps or stop_here):
        return False
    interval_due = _reduce_losses(run, prog, ep, bool(run.info.is_main and by_interval))
    rec = {"type": "train", "epoch": prog.epoch + 1, "step": step, "loss": ep.last_loss, "lr": ep.cur_lr,
           "images_per_s": getattr(ep.pbar, "format_dict", {}).get("rate"),
           "elapsed_min": prog.elapsed() / 60.0}
    run.recorder.write(rec, step)
    if ep.pbar is not None:
        ep.pbar.set_postfix(loss=f"{ep.last_loss:.4f}", lr=f"{ep.cur_lr:.2e}", refresh=False)
    if (interval_due or by_steps or stop_here) and not end_of_epoch and not done:
        _save(run, prog, prog.epoch, ep.micro)
    if stop_here:
        if ep.pbar is not None:
            ep.pbar.close()
        log(run.info, f"stopped at step {step} as asked (--stop-at-step); resume with --resume")
        return True
    return False


def _reduce_losses(run: _Run, prog: _Progress, ep: _Epoch, interval_here: bool) -> bool:
    """Mean loss since the last log point over all ranks (into ``ep.last_loss``); raises
    :class:`NonFiniteLoss` when any rank saw a NaN/inf. True when rank 0's checkpoint interval is due."""
    vals = torch.stack(ep.loss_buf)
    flag = torch.tensor([vals.double().sum().item(), float(len(ep.loss_buf)),
                         float((~torch.isfinite(vals)).any().item()), 1.0 if interval_here else 0.0],
                        dtype=torch.float64, device=run.info.device)
    all_reduce_sum(flag, run.info)
    if flag[2].item() > 0:
        bad = [s for v, s in zip(vals.tolist(), ep.buf_steps) if not math.isfinite(v)]
        where = (f"at step {bad[0]} (epoch {prog.epoch + 1})" if bad else
                 f"on another rank between steps {ep.buf_steps[0]} and {ep.buf_steps[-1]}")
        if ep.pbar is not None:
            ep.pbar.close()
        kept = (f"the last good checkpoint {run.ckpt_path} was kept" if os.path.isfile(run.ckpt_path)
                else "no checkpoint had been written yet")
        raise NonFiniteLoss(
            f"loss became non-finite {where}; stopping ({kept}, not overwritten). "
            f"Try a lower --lr, --clip-grad 1.0, or --amp bf16/off instead of fp16.")
    ep.last_loss = flag[0].item() / max(flag[1].item(), 1.0)
    ep.loss_buf, ep.buf_steps = [], []
    return flag[3].item() > 0


def _end_epoch(run: _Run, prog: _Progress, ep: _Epoch, t_eval: float) -> None:
    """End of an epoch (or of the time budget): evaluate, record, log, checkpoint."""
    info, data, dtype, raw_model = run.info, run.data, run.dtype, run.raw_model
    stats, ema_stats = {}, None
    if data.val_loader is not None:
        stats = evaluate(raw_model, data.val_loader, info, dtype, data.val_pipe)
    prog.eval_seconds = time.time() - t_eval
    if run.opt.ema is not None and data.val_loader is not None:
        ema_stats = evaluate(run.opt.ema.module, data.val_loader, info, dtype, data.val_pipe)
    ep_min = (time.time() - ep.t_epoch) / 60.0
    train_ips = (ep.micro - ep.start_micro) * run.bs * info.world_size / max(t_eval - ep.t_epoch, 1e-9)
    entry = {"epoch": prog.epoch + 1, "step": prog.step, "top1": stats.get("top1"), "top5": stats.get("top5"),
             "train_im_per_s": train_ips, "eval_seconds": prog.eval_seconds,
             "first_batch_wait_s": ep.first_wait,
             "val_loss": stats.get("loss"), "val_samples": stats.get("n"), "train_loss": ep.last_loss,
             "epoch_minutes": ep_min, "elapsed_minutes": prog.elapsed() / 60.0}
    if ema_stats is not None:
        entry.update(ema_top1=ema_stats["top1"], ema_top5=ema_stats["top5"])
    if ep.stopped_early:
        entry["partial_epoch"] = ep.micro / (run.opt.spe * run.accum)
    entry.update(skipped_videos(info, data.train_ds, data.val_ds))
    prog.summary["epochs"].append(entry)
    run.recorder.write({"type": "val", **entry}, prog.step)
    scored = (f"val top-1 {stats['top1']:.2f} top-5 {stats['top5']:.2f} (n={stats['n']}, loss {stats['loss']:.4f})"
              if stats else "not evaluated")
    log(info, f"epoch {prog.epoch + 1}/{run.num_epochs()}: {scored}" +
              (f", EMA top-1 {ema_stats['top1']:.2f}" if ema_stats else "") +
              f" | train {train_ips:.0f} im/s (first batch after {ep.first_wait or 0:.2f} s), {ep_min:.2f} min, "
              f"total {prog.elapsed() / 60:.2f} min")
    finished = prog.step >= run.opt.sched.total_steps
    if ep.stopped_early:
        _save(run, prog, prog.epoch, ep.micro, finished=True)
    else:
        prog.epoch += 1
        prog.start_micro = 0
        _save(run, prog, prog.epoch, 0, finished=finished)


def _fit_budget(budget_s: float, elapsed_s: float, step_time: float, eval_s: Optional[float],
                val_batches: int, step: int, spe: int, epoch: int, accum: int) -> int:
    """Total optimizer steps that fit in what is left of the budget, counting one evaluation
    per (remaining) epoch end; the eval time is the measured pre-training eval, or an estimate
    of half a training step per val batch when none was run."""
    if eval_s is None:
        eval_s = 0.5 * val_batches * step_time / max(1, accum)
    remaining = budget_s - elapsed_s - 0.02 * budget_s  # keep 2% for the final checkpoint
    more = max(0, int(remaining / step_time))
    for _ in range(5):
        total = step + more
        evals = max(1, math.ceil(total / spe) - epoch)
        more = max(0, int((remaining - evals * eval_s) / step_time))
    return max(step, step + more)


def print_summary(summary: dict) -> None:
    echo = _ECHO.get()  # silent inside train(quiet=True)

    def fmt(s):
        return "n/a" if not s or s.get("top1") is None else f"top-1 {s['top1']:.2f}  top-5 {s['top5']:.2f}"
    echo("\n== summary ==")
    ratio = summary.get("reduction_ratio")
    echo(f"model {summary.get('model')}  patch {summary.get('patch')}  "
         f"reduction ratio {'n/a' if ratio is None else f'{ratio:.3f}'}")
    echo(f"before merge (unpatched):      {fmt(summary.get('before_merge'))}")
    echo(f"after merge, no training:      {fmt(summary.get('after_merge_no_train'))}")
    for e in summary.get("epochs", []):
        echo(f"after epoch {e['epoch']:<3d}               {fmt(e)}  ({e['elapsed_minutes']:.2f} min)")
    echo(f"minutes spent: {summary.get('minutes', 0):.2f}", flush=True)
