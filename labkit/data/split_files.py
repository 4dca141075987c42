"""LaMem-format split files, with real-valued scores or with 0/1 labels (the rumor-study format).

One line per image, space separated: ``relative/path.jpg 0.734`` (scores) or ``relative/path.jpg 1``
(binary). The seed's rumor study used binary LaMem-style splits and trained AMNet on them as a
regression, thresholding at 0.5 afterwards; this module reads both kinds with line-numbered errors,
builds the course's median-split stand-in task, and writes AMNet-style prediction CSVs (``--csv-out``).

A user folder for ``data_root`` looks like LaMem: ``<root>/images/...`` and
``<root>/splits/{train,test}_1.txt`` (and optionally ``val_1.txt``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class SplitFormatError(ValueError):
    """A split file line is not ``relative/path score`` (or, for binary splits, ``relative/path 0|1``)."""


@dataclass(frozen=True)
class SplitEntry:
    path: str  # relative to the images folder
    score: float  # 0.0 / 1.0 for binary splits


def read_split(path: str | Path, binary: bool = False) -> list[SplitEntry]:
    """Parse a split file; ``binary=True`` accepts only the labels 0 and 1."""
    path = Path(path)
    if not path.is_file():
        raise SplitFormatError(f"{path}: split file not found")
    entries: list[SplitEntry] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        where = f"{path}:{n}"
        if len(parts) != 2:
            raise SplitFormatError(
                f"{where}: expected 'relative/path.jpg {'0|1' if binary else 'score'}' (2 fields separated by "
                f"spaces), got {len(parts)} fields: {line[:80]!r}"
            )
        name, value = parts
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise SplitFormatError(f"{where}: image path must be relative to the images folder, got {name!r}")
        if binary:
            if value not in ("0", "1"):
                raise SplitFormatError(f"{where}: binary label must be 0 or 1, got {value!r}")
            score = float(value)
        else:
            try:
                score = float(value)
            except ValueError as e:
                raise SplitFormatError(f"{where}: score {value!r} is not a number") from e
            if not math.isfinite(score):
                raise SplitFormatError(f"{where}: score {value!r} is not finite")
        if name in seen:
            raise SplitFormatError(f"{where}: {name!r} already listed on line {seen[name]}")
        seen[name] = n
        entries.append(SplitEntry(name, score))
    if not entries:
        raise SplitFormatError(f"{path}: split file has no entries")
    return entries


def write_split(path: str | Path, entries: Sequence[SplitEntry], binary: bool = False) -> Path:
    """Write entries in LaMem format (binary: integer labels)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = (lambda s: str(int(s))) if binary else (lambda s: f"{s:.6f}")  # noqa: E731
    path.write_text("".join(f"{e.path} {fmt(e.score)}\n" for e in entries))
    return path


def median_split(scores: Sequence[float] | np.ndarray) -> tuple[np.ndarray, float]:
    """0/1 labels: 1 above the median, 0 at or below it (the course's stand-in binary task)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"need a 1-D array of at least 2 scores, got shape {s.shape}")
    med = float(np.median(s))
    return (s > med).astype(np.int64), med


def lamem_folder(root: str | Path, split: str = "train_1", binary: bool = True) -> tuple[list[Path], np.ndarray]:
    """Image paths and labels of ``<root>/splits/<split>.txt`` (images under ``<root>/images``)."""
    root = Path(root)
    entries = read_split(root / "splits" / f"{split}.txt", binary=binary)
    paths = [root / "images" / e.path for e in entries]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SplitFormatError(f"{len(missing)} images listed in {split}.txt are missing, e.g. {missing[0]}")
    return paths, np.array([e.score for e in entries], dtype=np.float32)


def write_predictions(path: str | Path, names: Sequence[str], predictions: Sequence[float],
                      targets: Sequence[float] | None = None) -> Path:
    """Per-image predictions as CSV (``name,prediction[,target]``), like AMNet's ``--csv-out``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(names) != len(predictions) or (targets is not None and len(targets) != len(names)):
        raise ValueError("names, predictions and targets must have the same length")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "prediction"] + (["target"] if targets is not None else []))
        for i, name in enumerate(names):
            w.writerow([name, f"{float(predictions[i]):.6f}"] + ([f"{float(targets[i]):.6f}"] if targets is not None else []))
    return path
