"""Run a notebook headless through papermill: validated parameters, progress, executed copy,
``metrics.json`` from ``labkit.record``, a log, and a failure message that says where it broke."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from papermill.exceptions import PapermillExecutionError

from labkit.core.env import HEADLESS_ENV
from labkit.core.files import replace_atomically, write_text_atomically
from labkit.core.record import ENV_VAR
from labkit.course.params import ParameterError, read_params, validate

KERNEL_NAME = "labkit-current-env"


class NotebookFailed(RuntimeError):
    """A cell raised; the message names the notebook, the cell, the exception and the partial output.

    ``ename``/``evalue`` are the exception's class name and message inside the kernel: when it is one of labkit's
    bad-input errors (a data file the notebook could not use), the CLI reports it as bad input (exit 2), first.
    """

    def __init__(self, message: str, ename: str = "", evalue: str = "") -> None:
        super().__init__(message)
        self.ename, self.evalue = ename, evalue


STATUS = "status.json"  # in every run folder: running | ok | failed | interrupted, with what produced the run
LOCK = ".labkit-run.lock"


def notebook_fingerprint(notebook: Path) -> str:
    """sha256 of the code a run executes: the notebook's cells (types, sources, tags), outputs left out."""
    from labkit.course.pairing import cell_inputs, fingerprint

    return fingerprint(cell_inputs(nbformat.read(notebook, as_version=4)))


def provenance(notebook: Path, values: dict[str, Any]) -> dict[str, Any]:
    """What produced a run: the notebook, the hash of its cells, *every* parameter value (defaults filled in, so a
    run with ``-p epochs 8`` and one with the default 8 are the same run) and the labkit version. A sweep reuses a
    finished run only when all of this matches."""
    import labkit

    declared = read_params(notebook)
    return {"notebook": Path(notebook).name, "notebook_sha256": notebook_fingerprint(notebook),
            "parameters": {**{n: p.default for n, p in declared.items()}, **values},
            "labkit_version": labkit.__version__}


def write_status(folder: Path, status: str, **fields: Any) -> None:
    """``folder/status.json`` written whole (temporary file, then rename): a reader never sees half of it."""
    write_text_atomically(folder / STATUS, json.dumps({"status": status, **fields}, indent=2, sort_keys=True, default=str))


@contextmanager
def run_lock(folder: Path):
    """Hold an exclusive lock on a run folder; a second run into the same folder is refused, not interleaved."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK, "w")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ParameterError(f"another labkit run is writing into {folder}",
                                 fix="wait for it to finish, or choose another --out") from None
        yield
    finally:
        handle.close()


@dataclass
class RunResult:
    notebook: Path
    output: Path
    parameters: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _cell_timeout() -> int | None:
    """Seconds one cell may run (``LABKIT_CELL_TIMEOUT``; unset: no limit). CI sets it so that a stalled kernel
    fails the run with the cell's name instead of hanging the whole job."""
    raw = os.environ.get("LABKIT_CELL_TIMEOUT")
    if raw is None:
        return None
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ParameterError(f"LABKIT_CELL_TIMEOUT must be a whole number of seconds >= 1, got {raw!r}",
                             fix="e.g. export LABKIT_CELL_TIMEOUT=900, or unset it for no limit")
    return int(raw)


@contextmanager
def current_env_kernel(log: Path | None = None):
    """A kernelspec that starts *this* interpreter, so no ``ipykernel install --user`` is needed; with ``log``, the
    kernel's own stderr (warnings, shutdown tracebacks) goes to that file (see ``kernel_launcher``)."""
    from labkit.course.kernel_launcher import LOG_ENV

    with tempfile.TemporaryDirectory(prefix="labkit-kernel-") as tmp:
        spec = Path(tmp) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", HEADLESS_ENV: "1"}
        if log is not None:
            env[LOG_ENV] = str(Path(log).resolve())
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "labkit.course.kernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({Path(sys.prefix).name})",
            "language": "python",
            # Figures must render into the notebook even when the caller exported MPLBACKEND=Agg.
            "env": env,
        }))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [tmp, old]))
        try:
            yield KERNEL_NAME
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


@contextmanager
def _env(name: str, value: str):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@contextmanager
def _log_to(path: Path):
    logger = logging.getLogger("papermill")
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = True
        handler.close()


# Parameters naming a folder or file: a relative value means "relative to where I typed the command", not to
# notebooks/ (the kernel's working folder), so the runner makes them absolute before papermill injects them. A name
# ends with one of _PATH_SUFFIXES, or is one of _PATH_NAMES (01's Caffe files, named as Caffe names them).
_PATH_SUFFIXES = ("_root", "_dir", "_path", "_file")
_PATH_NAMES = frozenset({"prototxt", "caffemodel", "mean"})


def is_path_param(name: str) -> bool:
    return name.endswith(_PATH_SUFFIXES) or name in _PATH_NAMES


