"""``record(name, value)``: the numbers a notebook reports, collected by the runner into metrics.json.

The runner (``labkit run``) sets ``LABKIT_METRICS_FILE`` before it starts the kernel; the kernel
inherits it, so a notebook cell only ever calls ``record``. Run interactively, values are kept in
memory (see ``recorded()``) and printed, nothing is written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

ENV_VAR = "LABKIT_METRICS_FILE"
_memory: dict[str, Any] = {}


def _plain(value: Any) -> Any:
    """Turn numpy/torch scalars and arrays into JSON-ready Python values."""
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"record(): cannot store a {type(value).__name__}; use numbers, strings, lists or dicts")


def shown(value: Any) -> str:
    """How ``record`` prints a value: floats with 4 decimals, but in scientific notation when that would hide them
    (a max error of 1.6e-06 printed as 0.0000 reads as "exactly equal", which it is not)."""
    if isinstance(value, float) and value != 0.0 and (abs(value) < 5e-4 or abs(value) >= 1e6):
        return f"{value:.2e}"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def record(name: str, value: Any, quiet: bool = False) -> Any:
    """Record a metric under ``name`` (later calls overwrite); returns ``value`` unchanged."""
    if not isinstance(name, str) or not name:
        raise ValueError("record(): name must be a non-empty string")
    plain = _plain(value)
    _memory[name] = plain
    path = os.environ.get(ENV_VAR)
    if path:
        p = Path(path)
        data = json.loads(p.read_text()) if p.exists() and p.stat().st_size else {}
        data[name] = plain
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(p)
    if not quiet:
        print(f"[record] {name} = {shown(plain)}")
    return value


def recorded() -> dict[str, Any]:
    """Everything recorded in this process so far."""
    return dict(_memory)
