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
from labkit.core.record import ENV_VAR
from labkit.course.params import ParameterError, read_params, validate

KERNEL_NAME = "labkit-current-env"


class NotebookFailed(RuntimeError):
    """A cell raised; the message names the notebook, the cell, the exception and the partial output."""


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
def current_env_kernel():
    """A kernelspec that starts *this* interpreter, so no ``ipykernel install --user`` is needed."""
    with tempfile.TemporaryDirectory(prefix="labkit-kernel-") as tmp:
        spec = Path(tmp) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({Path(sys.prefix).name})",
            "language": "python",
            # Figures must render into the notebook even when the caller exported MPLBACKEND=Agg.
            "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline", HEADLESS_ENV: "1"},
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
# notebooks/ (the kernel's working folder), so the runner makes them absolute before papermill injects them.
_PATH_PARAM = ("_root", "_dir", "_path", "_file")


def prepare(notebook: Path, parameters: dict[str, Any], profile: str | None = None) -> dict[str, Any]:
    """Validate parameters (and the profile) against the notebook's parameters cell; absolutise path parameters."""
    declared = read_params(notebook)
    values = dict(parameters)
    if profile is not None:
        if "profile" not in declared:
            raise ParameterError(f"{notebook.name} has no 'profile' parameter")
        values["profile"] = profile
    values = validate(declared, values, notebook.name)
    for name, value in values.items():
        if name.endswith(_PATH_PARAM) and isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            values[name] = str(Path(value).expanduser().resolve())
        if name.endswith("_root") and isinstance(value, str) and not Path(values[name]).is_dir():
            raise ParameterError(f"parameter {name!r}: {value!r} is not a folder (resolved to {values[name]})",
                                 fix="point it at the dataset's folder, or leave it None for the bundled data")
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
    """Drop what papermill adds (timestamps, empty tag lists), so a committed notebook only changes with its
    outputs and its text source carries no ``tags=[]`` noise."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
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
    out.mkdir(parents=True, exist_ok=True)
    # Executed into the run folder first; an ``output_path`` (``--inplace``) is replaced only once every cell ran,
    # so a failing or interrupted run never leaves a half-executed notebook in its place.
    output = out / notebook.name
    metrics_file = out / "metrics.json"
    metrics_file.unlink(missing_ok=True)
    (out / "params.json").write_text(json.dumps(values, indent=2, sort_keys=True))
    start = time.perf_counter()
    with current_env_kernel() as kernel, _env(ENV_VAR, str(metrics_file.resolve())), _log_to(out / "run.log"):
        try:
            pm.execute_notebook(
                str(notebook), str(output), parameters=values, kernel_name=kernel,
                progress_bar=progress, log_output=True, cwd=str(notebook.parent),
                execution_timeout=timeout,
            )
        except PapermillExecutionError as e:
            raise NotebookFailed(
                f"{notebook.name} failed in cell {e.cell_index} (execution count {e.exec_count}): "
                f"{e.ename}: {e.evalue}\npartially executed notebook: {output}\nlog: {out / 'run.log'}"
            ) from None
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    if not metrics_file.exists():
        metrics_file.write_text("{}\n")
    if output_path is not None:
        target = Path(output_path)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(output, tmp)
        os.replace(tmp, target)
        output = target
    return RunResult(notebook, output, values, metrics, time.perf_counter() - start)
