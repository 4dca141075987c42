"""The families of bad-input errors, so a user (and the CLI) can tell *what* was wrong and *where*.

Why families: a learner who points ``data_root`` at the wrong folder, a researcher with a truncated checkpoint
and a teacher with a typo in a parameter all deserve the same kind of answer — the file (and the record, layer
or line inside it), what is wrong with it, and how to fix it — never a traceback from deep inside NumPy. Every
reader raises a subclass of one family below; ``labkit`` on the command line prints any ``LabkitError`` as one
line and exits with status 2 (``--debug`` shows the traceback).

Each family also derives from the built-in exception a caller would have caught before (``ValueError``,
``FileNotFoundError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import os


class LabkitError(Exception):
    """Bad input the user can fix. ``str(e)`` reads ``<file>:<where>: <problem> — <fix>``.

    Built either from one finished message (``LabkitError("x.txt:3: bad score")``) or from its parts
    (``path=``, ``where=``, ``fix=``), which are kept as attributes for tests and tools.
    """

    family = "input"

    def __init__(self, problem: str, *, path: str | os.PathLike | None = None, where: str | int | None = None,
                 fix: str | None = None) -> None:
        self.problem, self.path, self.where, self.fix = problem, (str(path) if path is not None else None), where, fix
        location = ":".join(str(x) for x in (self.path, where) if x is not None and x != "")
        message = f"{location}: {problem}" if location else problem
        if fix:
            message += f" — {fix}"
        super().__init__(message)


class DataError(LabkitError, ValueError):
    """A data file or folder (images, splits, IDX, TFRecord, HDF5, CSV) is missing, malformed or out of range."""

    family = "data"


class CaffeError(LabkitError, ValueError):
    """A prototxt, caffemodel or mean file is malformed or describes an impossible layer."""

    family = "caffe"


class CheckpointError(LabkitError, ValueError):
    """A training checkpoint or its folder cannot be used to resume or load."""

    family = "checkpoint"


class AssetError(LabkitError, FileNotFoundError):
    """A bundled file under ``data/`` (or its manifest) is missing or damaged."""

    family = "asset"


class ParameterError(LabkitError, ValueError):
    """A notebook parameter, CLI option, environment setting or API argument has the wrong name, type or range.

    API arguments are checked at the function boundary by :mod:`labkit.core.checks`.
    """

    family = "parameter"


class DependencyError(LabkitError, RuntimeError):
    """A program or optional package a step needs is not installed (``java`` for METEOR and the PTB tokenizer).

    Not the user's input, but theirs to fix the same way: the message names what is missing, how to install it,
    and how to do without it. A ``RuntimeError``, as callers caught before.
    """

    family = "dependency"


class NotebookError(LabkitError):
    """A course notebook cannot be found, paired with its text source or turned into the student version.

    Subclasses add the built-in exception their callers catch (``FileNotFoundError``, ``ValueError``, ...).
    """

    family = "notebook"

