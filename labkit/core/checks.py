"""Argument checks for the public API: one home for "is this an int / a path / a list of names?".

Why: a wrong argument used to surface far from the call — ``min_side="32"`` as ``'<' not supported between
'int' and 'str'`` deep in the loader, ``read_idx(123)`` as ``expected str, bytes or os.PathLike object``,
``ids="vid0"`` as four missing one-letter ids. Each check here runs at the function boundary, before any work,
and raises a :class:`~labkit.core.errors.ParameterError` (so also a ``ValueError``) whose one line names the
argument and the value it got.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import ParameterError


def shown(value: Any, limit: int = 60) -> str:
    """``value`` for an error message: its repr (shortened) and its type, e.g. ``'32' (str)``."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{text} ({type(value).__name__})"


def require_int(name: str, value: Any, *, at_least: int | None = None, at_most: int | None = None) -> int:
    """``value`` as a Python int, or a ParameterError naming ``name``.

    NumPy integers are accepted (they come out of arrays); ``bool`` is not, since ``True`` as a count is a slip,
    and neither is ``"10"`` or ``10.0``: silently converting would hide the caller's mistake.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        bounds = f" >= {at_least}" if at_least is not None else ""
        raise ParameterError(f"{name} must be an int{bounds}, got {shown(value)}")
    value = int(value)
    if (at_least is not None and value < at_least) or (at_most is not None and value > at_most):
        lo = "" if at_least is None else f">= {at_least}"
        hi = "" if at_most is None else f"<= {at_most}"
        raise ParameterError(f"{name} must be an int {' and '.join(x for x in (lo, hi) if x)}, got {value}")
    return value


def require_path(name: str, value: Any) -> Path:
    """``value`` (a ``str`` or ``os.PathLike``) as a Path, or a ParameterError naming ``name``.

    Why not ``Path(value)`` alone: for ``None`` or a number its TypeError does not say which argument was wrong.
    """
    if not isinstance(value, str | os.PathLike):
        raise ParameterError(f"{name} must be a path (str or os.PathLike), got {shown(value)}")
    return Path(value)


def require_strings(name: str, value: Any, what: str = "strings") -> list[str]:
    """``value`` (any iterable of ``str``, not a bare ``str``) as a list, or a ParameterError naming ``name``.

    A bare string is refused rather than taken as one item: iterating it yields its characters, and guessing
    which was meant would make ``ids="ab"`` and ``ids=["a", "b"]`` look alike. The hint shows the list form.
    """
    if isinstance(value, str | bytes):
        raise ParameterError(f"{name} must be a list of {what}, got the single string {value!r}",
                             fix=f"wrap it in a list: {name}=[{value!r}]")
    if value is None or not isinstance(value, Iterable):
        raise ParameterError(f"{name} must be a list of {what}, got {shown(value)}")
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ParameterError(f"{name}[{i}] must be a str, got {shown(item)}")
    return items
