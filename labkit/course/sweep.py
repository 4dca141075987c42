"""``labkit sweep``: a grid of headless runs collected into one experiment table.

Each grid point is an ordinary ``labkit run`` in its own folder (executed notebook, ``metrics.json``,
``params.json``, log) plus a ``status.json``. Runs execute as separate processes — local worker threads
by default, or tasks on an existing Dask distributed cluster (``--scheduler``; workers must see the same
filesystem) — so one failing run never takes the others down, and running the same sweep again skips
the points whose ``status.json`` says they finished.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.core.env import THREADS_ENV
from labkit.core.errors import ParameterError
from labkit.core.progress import tqdm
from labkit.viz.curves import save_distributions

STATUS = "status.json"
SCHEDULER_TIMEOUT = 10  # seconds to wait for a Dask scheduler before saying it cannot be reached
SWEEP_RUN_ENV = "LABKIT_SWEEP_RUN"  # set in every run a sweep starts (to the run's folder name)
SWEEP_THREADS_ENV = THREADS_ENV  # the cores each run of a local sweep may use: the machine's / workers


@dataclass(frozen=True)
class RunSpec:
    notebook: str
    params: dict[str, Any]
    folder: str
    profile: str | None = None
    threads: int | None = None  # cores this run may use (local pools); None: the worker's own


def grid(notebook: Path, axes: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """Cartesian product of ``-p NAME V1 V2 ...`` axes, every value parsed and type-checked now."""
    # imported here, so that `inside_sweep` stays light to import in every notebook
    from labkit.course.params import parse_cli_params

    parsed: list[list[tuple[str, Any]]] = []
    for name, raws, values in parse_cli_params(notebook, axes):
        keys = [json.dumps(v, sort_keys=True) for v in values]
        repeated = sorted({raws[i] for i, k in enumerate(keys) if keys.count(k) > 1})
        if repeated:
            raise ParameterError(f"-p {name}: the value(s) {', '.join(repeated)} appear twice; each would run into the "
                                 "same folder", fix=f"give each value of {name} once")
        parsed.append([(name, v) for v in values])
    names = [axis[0][0] for axis in parsed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ParameterError(f"{', '.join(twice)} appear(s) twice in the sweep",
                             fix="give each parameter once, with all its values: -p NAME V1 V2 ...")
    return [dict(combo) for combo in itertools.product(*parsed)]


MAX_NAME = 120  # characters of a run folder's name: well under the 255 bytes file systems allow


def _params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]


def run_name(params: dict[str, Any]) -> str:
    """A readable, filesystem-safe folder name such as ``lstm_steps=3__epochs=35``; a name that would pass
    ``MAX_NAME`` is cut and given a hash of the values, so it stays unique and creatable."""
    if not params:
        return "defaults"
    safe = lambda v: "".join(c if c.isalnum() or c in "-._" else "_" for c in json.dumps(v).strip('"'))  # noqa: E731
    name = "__".join(f"{k}={safe(v)}" for k, v in params.items())
    if len(name.encode()) > MAX_NAME:
        name = name.encode()[: MAX_NAME - 12].decode(errors="ignore") + "__" + _params_hash(params)
    return name


def run_names(points: Sequence[dict[str, Any]]) -> list[str]:
    """One folder name per grid point, unique: values that read the same once made safe (``a b``, ``a_b``,
    ``a:b``) each get a hash of their values appended, so no two runs ever share (and merge into) one folder."""
    names = [run_name(p) for p in points]
    return [f"{n}__{_params_hash(p)}" if names.count(n) > 1 else n for n, p in zip(names, points, strict=True)]


def inside_sweep() -> bool:
    """Whether this process runs as one point of a sweep. A notebook that can sweep itself (03) then skips its own
    sweep, so ``labkit sweep 03 -p lstm_steps 1 2 3`` runs three notebooks, not three that each start four more."""
    return bool(os.environ.get(SWEEP_RUN_ENV))


def standalone_copy(notebook: Path, folder: Path) -> Path:
    """``folder/<name>.ipynb``: the notebook's cells without outputs, read from its text source (``<name>.py``)
    when it has one, else from the notebook; written to a temporary file, then renamed.

    Why: a notebook that sweeps *itself* (03) starts its runs while ``labkit run --inplace`` is still writing its
    ``.ipynb``; a run pointed at that file reads it half-written and syncs the pair mid-write (jupytext's
    ``SynchronousModificationError``). The text source is not written during a run, and a copy outside
    ``notebooks/`` is never synced — every run of the sweep executes the same code.
    """
    import jupytext
    import nbformat

    text = notebook.with_suffix(".py")
    nb = jupytext.read(text) if text.is_file() else nbformat.read(notebook, as_version=4)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / notebook.with_suffix(".ipynb").name
    tmp = dst.with_suffix(".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(dst)
    return dst


def execute(spec: RunSpec) -> dict[str, Any]:
    """Run one grid point in a fresh process; never raises (the error goes into the table)."""
    folder = Path(spec.folder)
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "labkit", "run", spec.notebook, "--out", str(folder), "--flat", "--quiet"]
    for k, v in spec.params.items():
        cmd += ["-p", k, v if isinstance(v, str) else json.dumps(v)]
    if spec.profile:
        cmd += ["--profile", spec.profile]
    from labkit.course.runner import write_status

    start = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", SWEEP_RUN_ENV: folder.name}
    if spec.threads:
        env[SWEEP_THREADS_ENV] = str(spec.threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    # The run wrote status.json itself (running → ok | failed | interrupted, with its provenance); add what only
    # the sweep knows. A run refused before it started wrote none: say why.
    try:
        status = json.loads((folder / STATUS).read_text())
    except (OSError, json.JSONDecodeError):
        status = {}
    ok = proc.returncode == 0 and status.get("status") == "ok"
    status.update(status="ok" if ok else "failed" if status.get("status") != "interrupted" else "interrupted",
                  params=spec.params, seconds=round(time.perf_counter() - start, 1),
                  error="" if ok else _error_line(proc.stderr))
    write_status(folder, **status)
    return status


def _error_line(stderr: str) -> str:
    """The runner's own message (``labkit: ...``), not kernel chatter printed before it."""
    lines = stderr.strip().splitlines()
    ours = [ln for ln in lines if ln.startswith("labkit:")]
    return (ours or lines[-1:] or ["unknown error (no message)"])[0][:500]


