"""``labkit sweep``: a grid of headless runs collected into one experiment table.

Each grid point is an ordinary ``labkit run`` in its own folder (executed notebook, ``metrics.json``,
``params.json``, log) plus a ``status.json``. Runs execute as separate processes — local worker threads
by default, or tasks on an existing Dask distributed cluster (``--scheduler``; workers must see the same
filesystem) — so one failing run never takes the others down, and running the same sweep again skips
the points whose ``status.json`` says they finished.
"""

from __future__ import annotations

import csv
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

from tqdm.auto import tqdm

from labkit.course.params import ParameterError, parse_cli_value, read_params, validate
from labkit.viz.curves import save_distributions

STATUS = "status.json"
SCHEDULER_TIMEOUT = 10  # seconds to wait for a Dask scheduler before saying it cannot be reached


@dataclass(frozen=True)
class RunSpec:
    notebook: str
    params: dict[str, Any]
    folder: str
    profile: str | None = None


def grid(notebook: Path, axes: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """Cartesian product of ``-p NAME V1 V2 ...`` axes, every value parsed and type-checked now."""
    declared = read_params(notebook)
    parsed: list[list[tuple[str, Any]]] = []
    for name, *raws in axes:
        if not raws:
            raise ParameterError(f"-p {name} needs at least one value to sweep over", fix=f"e.g. -p {name} 1 2 3")
        if name not in declared:
            validate(declared, {name: None}, notebook.name)  # raises, naming the closest parameter
        parsed.append([(name, parse_cli_value(r, declared[name])) for r in raws])
    names = [axis[0][0] for axis in parsed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ParameterError(f"{', '.join(twice)} appear(s) twice in the sweep",
                             fix="give each parameter once, with all its values: -p NAME V1 V2 ...")
    return [dict(combo) for combo in itertools.product(*parsed)]


def run_name(params: dict[str, Any]) -> str:
    """A readable, filesystem-safe folder name such as ``lstm_steps=3__epochs=35``."""
    if not params:
        return "defaults"
    safe = lambda v: "".join(c if c.isalnum() or c in "-._" else "_" for c in json.dumps(v).strip('"'))  # noqa: E731
    return "__".join(f"{k}={safe(v)}" for k, v in params.items())


def execute(spec: RunSpec) -> dict[str, Any]:
    """Run one grid point in a fresh process; never raises (the error goes into the table)."""
    folder = Path(spec.folder)
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "labkit", "run", spec.notebook, "--out", str(folder), "--flat", "--quiet"]
    for k, v in spec.params.items():
        cmd += ["-p", k, v if isinstance(v, str) else json.dumps(v)]
    if spec.profile:
        cmd += ["--profile", spec.profile]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    status = {
        "status": "ok" if proc.returncode == 0 else "failed",
        "params": spec.params,
        "seconds": round(time.perf_counter() - start, 1),
        "error": "" if proc.returncode == 0 else _error_line(proc.stderr),
    }
    (folder / STATUS).write_text(json.dumps(status, indent=2))
    return status


def _error_line(stderr: str) -> str:
    """The runner's own message (``labkit: ...``), not kernel chatter printed before it."""
    lines = stderr.strip().splitlines()
    ours = [ln for ln in lines if ln.startswith("labkit:")]
    return (ours or lines[-1:] or ["unknown error (no message)"])[0][:500]


def _done(folder: Path, params: dict[str, Any]) -> bool:
    try:
        status = json.loads((folder / STATUS).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return status.get("status") == "ok" and status.get("params") == params


def sweep(notebook: Path, axes: Sequence[Sequence[str]], out: Path, workers: int = 1,
          scheduler: str | None = None, profile: str | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Run the grid (skipping finished points) and return one row per point."""
    points = grid(notebook, axes)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file, not a folder", fix="name a folder (it is created if missing)")
    specs = [RunSpec(str(notebook), p, str(out / run_name(p)), profile) for p in points]
    todo = [s for s in specs if not _done(Path(s.folder), s.params)]
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
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(tqdm(pool.map(execute, todo), total=len(todo), desc="sweep", disable=not progress))
    return collect(out, specs)


def _flatten(prefix: str, value: Any, row: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, row)
    elif isinstance(value, int | float | str | bool) or value is None:
        row[prefix] = value


def collect(out: Path, specs: Sequence[RunSpec]) -> list[dict[str, Any]]:
    """Gather every run's parameters, status and scalar metrics into ``sweep.csv`` and ``sweep.md``."""
    rows, series = [], {}
    for s in specs:
        folder = Path(s.folder)
        status = json.loads((folder / STATUS).read_text()) if (folder / STATUS).exists() else {"status": "missing"}
        row: dict[str, Any] = {"run": folder.name, **s.params, "status": status["status"],
                               "seconds": status.get("seconds"), "error": status.get("error", "")}
        metrics_file = folder / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        for k, v in metrics.items():
            if isinstance(v, list) and v and all(isinstance(x, int | float) for x in v):
                series.setdefault(k, {})[folder.name] = v
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
    if series:
        save_distributions(series, out)
    return rows


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    fmt = lambda v: "" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v).replace("|", "/"))  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"
