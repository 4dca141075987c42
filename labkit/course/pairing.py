"""Each course notebook ``NN_name.ipynb`` is paired with a jupytext text source ``NN_name.py`` (percent format).

Why two files: the ``.ipynb`` carries the outputs that readers, nbval and the website need, while the ``.py``
is what people review and edit — a diff of it is a diff of the course, not of JSON. Jupyter (with jupytext
installed and ``notebooks/jupytext.toml``) saves both; from the command line ``labkit sync`` brings them level
after an edit to either side.

Why not jupytext's own ``--sync``: it takes the inputs from whichever file was modified *last*, so an edit made in
the ``.ipynb`` and, seconds later, another in the ``.py`` silently drops the first, and an emptied ``.py`` empties
the notebook. Here each sync records a fingerprint of the cells both sides agreed on (``metadata.labkit.synced_cells``
in the ``.ipynb``; jupytext.toml keeps it out of the ``.py``). At the next sync the side whose cells still match the
fingerprint is the one that did not change, so the other side wins; when *both* changed, nothing is written and the
error names the cells, and ``--keep py|ipynb`` chooses. A text source that is empty, unparsable or holds a malformed
``# %%`` tag line is refused, and so is a notebook that carries papermill's injected parameters (a parameterised run
must never become the course's source). Every write goes to a temporary file renamed at the end.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from jupytext.config import load_jupytext_config

from labkit.core.errors import NotebookError
from labkit.core.files import write_text_atomically as _atomic_write

TEXT_SUFFIX = ".py"
TEXT_FORMAT = "py:percent"
SYNC_COMMAND = "labkit sync"
FINGERPRINT = "synced_cells"  # key under the notebook's metadata["labkit"]
INJECTED = "injected-parameters"  # papermill's tag for the cell it adds with a run's parameters

Cell = tuple[str, str, tuple[str, ...]]  # (cell type, source, tags)


class PairingError(NotebookError, RuntimeError):
    """A notebook has no text source, or the two sides of a pair could not be synchronised without losing an edit."""


def text_source(notebook: Path) -> Path:
    """The text source paired with ``notebook`` (``03_amnet.ipynb`` → ``03_amnet.py``)."""
    return Path(notebook).with_suffix(TEXT_SUFFIX)


def cell_inputs(nb: nbformat.NotebookNode) -> list[Cell]:
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def fingerprint(cells: Sequence[Cell]) -> str:
    """sha256 of the cells' types, sources and tags: what both sides of a pair held at the last sync."""
    return hashlib.sha256(json.dumps([list(c) for c in cells], ensure_ascii=False).encode()).hexdigest()


def first_difference(notebook: Path) -> str | None:
    """``None`` when the notebook's cells (type, source, tags) equal its text source's; else where they differ."""
    notebook = Path(notebook)
    text = text_source(notebook)
    if not text.is_file():
        return f"{notebook.name} has no text source {text.name}"
    want, got = cell_inputs(nbformat.read(notebook, as_version=4)), cell_inputs(jupytext.read(text))
    for i, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            what = "type" if a[0] != b[0] else "tags" if a[2] != b[2] else "source"
            first = next((ln for ln in b[1].splitlines() if ln.strip()), "")[:60]
            return f"{notebook.name} and {text.name} differ at cell {i} ({what}; text side starts {first!r})"
    if len(want) != len(got):
        return f"{notebook.name} has {len(want)} cells, {text.name} has {len(got)}"
    return None


_CELL_MARKER = re.compile(r"^# %%(?P<rest>.*)$")
_TAGS = re.compile(r"\btags\s*=")


def check_text_source(text: Path) -> None:
    """Refuse a text source that would silently lose cells or tags: empty, not UTF-8, or with a ``# %%`` line whose
    ``tags=[...]`` is not a list of strings (jupytext drops such a tag without a word)."""
    try:
        source = text.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise PairingError(f"{text}: not UTF-8 text (byte {e.start}); nothing was synced") from None
    if not source.strip():
        raise PairingError(f"{text} is empty; syncing it would empty {text.with_suffix('.ipynb').name} — nothing was "
                           f"synced (restore it with git checkout {text.name})")
    for lineno, line in enumerate(source.splitlines(), 1):
        m = _CELL_MARKER.match(line)
        if not m or not _TAGS.search(m["rest"]):
            continue
        value = m["rest"].split("tags", 1)[1].split("=", 1)[1].strip()
        try:
            tags = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            tags = None
        if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise PairingError(f"{text}:{lineno}: malformed cell tags {m['rest'].strip()!r}; write "
                               "# %% tags=[\"name\", ...] — nothing was synced")


