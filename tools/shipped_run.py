"""What every checkpoint-training script under ``tools/`` shares: arguments, resumable wall time, the curve file,
the machine and command of the MANIFEST record, and the registration.

Why one module: ``train_ram.py``, ``train_video_attention.py`` and ``train_sa_lstm.py`` ship checkpoints by the same
rule (seeded, resumable through ``labkit.train.fit``, scored once at the best validation epoch, a MANIFEST entry with
sha256, exact command, wall time, machine, held-out figures and training curve). The rule lives here once, so a
change to it (say, what a record holds) reaches every shipped checkpoint.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from labkit.core.assets import register  # noqa: E402

MNIST_LICENCE = "MNIST: Y. LeCun & C. Cortes, CC BY-SA 3.0"


def add_common_arguments(ap: argparse.ArgumentParser, group: str, epochs: int, lr: float, batch_size: int = 64,
                         threads: int = 1) -> None:
    """--seed --epochs --batch-size --lr --threads --steps --out --register, with this script's defaults."""
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--steps", type=int, default=0, help="smoke test: this many batches of training data, 1 epoch")
    ap.add_argument("--out", default=str(ROOT / "data" / group), help="folder for the checkpoint and its curve")
    ap.add_argument("--register", action="store_true", help=f"write the MANIFEST entry (for data/{group} only)")


class WallClock:
    """Wall time of one run summed over interrupted invocations (kept next to ``fit``'s resumable checkpoints).

    A smoke test (``--steps``) gets its own throw-away folder under ``out`` and never resumes a real run."""

    def __init__(self, tool: str, name: str, out: Path, smoke: bool) -> None:
        self.dir = (out / ".smoke" / name) if smoke else ROOT / "runs" / tool / name
        self._file = self.dir / "wall_seconds.json"
        self.before = json.loads(self._file.read_text())["seconds"] if self._file.is_file() and not smoke else 0.0
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
