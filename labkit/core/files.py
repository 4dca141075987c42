"""Writing a file so that nothing is lost, and reading a saved model file as data only.

Why one home: "write to a temporary file beside the target, then rename" is the rule every command that writes
follows (a failed or interrupted write leaves the previous file whole, and a reader never sees half a file), and the
guarded ``torch.load(weights_only=True)`` is the rule every model file is read by. Written once, each stays right.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labkit.core.errors import CheckpointError


def replace_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``; on any failure the
    temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """:func:`replace_atomically` for UTF-8 text."""
    return replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def load_model_file(path: str | os.PathLike, what: str, fix: str) -> dict[str, Any]:
    """A saved model file as a dict, read with ``torch.load(weights_only=True)`` (data, never code); a missing,
    unreadable or non-dict file is a CheckpointError naming ``what`` it should have been and ``fix``."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no {what} there", path=path, fix=fix)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a torch file, a pickle that is not plain data
        raise CheckpointError(f"cannot be read as a checkpoint ({type(e).__name__})", path=path) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"holds a {type(state).__name__}, not a {what}", path=path, fix=fix)
    return state
