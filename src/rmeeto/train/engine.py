"""The re-training loop behind ``rmeeto train`` (single process, torchrun, multi-node): set-up, epochs, steps,
checkpoints.

Determinism (what makes ``--resume`` exact): the data order is a function of (seed, epoch)
(:class:`rmeeto.data.TrainSampler`), each sample's augmentation RNG is seeded from
(seed, epoch, index) (:class:`rmeeto.data.SeededDataset`), and before every micro-batch the
global Python/NumPy/torch RNGs (mixup, drop-path, the GPU pipeline) are re-seeded from
(seed, rank, micro-step). A checkpoint stores the position inside the epoch, so a resumed run
replays exactly the same computation as an uninterrupted one.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

import torch
from torch import nn

from ..checkpoint import CheckpointError, atomic_save, check_state_dict
from ..cuda_graphs import WARMUP_STEPS, GraphedStep
from ..data import DataError, to_device_batch
from ..patch import patch, patch_settings, reduction_ratio, unpatch
from . import elastic, faults
from .build import (OptimState, TrainData, batch_sizes, build_data, build_model, build_optim, check_cuda_graph,
                    crowded_workers, require_vim)
from .config import TrainConfig
from .dist import GRAPH_WARMUP_STEPS, DistInfo, all_reduce_sum, broadcast_object, cleanup, init_distributed, wrap_ddp
from .errors import NonFiniteLoss, TrainError
from .evaluate import amp_dtype, autocast, evaluate
from .losses import DistillationLoss
from .records import ECHO, Recorder, args_dict, jsonable, log, print_summary
from .run_dir import CHECKPOINT_NAME, StartPlan
from .schedule import fit_budget
from .start import check_layout, finished_note, plan_start, prepare_output, read_everywhere
from .state import atomic_write_text, rng_state, seed_everything, set_rng_state, step_seed
from .video import skipped_videos


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
            token = ECHO.set(lambda *a, **k: None)
            stack.callback(ECHO.reset, token)
        info = init_distributed(cfg.device, graph_capture=cfg.cuda_graph)
        ok = False
        try:
            summary = _train(cfg, info, model=model, datasets=datasets, progress=progress)
            ok = True
        finally:
            cleanup(info, synchronize=ok)
    return summary


@dataclass
class _Run:
    """What the epoch and step loop work with; fixed once set-up is done."""
    args: TrainConfig
    info: DistInfo
    dtype: Optional[torch.dtype]
    bs: int
    global_batch: int
    accum: int
    data: TrainData
    opt: OptimState
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
        check_cuda_graph(args, info)
    dtype = amp_dtype(args.amp, dev)
    bs, global_batch = batch_sizes(args, info)
    accum = int(args.accum_steps)
    lr = args.lr * global_batch * int(args.num_sample) / float(args.lr_base_batch)
    plan, agents = plan_start(args, info)
    resume_path = plan.resume_path
    ck = read_everywhere(resume_path, info, args.trust_checkpoint) if resume_path else None
    if ck is not None and ck.get("finished"):
        log(info, finished_note(ck, resume_path))
        return ck.get("summary") or {}
    if ck is not None:
        check_layout(ck, resume_path, info, bs)
    kill_at = _kill_step(info, resumed=ck is not None)
    seed_everything(args.seed)

    if model is None:
        model = build_model(args, drop_path=args.drop_path)
    data = build_data(args, info, model, bs, accum, datasets)
    summary, eval_seconds = _patch_and_score(args, info, model, ck, data, dtype, global_batch, lr)
    teacher = _distill_from_teacher(args, data, dev) if args.distill else None
    opt = build_optim(args, model, dev, dtype, lr, data.sampler.num_batches // accum)
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


def _kill_step(info: DistInfo, resumed: bool) -> Optional[int]:
    """The step at which a fault-injection test asks this rank to die (see :mod:`.faults`), if any."""
    try:
        return faults.kill_step(info.rank, resumed=resumed)
    except ValueError as e:
        raise TrainError(str(e)) from e


def _distill_from_teacher(args: TrainConfig, data: Any, dev: torch.device) -> nn.Module:
    """The unmerged pretrained model, built from the settings and frozen; ``data.criterion`` becomes the distillation
    loss against it."""
    teacher = build_model(args, teacher=True)
    unpatch(teacher)
    teacher.to(dev).eval().requires_grad_(False)
    data.criterion = DistillationLoss(data.criterion, teacher, args.distill_alpha, args.distill_tau)
    return teacher


def _default_bar(cfg: TrainConfig) -> Optional[Callable[..., Any]]:
    """``--progress``: a tqdm bar per epoch on stderr."""
    if not cfg.progress:
        return None

    def bar(total: int, initial: int, desc: str):
        from tqdm import tqdm
        return tqdm(total=total, initial=initial, unit="img", unit_scale=False, desc=desc,
                    dynamic_ncols=True, file=sys.stderr, mininterval=1.0)
    return bar


def _wanted_patch(args: TrainConfig, model: nn.Module, ck: Optional[dict]) -> Optional[dict]:
    """The merge settings to train with: a resumed run's, else those asked for, else the model's own (if patched)."""
    if ck is not None:
        return (ck.get("rmeeto") or {}).get("patch")
    if args.r is None and args.ratio is None:
        return patch_settings(model)
    return {"r": None if args.ratio is not None else args.r, "ratio": args.ratio, "mode": args.mode,
            "order": args.order}


def _patch_and_score(args: TrainConfig, info: DistInfo, model: nn.Module, ck: Optional[dict], data: TrainData,
                     dtype: Optional[torch.dtype], global_batch: int, lr: float) -> tuple[dict, Optional[float]]:
    """Move the model to the device and merge it as asked (a resumed run: as its checkpoint was);
    on a fresh run score it before and after merging. Returns the run summary and the last eval time."""
    want = _wanted_patch(args, model, ck)
    unpatch(model)
    model.to(info.device)
    summary: dict = {"model": args.model, "model_kwargs": jsonable(args.model_kwargs),
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


def _restore(ck: dict, resume_path: str, args: TrainConfig, info: DistInfo, model: nn.Module, opt: OptimState,
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


def _open_output(args: TrainConfig, info: DistInfo, plan: StartPlan, ck: Optional[dict], agents: list[str],
                 data: TrainData, bs: int, global_batch: int, lr: float, spe: int,
                 dtype: Optional[torch.dtype]) -> Recorder:
    """Rank 0 prepares --output and writes args.yaml; every rank gets a :class:`Recorder`."""
    out, accum = args.output, int(args.accum_steps)
    if info.is_main:
        os.makedirs(out, exist_ok=True)
        prepare_output(out, plan, ck, agents)
    recorder = Recorder(out, info.is_main, args.tensorboard)
    if info.is_main:
        import yaml
        resolved = args_dict(args)
        resolved.update(world_size=info.world_size, per_process_batch_size=bs,
                        global_batch_size=global_batch, scaled_lr=lr)
        atomic_write_text(os.path.join(out, "args.yaml"), yaml.safe_dump(resolved, sort_keys=True))
        crowded = crowded_workers(args.workers, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
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
        "rmeeto": {"model": cfg.get("name"), "model_kwargs": jsonable(cfg.get("kwargs")),
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
                          json.dumps(jsonable(prog.summary), indent=2))
        print_summary(prog.summary)
    run.recorder.close()
    return 0


def _run_epoch(run: _Run, prog: _Progress, batches, t_epoch: float) -> Optional[_Epoch]:
    """The steps of one epoch (from where a resumed run stopped); None when --stop-at-step stopped it."""
    spe, accum = run.opt.spe, run.accum
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
    total = fit_budget(run.budget_s, prog.elapsed(), step_time, prog.eval_seconds,
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
