"""The LaMem folder format — split files, image folder, an image dataset — and the files the course writes for it.

A LaMem folder (the real LaMem, the bundled fixture, or a user's ``data_root``)::

    <root>/images/<relative path>            the images
    <root>/splits/{train,test}_1.txt         one line per image: ``relative/path.jpg 0.734``
                                             (optionally val_1.txt and the other numbered splits)

The same layout carries two kinds of label: memorability **scores** (LaMem's hit rates, so in
[0, 1]) and **0/1 labels** (AMNet-Rumor's rumor study, ``binary=True``), which AMNet trains on as a
regression and thresholds at 0.5.

Why this is the one home: the course once had two split readers with two rule sets (one accepted
``../`` paths and duplicates, the other accepted any score). Now :func:`read_split` applies one rule
to every LaMem-format file — paths stay inside the images folder (:mod:`labkit.data.paths`), no
image listed twice, scores finite and in [0, 1] (binary: exactly ``0`` or ``1``) — and every
problem, from a stray header to a missing image, is a :class:`LaMemFormatError` naming the file and
line. A comma separator or a missing score would otherwise shift every label silently. The study's
helpers that read or write this format (:func:`write_split`, :func:`median_split`,
:func:`write_predictions`, AMNet's ``--csv-out``) live beside it.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from labkit.core.checks import require_path
from labkit.core.errors import DataError, ParameterError
from labkit.data.images import load_image
from labkit.data.paths import escape_reason, odd_character, plain_decimal, read_utf8


class LaMemFormatError(DataError):
    """A LaMem split file or folder is malformed (bad line, path leaving the images folder, missing image)."""


class SplitEntry(NamedTuple):
    """One split-file line; a tuple, so ``for path, score in read_split(...)`` works too."""

    path: str  # relative to <root>/images
    score: float  # memorability in [0, 1], or 0.0 / 1.0 for binary splits


def read_split(path: str | os.PathLike, binary: bool = False) -> list[SplitEntry]:
    """The entries of one split file, in file order; ``binary=True`` accepts only the labels 0 and 1.

    Lines end at ``\\n`` only (a ``\\r`` before it is dropped, for files saved on Windows) and fields are
    separated by spaces or tabs. Any other control character or whitespace in a line (``\\v``, ``\\f``, a
    no-break space, U+2028 …) is refused naming the line, not split on as ``str.splitlines``/``str.split``
    would: that turned one line into two entries, and no LaMem image name holds such a character, so it
    marks a damaged or hand-edited file the user should see (see :func:`labkit.data.paths.odd_character`).
    """
    path = Path(path)
    if not path.is_file():
        raise LaMemFormatError(f"{path}: split file not found (expected <root>/splits/<split>.txt)")
    text = read_utf8(path, LaMemFormatError, "split file")
    expected = f"'relative/path.jpg {'0|1' if binary else 'score'}'"
    entries: list[SplitEntry] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(text.split("\n"), start=1):
        where = f"{path}:{n}"
        raw = raw.removesuffix("\r")
        odd = odd_character(raw)
        if odd:
            raise LaMemFormatError(f"{where}: character {odd}; split files separate fields with spaces and lines "
                                   "with \\n only — delete it (or re-save the file as plain text)")
        line = raw.strip(" \t")
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise LaMemFormatError(
                f"{where}: expected {expected} (2 fields separated by spaces), got {len(parts)} fields: {line[:80]!r}"
            )
        name, value = parts
        reason = escape_reason(name)
        if reason:
            raise LaMemFormatError(f"{where}: image path {name!r} {reason}; it must be relative to the images folder")
        if name in seen:
            raise LaMemFormatError(f"{where}: {name!r} already listed on line {seen[name]}")
        entries.append(SplitEntry(name, _score(value, binary, where)))
        seen[name] = n
    if not entries:
        raise LaMemFormatError(f"{path}: split file has no entries")
    return entries


def _score(value: str, binary: bool, where: str) -> float:
    if binary:
        if value not in ("0", "1"):
            raise LaMemFormatError(f"{where}: binary label must be 0 or 1, got {value!r}")
        return float(value)
    score = plain_decimal(value)  # not float(): it reads "0.5_0" as 0.5
    if score is None and value.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        score = math.nan  # a number, but not a usable one: said so below
    if score is None:
        raise LaMemFormatError(f"{where}: score {value!r} is not a number (a plain decimal such as 0.734 expected)")
    if not math.isfinite(score):
        raise LaMemFormatError(f"{where}: score {value!r} is not finite")
    if not 0.0 <= score <= 1.0:
        raise LaMemFormatError(
            f"{where}: score {score:g} outside [0, 1]; LaMem scores are hit rates (for 0/1 labels pass binary=True)"
        )
    return score


def write_split(path: str | os.PathLike, entries: Sequence[SplitEntry], binary: bool = False) -> Path:
    """Write entries in LaMem format (binary: integer labels), so :func:`read_split` reads them back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = (lambda s: str(int(s))) if binary else (lambda s: f"{s:.6f}")  # noqa: E731
    path.write_text("".join(f"{e.path} {fmt(e.score)}\n" for e in entries))
    return path


