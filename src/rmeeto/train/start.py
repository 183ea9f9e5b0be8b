"""How a run starts: where it stands in ``--output``, and the ``--resume`` checkpoint every rank reads and checks."""
from __future__ import annotations

from typing import Optional

import torch

from ..checkpoint import UnsafeCheckpointError, read_checkpoint
from . import elastic, run_dir
from .config import TrainConfig
from .dist import DistInfo, all_reduce_sum, barrier, broadcast_object
from .errors import TrainError
from .records import log
from .run_dir import StartPlan


def load_resume(path: str, trust_checkpoint: bool = False) -> dict:
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


def plan_start(args: TrainConfig, info: DistInfo) -> tuple[StartPlan, list[str]]:
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


def read_everywhere(path: str, info: DistInfo, trust_checkpoint: bool = False) -> dict:
    """Every rank reads the checkpoint itself; then they check that they all read the same one
    (same step and position), which fails when --output is not one folder that every node sees.
    A barrier at the end keeps rank 0 from writing a new checkpoint while a peer still reads."""
    ck, mark, err = None, None, None
    try:
        ck = load_resume(path, trust_checkpoint)
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


def check_layout(ck: dict, path: str, info: DistInfo, bs: int) -> None:
    """A checkpoint's position in the epoch and its schedule are counted in its own batch layout;
    continuing with another one would skip or repeat images, so it is refused."""
    pos = ck["sampler"] if isinstance(ck["sampler"], dict) else {}
    then = (pos.get("world_size", info.world_size), pos.get("batch_size", bs))
    if then != (info.world_size, bs):
        raise TrainError(f"{path} was written by {then[0]} process(es) x batch {then[1]}; this run has "
                         f"{info.world_size} x {bs}. Resume with the same number of processes and batch "
                         "size (with torchrun: a fixed --nnodes, not MIN:MAX)")


def finished_note(ck: dict, path: str) -> str:
    return (f"the run of {path} is finished (step {ck.get('step')}); nothing to do. To train it again "
            "use --overwrite, or choose another --output")


def prepare_output(out: str, plan: StartPlan, ck: Optional[dict], agents: list[str]) -> None:
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
