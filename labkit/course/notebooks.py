"""Where the course's notebooks live and how a short name ("02", "02_resmem", a path) finds one."""

from __future__ import annotations

import os
import re
from pathlib import Path

_ORDERED = re.compile(r"^\d\d_.+\.ipynb$")


def notebooks_dir() -> Path:
    env = os.environ.get("LABKIT_NOTEBOOKS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "notebooks"


def course_notebooks(root: Path | None = None) -> list[Path]:
    """The course's notebooks in order (files named ``NN_name.ipynb``)."""
    root = root or notebooks_dir()
    return sorted(p for p in root.glob("*.ipynb") if _ORDERED.match(p.name))


def resolve(name: str, root: Path | None = None) -> Path:
    """A notebook path from a path, a stem (``02_resmem``) or its number (``02``)."""
    p = Path(name)
    if p.suffix == ".ipynb" and p.exists():
        return p.resolve()
    found = [nb for nb in course_notebooks(root) if nb.stem == name or nb.stem.split("_", 1)[0] == name]
    if len(found) == 1:
        return found[0]
    known = ", ".join(nb.stem for nb in course_notebooks(root)) or "(none)"
    raise FileNotFoundError(f"no notebook {name!r}; the course has: {known}")
