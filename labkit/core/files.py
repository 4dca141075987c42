"""Writing a file so that nothing is lost, and reading a saved model file as data only.

Why one home: "write to a temporary file beside the target, then rename" is the rule every command that writes
follows (a failed or interrupted write leaves the previous file whole, and a reader never sees half a file), and the
guarded ``torch.load(weights_only=True)`` is the rule every model file is read by. Written once, each stays right.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labkit.core.errors import CheckpointError


def replace_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``; on any failure the
    temporary file is removed and ``path`` is left as it was.

    The temporary file has ``path``'s own name, in a hidden folder beside it (same file system, so the rename is
    atomic): a writer that records its file's name gives the bytes it would give ``path`` itself — ``torch.save``
    names its zip records after the file, so a checkpoint re-saved by the same command keeps its sha256."""
    path = Path(path)
    folder = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp = folder / path.name
    try:
        folder.mkdir(exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return path


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """:func:`replace_atomically` for UTF-8 text."""
    return replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def load_model_file(path: str | os.PathLike, what: str = "checkpoint", fix: str = "check the path or train first",
                    map_location: Any = "cpu") -> dict[str, Any]:
    """A saved model file as a dict, read with ``torch.load(weights_only=True)`` (data, never code); a missing,
    empty, unreadable or non-dict file is a CheckpointError naming the file, ``what`` it should have been and ``fix``.

    The one checked read of every model file: training checkpoints (:func:`labkit.train.load_checkpoint`), the
    shipped ones (:mod:`labkit.models.shipped`) and the files ``labkit predict`` is given."""
    import torch

    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"is a folder, not a {what} file", path=path, fix="name the .pt file inside it")
    if not path.is_file():
        raise CheckpointError(f"no {what} there", path=path, fix=fix)
    if path.stat().st_size == 0:
        raise CheckpointError("the file is empty (0 bytes): the write that made it was cut off", path=path, fix=fix)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated, not a torch file, a pickle that is not plain data
        first = (str(e).splitlines() or [""])[0][:200]
        raise CheckpointError(f"cannot be read as a checkpoint: truncated or not one, it cannot be loaded safely as "
                              f"data ({type(e).__name__}: {first})", path=path, fix=fix) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"holds a {type(state).__name__}, not a {what}", path=path, fix=fix)
    return state
