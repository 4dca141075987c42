"""LaMem split files (``splits/train_1.txt``: lines ``relative/path.jpg score``) and an image dataset.

Why strict parsing: a split file with a stray header, a comma separator or a missing score would shift
every label silently; each such line is a ``LaMemFormatError`` naming the file and line number.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image


class LaMemFormatError(ValueError):
    """A LaMem split file or folder is malformed."""


def read_split(path: str | os.PathLike) -> list[tuple[str, float]]:
    """``[(relative image path, score), ...]`` from one split file, in file order."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"LaMem split file {p} does not exist (expected <root>/splits/<split>.txt)")
    rows = []
    for i, line in enumerate(p.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise LaMemFormatError(f"{p}:{i}: expected 'relative/path.jpg score', got {line!r}")
        try:
            score = float(parts[1])
        except ValueError:
            raise LaMemFormatError(f"{p}:{i}: score {parts[1]!r} is not a number") from None
        if not np.isfinite(score):
            raise LaMemFormatError(f"{p}:{i}: score {parts[1]!r} is not finite")
        rows.append((parts[0], score))
    if not rows:
        raise LaMemFormatError(f"{p}: split file has no entries")
    return rows


class LaMemDataset:
    """Images of one split under ``root/images`` with their scores; ``transform`` maps a PIL image to a tensor."""

    def __init__(self, root: str | os.PathLike, split: str = "test_1", transform: Callable | None = None):
        self.root = Path(root)
        self.items = read_split(self.root / "splits" / f"{split}.txt")
        self.transform = transform
        missing = [r for r, _ in self.items if not (self.root / "images" / r).is_file()]
        if missing:
            raise LaMemFormatError(
                f"{len(missing)} image(s) of split {split!r} missing under {self.root / 'images'} (first: {missing[0]})"
            )

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        rel, score = self.items[i]
        img = Image.open(self.root / "images" / rel).convert("RGB")
        return (self.transform(img) if self.transform else img), np.float32(score)

    @property
    def scores(self) -> np.ndarray:
        return np.array([s for _, s in self.items], dtype=np.float32)
