"""chunk_len as at commit b70b3ae (before the split fix), for an A/B through scripts/with_scan_cfg.py swap."""
from rmeeto.ops import settings
from rmeeto.ops.triton.launch import cdiv
from rmeeto.ops.triton.scan import CHUNK_CFG


def chunk_len(phase: str, L: int, batch: int, E: int, ndir: int, block_e: int, forced=None,
              split: bool = False) -> int:
    """The one rule that picks between the step-serial scan and the sequence-parallel (chunked) one.

    Returns the chunk length ``TC``; ``TC >= L`` means step-serial. ``forced`` (``cfg["TC"]``) or
    the ``scan_chunk`` setting (``$RMEETO_SCAN_CHUNK``): ``0`` forces step-serial, a positive number that chunk
    length, ``auto`` (the default) chunks when the step-serial launch has too few programs to fill the GPU
    and, for the forward, a serial chain long enough to pay for the extra passes (see ``CHUNK_CFG``), into
    about ``TARGET_PROGS`` programs and chunks of at least ``MIN_TC`` steps; and the backward of a sequence
    longer than ``LONG_L`` always, in chunks of at most ``LONG_TC`` (accuracy, see ``CHUNK_CFG``).
    ``split``: the forward would run its directions as two concurrent launches (a graph capture), which
    doubles the step-serial programs in flight.
    """
    setting = forced if forced is not None else settings.current().scan_chunk
    if setting not in ("auto", "tune"):  # "tune": this rule, then scan_fwd measures other lengths (scan_tune)
        try:
            tc = int(setting)
        except ValueError:
            raise ValueError(f"scan_chunk {setting!r} (RMEETO_SCAN_CHUNK): use auto, tune, 0 or a chunk length") \
                from None
        return L if tc <= 0 else min(tc, L)
    progs = cdiv(E, block_e) * batch * (ndir if phase == "bwd" or split else 1)
    min_tc = CHUNK_CFG["MIN_TC"]
    chain = L * (1 if phase == "bwd" or split else ndir)  # forward: the directions run one after the other
    tc = L
    if (progs < CHUNK_CFG["MIN_PROGS_" + phase.upper()] and L >= 2 * min_tc
            and (phase == "bwd" or chain >= CHUNK_CFG["MIN_CHAIN_FWD"])):
        nc = min(cdiv(L, min_tc), cdiv(CHUNK_CFG["TARGET_PROGS"], progs))
        tc = cdiv(cdiv(L, nc), 16) * 16
    if phase == "bwd" and L > CHUNK_CFG["LONG_L"]:
        tc = min(tc, CHUNK_CFG["LONG_TC"])
    return min(tc, L)

