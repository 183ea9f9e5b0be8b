"""torchrun awareness: which torchrun agents launched this process group, and whether the run in
an output folder is theirs (so that a restarted group continues it without being asked).

``TORCHELASTIC_RESTART_COUNT`` alone cannot say so. Only the agent whose workers failed counts a
restart: the agents of healthy nodes re-launch their workers with an unchanged count, and a
membership change counts on no node. And a first attempt refused because ``--output`` held
another run would be retried with a count of 1. So rank 0 records in ``OUTPUT/torchrun.json`` the
agents (host, process id and start time of each rank's parent, the torchrun process) that started
the run; a later group continues that run when one of its own agents is in the record.
"""
from __future__ import annotations

import json
import os
import socket
import torch.distributed as dist

from .dist import DistInfo
from .state import atomic_write_text

LAUNCH_FILE = "torchrun.json"


def under_torchrun() -> bool:
    """True in a worker started by torchrun (its agent sets ``TORCHELASTIC_RUN_ID``)."""
    return "TORCHELASTIC_RUN_ID" in os.environ


def restart_count() -> int:
    """This process's ``TORCHELASTIC_RESTART_COUNT`` (0 outside torchrun)."""
    try:
        return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    except ValueError:
        return 0


def _start_ticks(pid: int) -> str:
    """Start time of ``pid`` in clock ticks since boot (Linux), so a re-used pid is told apart."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def agent_id() -> str:
    """The torchrun agent that started this process: run id, host, its pid and start time."""
    ppid = os.getppid()
    return f"{os.environ.get('TORCHELASTIC_RUN_ID', '')}@{socket.gethostname()}:{ppid}:{_start_ticks(ppid)}"


def group_agents(info: DistInfo) -> list[str]:
    """The agents of every rank of the group, the same list on every rank."""
    mine = agent_id()
    if not info.enabled:
        return [mine]
    every: list = [None] * info.world_size
    dist.all_gather_object(every, mine)
    return sorted(set(every))


def recorded_agents(out: str) -> list[str]:
    """The agents recorded as having started the run in ``out`` (none when unreadable)."""
    try:
        with open(os.path.join(out, LAUNCH_FILE)) as f:
            agents = json.load(f).get("agents", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [a for a in agents if isinstance(a, str)]


def is_own_run(out: str, agents: list[str]) -> bool:
    """Did one of ``agents`` start the run in ``out``? (Then this group is a torchrun restart of it.)"""
    return bool(set(agents) & set(recorded_agents(out)))


def record_agents(out: str, agents: list[str]) -> None:
    """Rank 0: add ``agents`` to the record of the agents that ran the run in ``out``."""
    body = {"run_id": os.environ.get("TORCHELASTIC_RUN_ID"),
            "agents": sorted(set(recorded_agents(out)) | set(agents))}
    atomic_write_text(os.path.join(out, LAUNCH_FILE), json.dumps(body, indent=1) + "\n")

