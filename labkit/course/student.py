"""``labkit student``: the student notebooks, generated from the solution notebooks (never hand-kept)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat

from labkit.core.errors import NotebookError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: write your solution here")'
_REGION = re.compile(rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*(\n|$)",
                     re.S | re.M)


class StudentBuildError(NotebookError, ValueError):
    """A solution region is malformed (unbalanced or misspelt markers), or the output folder would lose work."""


_NEAR_MISS = re.compile(r"^\s*#+\s*(begin|end)[\s_-]*solution", re.I)


def _refuse_near_misses(source: str, where: str) -> None:
    """A misspelt marker (``###BEGIN SOLUTION``, ``### Begin Solution``) is not a marker, so the solution under it
    would ship to students: refuse it, naming the line."""
    for lineno, line in enumerate(source.splitlines(), 1):
        if _NEAR_MISS.match(line) and not line.strip().startswith((BEGIN, END)):
            raise StudentBuildError(f"{where} line {lineno}: {line.strip()!r} looks like a solution marker but is not "
                                    f"one; write exactly {BEGIN!r} / {END!r} (nothing was written)")


def strip_solutions(source: str, markdown: bool = False, where: str = "cell") -> str:
    """Replace each solution region by a stub at the region's indentation."""
    _refuse_near_misses(source, where)
    if source.count(BEGIN) != source.count(END):
        raise StudentBuildError(f"{where}: {source.count(BEGIN)} '{BEGIN}' but {source.count(END)} '{END}'")

    def stub(m: re.Match) -> str:
        indent = m.group("indent")
        text = "YOUR ANSWER HERE" if markdown else f"# YOUR CODE HERE\n{indent}{STUB}"
        return f"{indent}{text}\n"

    out = _REGION.sub(stub, source)
    if BEGIN in out or END in out:
        raise StudentBuildError(f"{where}: '{BEGIN}' must come before its '{END}'")
    return out


def student_notebook(path: Path) -> tuple[nbformat.NotebookNode, int]:
    """The student version of one notebook and how many solution regions it replaced."""
    nb = nbformat.read(path, as_version=4)
    regions = 0
    for i, cell in enumerate(nb.cells):
        regions += cell.source.count(BEGIN)
        cell.source = strip_solutions(cell.source, cell.cell_type == "markdown", f"{path.name} cell {i}")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    nb.metadata["labkit"] = {"student_version_of": path.name}
    return nb, regions


def build_student(notebooks: list[Path], out: Path, force: bool = False) -> dict[str, int]:
    """Write the student notebooks into ``out``; returns regions replaced per notebook.

    Nothing is lost by a misdirected call: ``out`` may not be a folder the solution notebooks live in (their solutions
    would become stubs, and a later ``labkit sync`` would carry the stubs into the ``.py`` twins), and a student
    notebook already in ``out`` that differs from the fresh one (a learner's work) is only replaced with ``force``.
    Every file is written to a temporary name and renamed, so an interrupted run leaves whole notebooks.
    """
    sources = {path.resolve().parent for path in notebooks}
    if out.resolve() in sources:
        raise StudentBuildError(
            f"--out {out} is the folder of the solution notebooks: their solutions would be replaced by stubs; "
            "choose another folder (the default is student/)")
    built = {path.name: student_notebook(path) for path in notebooks}
    edited = sorted(name for name, (nb, _) in built.items()
                    if (out / name).exists() and not force and (out / name).read_text() != nbformat.writes(nb) + "\n")
    if edited:
        raise StudentBuildError(
            f"{out} already holds {', '.join(edited)}, which differ from a fresh student version (a learner's work?); "
            "nothing was written: pass --force to replace them, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, (nb, n) in built.items():
        tmp = out / f".{name}.tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, out / name)
        counts[name] = n
    return counts