def _status(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / STATUS).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


_ORIGIN = ("notebook", "notebook_sha256", "parameters", "labkit_version")


def _same_origin(status: dict[str, Any], origin: dict[str, Any]) -> bool:
    want = json.loads(json.dumps(origin, default=str))  # tuples → lists, as status.json holds them
    return all(status.get(k) == want[k] for k in _ORIGIN)


def sweep(notebook: Path, axes: Sequence[Sequence[str]], out: Path, workers: int = 1,
          scheduler: str | None = None, profile: str | None = None, progress: bool = True,
          force: bool = False) -> list[dict[str, Any]]:
    """Run the grid and return one row per point.

    A point is skipped only when its folder holds a finished run produced by *this* notebook's current cells, with
    every parameter value (defaults included) and the labkit version the same (``status.json`` records them). A
    finished run that differs (an older notebook, another notebook's sweep, another profile) is never reported as
    this sweep's result and never silently replaced: the sweep refuses, and ``force`` re-runs such points after
    moving their folders to ``out/.replaced/``.
    """
    from labkit.course.runner import prepare, provenance, run_lock

    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ParameterError(f"--workers must be a whole number >= 1, got {workers!r}", fix="e.g. --workers 2")
    points = grid(notebook, axes)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file, not a folder", fix="name a folder (it is created if missing)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    per_run = None if scheduler else max(1, cores // workers)
    specs = [RunSpec(str(notebook), p, str(out / name), profile, per_run) for p, name in zip(points, run_names(points), strict=True)]
    origins = {s.folder: provenance(notebook, prepare(notebook, s.params, profile)) for s in specs}
    with run_lock(out):
        finished = {s.folder: _status(Path(s.folder)) for s in specs}
        stale = [s for s in specs if finished[s.folder].get("status") == "ok" and not _same_origin(finished[s.folder], origins[s.folder])]
        if stale and not force:
            first = finished[stale[0].folder]
            why = next((k for k in _ORIGIN if first.get(k) != json.loads(json.dumps(origins[stale[0].folder], default=str))[k]), "origin")
            raise ParameterError(
                f"{len(stale)} finished run(s) in {out} were produced by something else (first: {Path(stale[0].folder).name}, "
                f"whose {why} differs); they are not results of this sweep and nothing was run",
                fix="choose a new --out, or pass --force to re-run them (their folders move to .replaced/)")
        if stale:
            moved = out / ".replaced" / time.strftime("%Y%m%d-%H%M%S")
            moved.mkdir(parents=True, exist_ok=True)
            for s in stale:
                os.replace(s.folder, moved / Path(s.folder).name)
        todo = [s for s in specs if not (finished[s.folder].get("status") == "ok" and s not in stale)]
        if len(todo) < len(specs) and progress:
            print(f"sweep: {len(specs) - len(todo)} of {len(specs)} runs already finished, skipping them")
        if todo and scheduler:
            from dask.distributed import Client, as_completed

            try:
                client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as e:
                raise ParameterError(f"cannot reach the Dask scheduler at {scheduler!r} within {SCHEDULER_TIMEOUT} s "
                                     f"({type(e).__name__})", fix="start it (dask scheduler) or drop --scheduler") from None
            with client:
                futures = client.map(execute, todo, pure=False)
                for _ in tqdm(as_completed(futures), total=len(futures), desc="sweep (dask)", disable=not progress):
                    pass
        elif todo:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(tqdm(pool.map(execute, todo), total=len(todo), desc="sweep", disable=not progress))
        return collect(out, specs)


def _flatten(prefix: str, value: Any, row: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, row)
    elif isinstance(value, int | float | str | bool) or value is None:
        row[prefix] = value


def _is_series(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)


def _short_names(specs: Sequence[RunSpec]) -> dict[str, str]:
    """Each run's folder name → the parameters that differ between runs (``lstm_steps=1, att_off=True``)."""
    varying = [k for k in dict.fromkeys(k for s in specs for k in s.params)
               if len({json.dumps(s.params.get(k)) for s in specs}) > 1]
    return {Path(s.folder).name: ", ".join(f"{k}={s.params.get(k)}" for k in varying) or Path(s.folder).name
            for s in specs}


def collect(out: Path, specs: Sequence[RunSpec]) -> list[dict[str, Any]]:
    """Gather every run's parameters, status and scalar metrics into ``sweep.csv`` and ``sweep.md``; every recorded
    list of numbers becomes ``sweep_<key>.png`` (its distribution per run, overlaid), and every recorded dict of such
    lists (e.g. test scores per class) ``sweep_<key>.png`` with one panel per run."""
    rows, series, per_run = [], {}, {}
    short = _short_names(specs)
    for s in specs:
        folder = Path(s.folder)
        status = json.loads((folder / STATUS).read_text()) if (folder / STATUS).exists() else {"status": "missing"}
        row: dict[str, Any] = {"run": folder.name, **s.params, "status": status["status"],
                               "seconds": status.get("seconds"), "error": status.get("error", "")}
        metrics_file = folder / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        for k, v in metrics.items():
            if _is_series(v):
                series.setdefault(k, {})[short[folder.name]] = v
            elif isinstance(v, dict) and v and all(_is_series(x) or x == [] for x in v.values()):
                per_run.setdefault(k, {})[short[folder.name]] = v
            else:
                _flatten(k, v, row)
        rows.append(row)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "sweep.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    (out / "sweep.md").write_text(markdown_table(rows, columns))
    if series or per_run:
        save_distributions(series, out, per_run)
    return rows


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    fmt = lambda v: "" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v).replace("|", "/"))  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"
