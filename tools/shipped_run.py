"""What every checkpoint-training script under ``tools/`` shares: :class:`ShippedRun` (one run folder, seed, wall
clock, curve, report, licence and registration) and the parts it is built on (arguments, resumable wall time, the
curve file, the machine and command of the MANIFEST record, the registration).

Why one module: ``train_ram.py``, ``train_video_attention.py``, ``train_sa_lstm.py`` and ``train_amnet_pasted.py``
ship checkpoints by the same rule (seeded, resumable through ``labkit.train.fit``, scored once at the best validation
epoch, a MANIFEST entry with sha256, exact command, wall time, machine, held-out figures and training curve). The rule
lives here once, so a change to it (say, what a record holds) reaches every shipped checkpoint, and a script keeps
only what is its own: its arguments, its model and its data.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from labkit.train import History, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from labkit.core.assets import register  # noqa: E402

# The licences of the data a shipped checkpoint was trained on, written once (a registered weights file's licence is
# :func:`weights_licence` of one of them, so every checkpoint words it the same way).
MNIST_LICENCE = "MNIST: Y. LeCun & C. Cortes, CC BY-SA 3.0"
PASTED_OBJECTS_LICENCE = ("scikit-image's lfw_subset faces pasted on the bundled scikit-image / scikit-learn sample "
                          "photos, under their sample-image licences")


def weights_licence(data_licence: str) -> str:
    """The MANIFEST licence of weights trained here: ours, on data under ``data_licence``."""
    return f"weights trained here on data built from {data_licence}"


def add_common_arguments(ap: argparse.ArgumentParser, group: str, epochs: int, lr: float, batch_size: int = 64,
                         threads: int = 1) -> None:
    """--seed --epochs --batch-size --lr --threads --steps --out --register, with this script's defaults."""
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--steps", type=int, default=0, help="smoke test: this many batches of training data, 1 epoch, "
                    "in its own folder under --out")
    ap.add_argument("--out", default=str(ROOT / "data" / group), help="folder for the checkpoint and its curve")
    ap.add_argument("--register", action="store_true", help=f"write the MANIFEST entry (for data/{group} only)")


class WallClock:
    """Wall time of one run summed over interrupted invocations (kept next to ``fit``'s resumable checkpoints).

    A smoke test (``--steps``) gets its own throw-away folder under ``out`` and never resumes a real run; it adds up
    its own earlier invocations only under ``resume=True`` (what :class:`ShippedRun` asks for)."""

    def __init__(self, tool: str, name: str, out: Path, smoke: bool, *, resume: bool | None = None) -> None:
        self.dir = (out / ".smoke" / name) if smoke else ROOT / "runs" / tool / name
        self._file = self.dir / "wall_seconds.json"
        resume = not smoke if resume is None else resume
        self.before = json.loads(self._file.read_text())["seconds"] if self._file.is_file() and resume else 0.0
        self._t0 = time.perf_counter()

    def start(self) -> None:
        """Count from now (what came before, e.g. loading the data, is not the run's training time)."""
        self._t0 = time.perf_counter()

    def stop(self) -> float:
        wall = self.before + time.perf_counter() - self._t0
        self.dir.mkdir(parents=True, exist_ok=True)
        self._file.write_text(json.dumps({"seconds": wall}))
        return wall


