"""Stage result files: each study stage keeps its results in ``<stage>.json`` of the study's folder."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..train.state import atomic_write_text


def load_stage(out: Path, name: str) -> Any:
    """The JSON a study stage wrote into ``out``, or None."""
    p = Path(out) / f"{name}.json"
    return json.loads(p.read_text()) if p.is_file() else None


def save_stage(out: Path, name: str, obj: Any) -> None:
    """Atomically: a stage resumes from this file, so a cut-short write must not corrupt it."""
    Path(out).mkdir(parents=True, exist_ok=True)
    atomic_write_text(str(Path(out) / f"{name}.json"), json.dumps(obj, indent=1))
