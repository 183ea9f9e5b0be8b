"""``KEY=VALUE`` items (``--model-kwargs depth=2 embed_dim=32``) into a typed dict: the one parser of
the command line and of ``-c`` config files."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union


def parse_value(v: Any) -> Any:
    """'2' -> 2, '1.5' -> 1.5, 'true' -> True, 'none' -> None, else the string; non-strings unchanged."""
    if not isinstance(v, str):
        return v
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def parse_kwargs(items: Union[None, str, Iterable[str], Mapping[str, Any]],
                 flag: str = "--model-kwargs") -> dict[str, Any]:
    """``["depth=2", "embed_dim=32"]`` (or one string of them, or a mapping from YAML) ->
    ``{"depth": 2, "embed_dim": 32}``; keys take ``_`` for ``-``. A bad item raises a one-line
    :class:`ValueError` naming ``flag``."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return {str(k): parse_value(v) for k, v in items.items()}
    if isinstance(items, str):
        items = items.split()
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{flag} expects KEY=VALUE items, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().replace("-", "_")] = parse_value(v.strip())
    return out


def parse_list(value: Any, cast) -> Optional[list]:
    """``"0,5,11"`` (or a list from YAML) -> ``[0, 5, 11]`` with ``cast``; None for None or ''."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)):
        return [cast(v) for v in value]
    return [cast(v) for v in str(value).replace(" ", "").split(",") if v != ""]
