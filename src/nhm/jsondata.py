"""Strict JSON data: what every ``--json`` and ``to_dict()`` of nhm goes through (no NaN or Infinity, which
``json`` would write but JSON does not allow). Light on purpose: the command line imports it for every JSON output."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["clean_json"]


def clean_json(obj: Any) -> Any:
    """Strict JSON: non-finite floats become None, numpy scalars plain numbers, tuples lists."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean_json(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    try:
        f = float(obj)
    except (TypeError, ValueError):
        return str(obj)
    if hasattr(obj, "dtype") and getattr(obj.dtype, "kind", "") in "iub":
        return int(obj) if obj.dtype.kind != "b" else bool(obj)
    return f if math.isfinite(f) else None