def _split_file(root: Path, split: str) -> Path:
    """``<root>/splits/<split>.txt``, checked before anything is read.

    ``split`` is a name, not a path: with a separator or ``..`` (``split="../../text"``) it would read a file
    outside ``splits/`` as if it were a split. Either mistake, and a split that does not exist, names the
    splits that do.
    """
    folder = root / "splits"
    available = ", ".join(sorted(p.stem for p in folder.glob("*.txt"))) if folder.is_dir() else ""
    if not isinstance(split, str) or not split or "/" in split or "\\" in split or ".." in split:
        raise ParameterError(f"split must be the name of a split file in {folder} (no '/', '\\' or '..'), got "
                             f"{split!r}; available: {available or 'none'}")
    path = folder / f"{split}.txt"
    if not path.is_file():
        raise LaMemFormatError(f"{path}: split file not found; available splits: {available or 'none'}")
    return path


def _split_images(root: Path, split: str, binary: bool) -> tuple[list[SplitEntry], list[Path]]:
    """Entries of ``<root>/splits/<split>.txt`` and their image files, all checked to exist."""
    entries = read_split(_split_file(root, split), binary=binary)
    paths = [root / "images" / e.path for e in entries]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise LaMemFormatError(
            f"{len(missing)} image(s) listed in {root / 'splits' / f'{split}.txt'} are missing under "
            f"{root / 'images'}, e.g. {missing[0]}"
        )
    return entries, paths


def lamem_folder(root: str | os.PathLike, split: str = "train_1", binary: bool = True) -> tuple[list[Path], np.ndarray]:
    """Image paths and labels (float32) of one split of a LaMem folder."""
    entries, paths = _split_images(require_path("root", root), split, binary)
    return paths, np.array([e.score for e in entries], dtype=np.float32)


def lamem_train_val_test(root: str | os.PathLike, binary: bool = True, val_fraction: float = 0.2,
                         seed: int = 0) -> tuple[list[Path], np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """All images of ``train_1``, a validation split and ``test_1``, in that order: (paths, labels, (train, val,
    test) index arrays).

    Validation is the folder's own ``val_1.txt`` when it has one (LaMem does), else a seeded ``val_fraction`` of
    ``train_1`` (stratified on 0/1 labels, so both classes are validated). Why a validation split at all: a notebook
    picks its training epoch on it, so the test split is scored once and never chooses the model.
    """
    from labkit.data.mnist import split_holdout

    root = require_path("root", root)
    train, test = lamem_folder(root, "train_1", binary), lamem_folder(root, "test_1", binary)
    if (root / "splits" / "val_1.txt").is_file():
        val = lamem_folder(root, "val_1", binary)
    else:
        keep, held = split_holdout(train[1] if binary else np.zeros(len(train[1])), val_fraction, seed)
        if len(held) < 2:
            raise LaMemFormatError(f"{root / 'splits' / 'train_1.txt'} has {len(train[0])} images, too few to hold "
                                   f"out a validation share of {val_fraction}; add splits/val_1.txt")
        train, val = ([train[0][i] for i in keep], train[1][keep]), ([train[0][i] for i in held], train[1][held])
    sizes = np.cumsum([0, len(train[0]), len(val[0]), len(test[0])])
    tr, va, te = (np.arange(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return train[0] + val[0] + test[0], np.concatenate([train[1], val[1], test[1]]), (tr, va, te)


class LaMemDataset:
    """Images of one split under ``root/images`` with their scores; ``transform`` maps a PIL image to a tensor.

    Images go through :func:`labkit.data.images.load_image` (8-bit RGB with every conversion spelled
    out), so a 16-bit PNG is scaled, not turned white as ``Image.open(...).convert("RGB")`` would.
    """

    def __init__(self, root: str | os.PathLike, split: str = "test_1", transform: Callable | None = None):
        self.root = require_path("root", root)
        self.items, _ = _split_images(self.root, split, binary=False)  # a caller may shorten items
        self.transform = transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[Any, np.float32]:
        """(the image, transformed if a transform was given, its score)."""
        rel, score = self.items[i]
        img = load_image(self.root / "images" / rel)
        return (self.transform(img) if self.transform else img), np.float32(score)

    @property
    def scores(self) -> np.ndarray:
        return np.array([e.score for e in self.items], dtype=np.float32)


def median_split(scores: Sequence[float] | np.ndarray) -> tuple[np.ndarray, float]:
    """0/1 labels: 1 above the median, 0 at or below it (the course's stand-in for the binary study)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"need a 1-D array of at least 2 scores, got shape {s.shape}")
    med = float(np.median(s))
    return (s > med).astype(np.int64), med


def write_predictions(path: str | os.PathLike, names: Sequence[str], predictions: Sequence[float],
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