def write_curve(epochs: Sequence[dict], path: Path, digits: int = 6) -> Path:
    """The training curve (one row per epoch, every logged column) as the small CSV a notebook plots."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for row in epochs for k in row)))
        w.writeheader()
        w.writerows({k: round(v, digits) if isinstance(v, float) else v for k, v in row.items()} for row in epochs)
    return path


def machine(threads: int) -> str:
    return f"{platform.machine()} {platform.processor() or platform.platform()}, {threads} threads"


def command(script: str, argv: list[str] | None) -> str:
    """The exact command line that rebuilds a checkpoint (recorded as its MANIFEST ``restore``)."""
    return f"PYTHONPATH=. python tools/{script} " + shlex.join(sys.argv[1:] if argv is None else argv)


def register_checkpoint(weights: Path, curve: Path, what: str, licence: str, report: dict) -> None:
    """MANIFEST entries for the weights (with the training record) and for their curve."""
    rel = lambda p: str(p.relative_to(ROOT / "data"))  # noqa: E731
    register(rel(curve), f"training curve of {weights.stem}", licence, restore=report["command"])
    register(rel(weights), what, licence, restore=report["command"], training=report)


class ShippedRun:
    """One shipped training run, from seed to MANIFEST entry: every ``tools/train_*.py`` script builds one, picks its
    model and data, and leaves the rest here.

    - **run folder** ``.dir``: ``fit``'s ``checkpoint_dir`` — ``runs/<tool>/<name>/``, or ``<out>/.smoke/<name>/`` for
      a smoke test. Every run resumes (``resume=True``): a cut run re-invoked continues bit-identically, a finished
      one restores its best epoch and only re-scores. A smoke folder is emptied first when the command differs from
      the one that filled it (a smoke test never continues another's checkpoint); a real run continues whatever its
      folder holds, so ``--epochs`` may be raised to train on.
    - **seed and threads**: set when the run is built, i.e. before the script draws its data and model, so the shipped
      commands rebuild the shipped weights.
    - **wall clock**: training time only (``start`` at :meth:`fit`, stopped after it), summed over invocations.
    - **report**: :meth:`finish` writes the weights (atomically) and the curve (6 digits), and builds the one record
      shape every checkpoint carries: model, name, seed, config, train (the TrainConfig essentials), monitor,
      best_epoch, epochs (run), wall_seconds, heldout, data, machine, command, then the script's own fields.
    - **registration**: :meth:`register`, with the licence worded by :func:`weights_licence`.

    torch and labkit's training modules are imported inside the methods: ``tools/ram_levers.py`` imports this module
    for its licence and registration only, and should not pay for them.
    """

    def __init__(self, tool: str, name: str, out: str | Path, *, family: str, seed: int, threads: int,
                 smoke: bool = False, argv: Sequence[str] | None = None) -> None:
        from labkit.core.env import seed_everything, set_threads
        from labkit.core.files import write_text_atomically

        self.tool, self.name, self.family, self.seed, self.threads, self.smoke = tool, name, family, seed, threads, smoke
        self.out = Path(out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.command = command(f"{tool}.py", self.argv)
        self.clock = WallClock(tool, name, self.out, smoke, resume=True)
        self.dir = self.clock.dir
        stamp = self.dir / "argv.json"
        if smoke and stamp.is_file() and json.loads(stamp.read_text()) != self.argv:
            shutil.rmtree(self.dir)  # another smoke command's checkpoint: never continue it
            self.clock = WallClock(tool, name, self.out, smoke, resume=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        write_text_atomically(stamp, json.dumps(self.argv))
        set_threads(threads)
        seed_everything(seed)
        self.config: TrainConfig | None = None
        self.wall: float | None = None

    def train_config(self, *, epochs: int, batch_size: int, lr: float, monitor: str, monitor_mode: str = "max",
                     **options: Any) -> TrainConfig:
        """This run's TrainConfig: seeded, on CPU, resumable from ``.dir``, one epoch in a smoke test; ``options``
        are the script's other TrainConfig fields (optimizer, grad_clip, weight_decay, progress, ...)."""
        from labkit.train import TrainConfig

        self.config = TrainConfig(**{"device": "cpu", "progress": True, **options}, epochs=1 if self.smoke else epochs,
                                  batch_size=batch_size, lr=lr, seed=self.seed, monitor=monitor,
                                  monitor_mode=monitor_mode, checkpoint_dir=str(self.dir), resume=True)
        return self.config

    def fit(self, model: torch.nn.Module, dataset: Any, step: Callable, **fit_options: Any) -> History:
        """``labkit.train.fit`` under :meth:`train_config`'s settings, timed; the model holds its best epoch after."""
        from labkit.train import fit

        if self.config is None:
            raise RuntimeError(f"{self.tool}: call ShippedRun.train_config(...) before ShippedRun.fit(...)")
        self.clock.start()
        history = fit(model, dataset, step, self.config, **fit_options)
        self.wall = self.clock.stop()
        return history

    @property
    def weights(self) -> Path:
        return self.out / f"{self.name}.pt"

    @property
    def curve(self) -> Path:
        return self.out / f"{self.name}_curve.csv"

    def train_record(self) -> dict[str, Any]:
        """The TrainConfig essentials (and the options a script set away from TrainConfig's defaults)."""
        from labkit.train import TrainConfig

        cfg, default = self.config, TrainConfig()
        record = {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr, "optimizer": cfg.optimizer}
        for key in ("weight_decay", "grad_clip", "momentum"):
            if getattr(cfg, key) != getattr(default, key) and (key != "momentum" or cfg.optimizer in ("sgd", "rmsprop")):
                record[key] = getattr(cfg, key)
        return record

    def finish(self, model: torch.nn.Module, history: History, *, heldout: Mapping[str, Any], config: Mapping[str, Any],
               data: str, what: str = "", licence: str = MNIST_LICENCE, register: bool = False,
               extra: Mapping[str, Any] | None = None, train_extra: Mapping[str, Any] | None = None,
               ship: bool = True, save: Callable[[Path], Any] | None = None, show: bool = True,
               hide: Sequence[str] = ()) -> dict[str, Any]:
        """Write the weights and curve (``ship``), build the report, keep it in the run folder (``report.json``), print
        it (``show``, less the ``hide`` keys, as the last thing on stdout), register it (``register``: ``what`` and
        ``licence`` name the weights) and return it.

        ``data`` says what the run trained and was scored on, naming CONSTRUCTED data where it is; ``extra`` holds
        the script's own fields; ``save(path)`` writes a weights file other than a plain ``state_dict``."""
        import torch

        from labkit.core.files import replace_atomically

        if self.wall is None:
            raise RuntimeError(f"{self.tool}: ShippedRun.finish(...) comes after ShippedRun.fit(...)")
        if ship:
            replace_atomically(self.weights, save or (lambda tmp: torch.save(model.state_dict(), tmp)))
            replace_atomically(self.curve, lambda tmp: write_curve(history.epochs, tmp))
        report = {"model": self.family, "name": self.name, "seed": self.seed, "config": dict(config),
                  "train": {**self.train_record(), **(train_extra or {})}, "monitor": self.config.monitor,
                  "best_epoch": history.best_epoch, "epochs": len(history.epochs), "wall_seconds": round(self.wall),
                  "heldout": dict(heldout), "data": data, **(extra or {}),
                  "machine": machine(self.threads), "command": self.command}
        self.write_report(report)
        if show:
            print(json.dumps({k: v for k, v in report.items() if k not in hide}, indent=2), flush=True)
        if register:
            self.register(report, what, licence)
        return report

    def write_report(self, report: Mapping[str, Any]) -> Path:
        """``report.json`` in the run folder: what the last invocation recorded, beside the checkpoints it came from."""
        from labkit.core.files import write_text_atomically

        return write_text_atomically(self.dir / "report.json", json.dumps(report, indent=2) + "\n")

    def register(self, report: Mapping[str, Any], what: str, licence: str = MNIST_LICENCE) -> None:
        """The MANIFEST entries of this run's weights (holding ``report``) and curve; ``data/<group>`` only."""
        if not self.weights.resolve().is_relative_to(ROOT / "data"):
            raise SystemExit(f"--register writes the MANIFEST of data/<group>; {self.out} is not under data/")
        register_checkpoint(self.weights, self.curve, what, weights_licence(licence), dict(report))
