"""Shared helpers of the notebook builders (`tools/build_notebook_NN.py`).

Why builders at all: a notebook's cells are easier to review and refactor as Python source than as
JSON. A builder writes the *unexecuted* notebook; `labkit run NN --inplace` then executes it, so the
committed notebook carries outputs produced by running it, never edited by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
_CELLS: list[nbformat.NotebookNode] = []


def md(text: str) -> None:
    """Append a markdown cell (surrounding blank lines stripped)."""
    _CELLS.append(nbformat.v4.new_markdown_cell(text.strip()))


def code(text: str, tags: list[str] | None = None) -> None:
    """Append a code cell; ``tags=["parameters"]`` marks papermill's parameters cell."""
    cell = nbformat.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    _CELLS.append(cell)


def write(name: str, out_dir: Path | None = None) -> Path:
    """Write the cells appended so far as ``out_dir/name`` (unexecuted) and return its path.

    ``out_dir`` defaults to ``$NBBUILD_OUT`` or ``notebooks/`` (the drift test builds into a temp folder).
    """
    out_dir = Path(out_dir or os.environ.get("NBBUILD_OUT") or NOTEBOOKS)
    nb = nbformat.v4.new_notebook()
    nb.cells = list(_CELLS)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # stable ids: rebuilding a notebook does not rewrite every cell in the diff
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    nbformat.write(nb, path)
    print(f"wrote {path} ({len(nb.cells)} cells); execute it with `labkit run {path.stem[:2]} --inplace`")
    return path
