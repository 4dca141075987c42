"""Each course notebook ``NN_name.ipynb`` is paired with a jupytext text source ``NN_name.py`` (percent format).

Why two files: the ``.ipynb`` carries the outputs that readers, nbval and the website need, while the ``.py``
is what people review and edit — a diff of it is a diff of the course, not of JSON. Jupyter (with jupytext
installed and ``notebooks/jupytext.toml``) saves both; from the command line ``labkit sync`` brings them level
after an edit to either side: jupytext takes the inputs from whichever file was modified last and keeps the
``.ipynb``'s outputs for every cell it can match.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path

import jupytext
import nbformat
from jupytext.cli import jupytext as jupytext_cli

TEXT_SUFFIX = ".py"
SYNC_COMMAND = "labkit sync"

Cell = tuple[str, str, tuple[str, ...]]  # (cell type, source, tags)


class PairingError(RuntimeError):
    """A notebook has no text source, or the two sides of a pair could not be synchronised."""


def text_source(notebook: Path) -> Path:
    """The text source paired with ``notebook`` (``03_amnet.ipynb`` → ``03_amnet.py``)."""
    return Path(notebook).with_suffix(TEXT_SUFFIX)


def _cells(nb: nbformat.NotebookNode) -> list[Cell]:
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def first_difference(notebook: Path) -> str | None:
    """``None`` when the notebook's cells (type, source, tags) equal its text source's; else where they differ."""
    notebook = Path(notebook)
    text = text_source(notebook)
    if not text.is_file():
        return f"{notebook.name} has no text source {text.name}"
    want, got = _cells(nbformat.read(notebook, as_version=4)), _cells(jupytext.read(text))
    for i, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            what = "type" if a[0] != b[0] else "tags" if a[2] != b[2] else "source"
            first = next((ln for ln in b[1].splitlines() if ln.strip()), "")[:60]
            return f"{notebook.name} and {text.name} differ at cell {i} ({what}; text side starts {first!r})"
    if len(want) != len(got):
        return f"{notebook.name} has {len(want)} cells, {text.name} has {len(got)}"
    return None


def sync(notebooks: Sequence[Path], quiet: bool = True) -> None:
    """Bring each pair level (jupytext ``--sync``: the newer side's inputs win, the ``.ipynb`` keeps its outputs).

    A notebook without a text source gets one (written from the ``.ipynb``).
    """
    for nb in notebooks:
        args = ["--sync", str(nb)]  # the pairing itself comes from notebooks/jupytext.toml
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                code = jupytext_cli(args + (["--quiet"] if quiet else []))
            except Exception as e:  # jupytext raises its own error types for unreadable or conflicting files
                raise PairingError(f"could not sync {Path(nb).name}: {type(e).__name__}: {e}") from None
        if code:
            raise PairingError(f"could not sync {Path(nb).name}: {buf.getvalue().strip()[-500:]}")
        if not quiet and buf.getvalue().strip():
            print(buf.getvalue().strip())