def _read_pair(nb_path: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    text = text_source(nb_path)
    check_text_source(text)
    config = load_jupytext_config(str(nb_path.parent))
    notebook = _read_notebook(nb_path)
    try:
        source = jupytext.read(text, fmt=TEXT_FORMAT, config=config)
    except Exception as e:  # jupytext's reader raises its own kinds
        raise PairingError(f"{text}: jupytext cannot read it ({type(e).__name__}: {e}); nothing was synced") from None
    if not source.cells:
        raise PairingError(f"{text} holds no cells; nothing was synced")
    return notebook, source


def _write_notebook(path: Path, nb: nbformat.NotebookNode, cells: Sequence[Cell]) -> None:
    nb.metadata.setdefault("labkit", {})[FINGERPRINT] = fingerprint(cells)
    _atomic_write(path, nbformat.writes(nb) + "\n")


def _differing(a: Sequence[Cell], b: Sequence[Cell]) -> list[int]:
    return [i for i in range(max(len(a), len(b))) if i >= len(a) or i >= len(b) or a[i] != b[i]]


def plan(nb_path: Path, keep: str | None = None) -> str:
    """Which way one pair must go, decided without writing: ``"create"`` (no text source yet), ``"level"`` (equal
    cells; records the fingerprint), ``"py"`` (the text source's inputs win) or ``"ipynb"``; raises PairingError for
    a pair that cannot be synced without losing an edit (see the module docstring).

    ``keep``: ``"py"`` or ``"ipynb"`` settles a pair whose two sides both changed (the other side's edits are lost —
    the caller asked for that); ``None`` refuses such a pair.
    """
    if keep not in (None, "py", "ipynb"):
        raise PairingError(f"keep must be 'py' or 'ipynb', got {keep!r}")
    nb_path = Path(nb_path)
    text = text_source(nb_path)
    if not text.is_file():
        _refuse_injected(nb_path, _read_notebook(nb_path))
        return "create"
    notebook, source = _read_pair(nb_path)
    _refuse_injected(nb_path, notebook)
    mine, theirs = cell_inputs(notebook), cell_inputs(source)
    if mine == theirs:
        return "level"
    if keep is not None:
        return keep
    base = notebook.metadata.get("labkit", {}).get(FINGERPRINT)
    if base == fingerprint(mine):
        return "py"  # the notebook is as it was at the last sync: the text source holds the edit
    if base == fingerprint(theirs):
        return "ipynb"
    cells = _differing(mine, theirs)
    shown = ", ".join(map(str, cells[:8])) + (" …" if len(cells) > 8 else "")
    why = "both changed since the last sync" if base else "they differ and no earlier sync is recorded"
    raise PairingError(
        f"{nb_path.name} and {text.name}: {why} (cells {shown} differ); nothing was written — merge by hand, or "
        f"choose a side with `{SYNC_COMMAND} {nb_path.stem} --keep py` (or --keep ipynb), which drops the other "
        "side's edits in those cells")


def sync_pair(nb_path: Path, keep: str | None = None) -> str:
    """Bring one pair level without losing an edit (:func:`plan` decides the direction); returns what was done."""
    nb_path = Path(nb_path)
    text = text_source(nb_path)
    direction = plan(nb_path, keep)
    config = load_jupytext_config(str(nb_path.parent))
    if direction == "create":
        notebook = _read_notebook(nb_path)
        _atomic_write(text, jupytext.writes(notebook, fmt=TEXT_FORMAT, config=config))
        _write_notebook(nb_path, notebook, cell_inputs(notebook))
        return f"wrote {text.name} from the notebook"
    notebook, source = _read_pair(nb_path)
    if direction == "level":
        if notebook.metadata.get("labkit", {}).get(FINGERPRINT) != fingerprint(cell_inputs(notebook)):
            _write_notebook(nb_path, notebook, cell_inputs(notebook))
        return "in sync"
    if direction == "py":
        merged = combine_inputs_with_outputs(source, notebook, fmt=TEXT_FORMAT)
        _write_notebook(nb_path, merged, cell_inputs(merged))
        return f"{text.name} → {nb_path.name}"
    _atomic_write(text, jupytext.writes(notebook, fmt=TEXT_FORMAT, config=config))
    _write_notebook(nb_path, notebook, cell_inputs(notebook))
    return f"{nb_path.name} → {text.name}"


def _read_notebook(nb_path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(nb_path, as_version=4)
    except Exception as e:  # not JSON, not a notebook: nbformat raises many kinds
        raise PairingError(f"{nb_path}: not a readable notebook ({type(e).__name__}); nothing was synced") from None


def _refuse_injected(nb_path: Path, notebook: nbformat.NotebookNode) -> None:
    if any(INJECTED in c.metadata.get("tags", ()) for c in notebook.cells):
        raise PairingError(f"{nb_path.name} holds papermill's injected parameters (a parameterised run); it must not "
                           f"become the course's source — restore it with git checkout {nb_path.name}, or re-execute "
                           f"it with `labkit run {nb_path.stem} --inplace`")


def sync(notebooks: Sequence[Path], quiet: bool = True, keep: str | None = None) -> list[str]:
    """Sync each pair (:func:`sync_pair`); every pair is checked before any is written, so one conflict stops all."""
    notebooks = [Path(nb) for nb in notebooks]
    for nb in notebooks:  # refuse up front: a conflict in the last pair must not leave the first ones half done
        plan(nb, keep)
    done = [f"{Path(nb).stem}: {sync_pair(nb, keep)}" for nb in notebooks]
    if not quiet:
        print("\n".join(done))
    return done
