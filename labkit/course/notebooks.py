"""Where the course's notebooks live and how a short name ("02", "02_resmem", a path) finds one."""

from __future__ import annotations

import os
import re
from pathlib import Path

from labkit.core.errors import NotebookError, ParameterError

_ORDERED = re.compile(r"^\d\d_.+\.ipynb$")


ENV = "LABKIT_NOTEBOOKS"


class NotebookNotFoundError(NotebookError, FileNotFoundError):
    """No course notebook has the name given (``04``, ``04_ram`` or a path to an ``.ipynb``)."""


def notebooks_dir() -> Path:
    env = os.environ.get(ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "notebooks"


def course_notebooks(root: Path | None = None, required: bool = False) -> list[Path]:
    """The course's notebooks in order (files named ``NN_name.ipynb``).

    ``required``: a command that acts on "every notebook" (``run --all``, ``student``, ``sync``) must not do
    nothing and exit 0 because ``LABKIT_NOTEBOOKS`` points at the wrong folder: it gets a ParameterError instead.
    """
    root = root or notebooks_dir()
    found = sorted(p for p in root.glob("*.ipynb") if _ORDERED.match(p.name))
    if required and not found:
        what = "is not a folder" if not root.is_dir() else "holds no course notebooks (NN_name.ipynb)"
        raise ParameterError(f"the notebooks folder {root} {what}",
                             fix=f"unset {ENV} or point it at the course's notebooks/ folder" if os.environ.get(ENV)
                             else "run labkit from a clone of the course")
    return found


def resolve(name: str, root: Path | None = None) -> Path:
    """A notebook path from a path, a stem (``02_resmem``) or its number (``02``)."""
    p = Path(name)
    if p.suffix == ".ipynb" and p.exists():
        return p.resolve()
    found = [nb for nb in course_notebooks(root) if nb.stem == name or nb.stem.split("_", 1)[0] == name]
    if len(found) == 1:
        return found[0]
    known = ", ".join(nb.stem for nb in course_notebooks(root)) or "(none)"
    raise NotebookNotFoundError(f"no notebook {name!r}; the course has: {known}")