def prepare(notebook: Path, parameters: dict[str, Any], profile: str | None = None) -> dict[str, Any]:
    """Validate parameters (and the profile) against the notebook's parameters cell; absolutise path parameters
    and check each names what it must before any kernel starts: ``*_root`` an existing folder, ``*_dir`` a folder
    or nothing yet (never a file), a file parameter an existing file."""
    declared = read_params(notebook)
    values = dict(parameters)
    if profile is not None:
        if "profile" not in declared:
            raise ParameterError(f"{notebook.name} has no 'profile' parameter")
        values["profile"] = profile
    values = validate(declared, values, notebook.name)
    for name, value in values.items():
        if not (is_path_param(name) and isinstance(value, str)):
            continue
        if not value.strip():
            raise ParameterError(f"parameter {name!r} is an empty path", fix="name a path, or pass None for the default")
        resolved = Path(value).expanduser().resolve()
        if len(resolved.name.encode()) > 255 or len(str(resolved).encode()) > 4096:
            raise ParameterError(f"parameter {name!r}: the path is longer than the file system allows "
                                 f"({len(str(resolved))} characters)", fix="use a shorter path")
        values[name] = str(resolved)
        if name.endswith("_root") and not resolved.is_dir():
            raise ParameterError(f"parameter {name!r}: {value!r} is not a folder (resolved to {resolved})",
                                 fix="point it at the dataset's folder, or leave it None for the bundled data")
        if name.endswith("_dir") and resolved.exists() and not resolved.is_dir():
            raise ParameterError(f"parameter {name!r}: {value!r} is a file, not a folder (resolved to {resolved})",
                                 fix="name a folder (it is created if missing)")
        if (name.endswith(("_path", "_file")) or name in _PATH_NAMES) and not resolved.is_file():
            raise ParameterError(f"parameter {name!r}: {value!r} is not a file (resolved to {resolved})",
                                 fix="name an existing file, or pass None for the default")
    return values


def output_folder(notebook: Path, out_dir: Path | None, flat: bool) -> Path:
    """Where a run writes: ``out_dir/<stem>`` (or ``out_dir`` itself with ``flat``), never outside ``out_dir``."""
    base = Path(out_dir or "runs")
    if base.exists() and not base.is_dir():
        raise ParameterError(f"--out {base} is a file, not a folder", fix="name a folder (it is created if missing)")
    if flat:
        return base
    stem = notebook.stem
    if not stem or stem.strip(".") == "" or any(sep in stem for sep in ("/", "\\")):
        raise ParameterError(f"notebook name {notebook.name!r} cannot name an output folder inside {base}",
                             fix="rename the notebook to a plain name such as 07_mine.ipynb")
    out = base / stem
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out} is a file, not a folder", fix="remove it or choose another --out")
    return out


def strip_run_metadata(path: Path) -> None:
    """Drop what papermill adds (timestamps, empty tag lists, saved widget state), so a committed notebook only
    changes with its outputs and its text source carries no ``tags=[]`` noise."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)  # saved widget state: nothing a reader of the committed notebook can use
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    nbformat.write(nb, path)


def run_notebook(
    notebook: Path,
    parameters: dict[str, Any] | None = None,
    out_dir: Path | None = None,
    profile: str | None = None,
    progress: bool = True,
    output_path: Path | None = None,
    flat: bool = False,
) -> RunResult:
    """Execute ``notebook`` with validated ``parameters``; raise NotebookFailed if a cell fails.

    Outputs go to ``out_dir/<notebook stem>/`` (or straight into ``out_dir`` with ``flat=True``).
    """
    notebook = Path(notebook).resolve()
    values = prepare(notebook, parameters or {}, profile)
    out = output_folder(notebook, out_dir, flat)
    timeout = _cell_timeout()
    origin = provenance(notebook, values)
    with run_lock(out):
        # Executed into the run folder first; an ``output_path`` (``--inplace``) is replaced only once every cell
        # ran, so a failing or interrupted run never leaves a half-executed notebook in its place. status.json says
        # which state the folder is in, so a partial notebook and metrics.json are never mistaken for a result.
        output = out / notebook.name
        metrics_file = out / "metrics.json"
        write_status(out, "running", **origin)
        metrics_file.unlink(missing_ok=True)
        (out / "params.json").write_text(json.dumps(values, indent=2, sort_keys=True))
        start = time.perf_counter()
        try:
            with current_env_kernel(out / "kernel.log") as kernel, _env(ENV_VAR, str(metrics_file.resolve())), _log_to(out / "run.log"):
                pm.execute_notebook(
                    str(notebook), str(output), parameters=values, kernel_name=kernel,
                    progress_bar=progress, log_output=True, cwd=str(notebook.parent),
                    execution_timeout=timeout,
                )
        except PapermillExecutionError as e:
            if e.ename == "KeyboardInterrupt":  # Ctrl-C reached the kernel too (same process group)
                write_status(out, "interrupted", seconds=round(time.perf_counter() - start, 1), **origin)
                raise KeyboardInterrupt from None
            write_status(out, "failed", error=f"{e.ename}: {e.evalue}", cell=e.cell_index, **origin)
            raise NotebookFailed(
                f"{notebook.name} failed in cell {e.cell_index} (execution count {e.exec_count}): "
                f"{e.ename}: {e.evalue}\npartially executed notebook: {output}\nlog: {out / 'run.log'}",
                e.ename, e.evalue,
            ) from None
        except KeyboardInterrupt:
            write_status(out, "interrupted", seconds=round(time.perf_counter() - start, 1), **origin)
            raise
        except BaseException as e:
            write_status(out, "failed", error=f"{type(e).__name__}: {e}", **origin)
            raise
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        if not metrics_file.exists():
            metrics_file.write_text("{}\n")
        if output_path is not None:
            output = replace_atomically(output_path, lambda tmp: shutil.copyfile(output, tmp))
        seconds = time.perf_counter() - start
        write_status(out, "ok", seconds=round(seconds, 1), **origin)
    return RunResult(notebook, output, values, metrics, seconds)
