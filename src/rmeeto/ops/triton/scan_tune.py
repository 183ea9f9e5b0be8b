"""The forward scan's chunk length (``scan_chunk="tune"``) and its captured form (``scan_split="tune"``), measured
per shape.

The chunked forward's time does not fall smoothly with the chunk length: it moves by 10-20 % between neighbouring
lengths, likely with how its ``programs x chunks`` programs fill the GPU's resident slots (one H200, 2026-12-04,
``docs/benchmarks/2026-12-04-h200-plan-flat``, run 78: VideoMamba-Ti's scan at 601 tokens took 0.314 ms in chunks of
64 and 0.257 ms in chunks of 80). So, like cuDNN's benchmark mode, the first forward of each shape times a few chunk
lengths on the real inputs and keeps the fastest for the process. A candidate must beat the rule's own length
(:func:`rmeeto.ops.triton.scan.chunk_len`) by ``MARGIN`` to replace it, so that timing noise rarely changes the choice
between processes. A forward captured in a CUDA graph cannot be timed: it uses a length measured earlier in the
process (a graph's warm-up runs the same shapes eagerly first), else the rule's.

The same holds for the form a captured inference forward takes, one launch or two streams: the rule
(:func:`rmeeto.ops.triton.scan.split_helps`) counts programs per multiprocessor and picked the slower form for Vim-B
at batch 96 on one H200 (one launch 0.961x two streams, 2026-12-06, run 191). With ``scan_split="tune"`` an eager
inference forward of each shape times both forms once and the capture takes the faster.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

CANDIDATES = (48, 64, 80, 96, 112, 128, 160)
MARGIN = 0.03  # a candidate replaces the rule's chunk length only when at least this much faster
REPEATS = 3  # timed runs per candidate (the median), after one untimed run
# the forms of a captured forward differ by a few per cent (Vim-B at batch 96 on one H100, 2026-12-07: two streams
# 1.02x one launch), within the chunk lengths' margin and within the spread of three runs: so more runs, less margin
SPLIT_MARGIN = 0.01
SPLIT_REPEATS = 9
# a GPU sleep queued before each timed run, so the launches queue up behind it and the events time the GPU's work,
# not the host's launches (a graph replays the kernels without them)
SLEEP_CYCLES = 200_000
_TUNED: dict = {}


def candidates(rule_tc: int, L: int) -> list[int]:
    """The rule's chunk length first, then every other candidate that leaves at least two chunks."""
    return [rule_tc] + [tc for tc in CANDIDATES if tc != rule_tc and 2 * tc <= L]


def _time_ms(run: Callable[[Any], None], choice: Any) -> float:
    """Milliseconds of GPU time of one ``run(choice)``, queued behind a GPU sleep."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda._sleep(SLEEP_CYCLES)
    start.record()
    run(choice)
    end.record()
    end.synchronize()
    return start.elapsed_time(end)


def _medians_ms(run: Callable[[Any], None], choices: list, repeats: int) -> dict:
    """Each choice's median time over ``repeats`` timed runs, the choices taking turns (so that a drift of the
    GPU's clocks meets them all), after one untimed run of each."""
    for c in choices:
        run(c)
    times: dict = {c: [] for c in choices}
    for _ in range(repeats):
        for c in choices:
            times[c].append(_time_ms(run, c))
    return {c: sorted(t)[len(t) // 2] for c, t in times.items()}


def _tuned(key: tuple, choices: list, run: Callable[[Any], None], capturing: bool, repeats: int, margin: float) -> Any:
    """The choice for the shape ``key``: measured once (``choices[0]`` is the rule's, which another replaces only
    when faster by ``margin``), then remembered; during a CUDA graph capture only a remembered one, else the rule's."""
    choice = _TUNED.get(key)
    if choice is not None:
        return choice
    if capturing:
        return choices[0]
    ms = _medians_ms(run, choices, repeats)
    best = min(ms, key=ms.get)
    choice = _TUNED[key] = best if ms[best] < (1 - margin) * ms[choices[0]] else choices[0]
    return choice


def tuned_chunk_len(key: tuple, rule_tc: int, L: int, run: Callable[[int], None], capturing: bool) -> int:
    """The chunk length for the shape ``key``, measured with ``run(tc)`` (one whole chunked forward) among
    :func:`candidates`."""
    return _tuned(key, candidates(rule_tc, L), run, capturing, REPEATS, MARGIN)


def tuned_split(key: tuple, rule: bool, run: Callable[[bool], None], capturing: bool) -> bool:
    """Whether a captured forward of the shape ``key`` runs its directions on two streams, measured with
    ``run(split)`` (one whole forward in each form)."""
    return _tuned(key, [rule, not rule], run, capturing, SPLIT_REPEATS, SPLIT_MARGIN)


def forget() -> None:
    """Drop every measured choice (tests; a process that changes GPUs)."""
    _TUNED.clear()
