"""Bad values passed to the Python API are refused before work starts (issue #25).

One table: each case makes one call with a wrong argument (or a file that reads as a wrong value) under
``tmp_path`` and must get the library's own error — a :class:`~labkit.core.errors.LabkitError` that is also a
``ValueError`` — whose one-line message names the argument and the bad value (and the file and line, where there
is one). A case that returns, or raises a bare ``TypeError``/``IndexError`` from deep inside, fails. Beside the
table: the good inputs next to each new check still work.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from labkit.core.checks import require_int, require_path, require_strings
from labkit.core.errors import DataError, LabkitError, ParameterError
from labkit.data.captions import Vocabulary, read_h5_features, write_h5_features
from labkit.data.images import load_image, load_images
from labkit.data.lamem import LaMemDataset, LaMemFormatError, lamem_folder, read_split
from labkit.data.memcat import MemCatFormatError, load_memcat
from labkit.data.mnist import IDXFormatError, load_mnist, read_idx, to_dataset
from labkit.data.yt8m import (
    FrameRecord,
    TFRecordFormatError,
    UnknownIdError,
    YT8MFrameDataset,
    collate_frames,
    dequantize,
    quantize,
    write_frame_records,
)


# ---------------------------------------------------------------------------------------------- writers
def _text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _split(t: Path, text: str) -> Path:
    return _text(t / "splits" / "train_1.txt", text)


def _lamem(t: Path) -> Path:
    """A LaMem folder with ``splits/test_1.txt`` and ``splits/train_1.txt`` over one real image."""
    (t / "images").mkdir(parents=True)
    Image.new("RGB", (8, 8), (10, 20, 30)).save(t / "images" / "a.png")
    _text(t / "splits" / "test_1.txt", "a.png 0.25\n")
    _text(t / "splits" / "train_1.txt", "a.png 1\n")
    return t


MEMCAT_HEADER = "image_file,category,subcategory,memorability_w_fa_correction\n"


def _memcat(t: Path, text: str):
    _text(t / "data" / "memcat_image_data.csv", text)
    return load_memcat(t, check_files=False)


def _idx(dims: tuple[int, ...], data: bytes) -> bytes:
    return bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data


def _mnist(t: Path, n: int, labels: bytes | None = None):
    pixels = bytes(range(256)) * (n * 784 // 256) + bytes(n * 784 % 256)
    _bytes(t / "train-images-idx3-ubyte", _idx((n, 28, 28), pixels))
    _bytes(t / "train-labels-idx1-ubyte", _idx((n,), bytes(i % 10 for i in range(n)) if labels is None else labels))
    return load_mnist(t, "train")


def _shard(t: Path, n: int = 2) -> Path:
    frames = {"rgb": np.zeros((2, 1024), np.uint8), "audio": np.zeros((2, 128), np.uint8)}
    return write_frame_records(t / "train0000.tfrecord", [FrameRecord(f"v{i}", [1], frames) for i in range(n)])


def _h5(t: Path) -> Path:
    write_h5_features(t / "features.hdf5", {"one_id": np.ones((2, 3)), "other_id": np.zeros((2, 3))})
    return t / "features.hdf5"


DIGITS = np.zeros((2, 28, 28), np.uint8)

# ---------------------------------------------------------------------------------------------- the table
# (case id, call(tmp_path), expected error, text the message must contain)
CASES: list[tuple[str, Callable[[Path], object], type[Exception], str]] = [
    # 1. labels outside the class range
    ("to_dataset-label-99", lambda t: to_dataset(DIGITS, np.array([3, 99])), DataError, "labels[1] is 99"),
    ("to_dataset-label-minus-1", lambda t: to_dataset(DIGITS, np.array([-1, 3])), DataError, "labels[0] is -1"),
    ("to_dataset-fractional-label", lambda t: to_dataset(DIGITS, np.array([0.0, 2.5])), DataError,
     "labels[1] is 2.5"),
    ("to_dataset-label-beyond-num_classes", lambda t: to_dataset(DIGITS, np.array([0, 3]), num_classes=3),
     DataError, "0..2"),
    ("to_dataset-count-mismatch", lambda t: to_dataset(DIGITS, np.array([1])), DataError, "labels (1,)"),
    ("to_dataset-num_classes-str", lambda t: to_dataset(DIGITS, np.array([1, 2]), num_classes="10"),
     ParameterError, "num_classes must be an int"),
    # 2. dequantize: 8-bit values only
    ("dequantize-300", lambda t: dequantize(300.0), TFRecordFormatError, "got 300.0"),
    ("dequantize-negative", lambda t: dequantize(np.array([0, -1])), TFRecordFormatError, "got -1"),
    ("dequantize-fraction", lambda t: dequantize(np.array([1.5])), TFRecordFormatError, "got 1.5"),
    ("dequantize-nan", lambda t: dequantize(np.array([np.nan])), TFRecordFormatError, "got nan"),
    ("dequantize-text", lambda t: dequantize(np.array(["a"])), TFRecordFormatError, "dtype <U1"),
    # 3. odd whitespace in a line: refused naming the line, never split on
    ("lamem-vertical-tab-in-name", lambda t: read_split(_split(t, "a\vb.jpg 0.5\n")), LaMemFormatError,
     "train_1.txt:1: character U+000B (vertical tab)"),
    ("lamem-vertical-tab-as-line-break", lambda t: read_split(_split(t, "a.jpg 0.5\n\nb.jpg 0.1\vc.jpg 0.2\n")),
     LaMemFormatError, "train_1.txt:3"),
    ("lamem-vertical-tab-as-separator", lambda t: read_split(_split(t, "a.jpg\v0.5\n")), LaMemFormatError,
     "train_1.txt:1"),
    ("lamem-form-feed", lambda t: read_split(_split(t, "a.jpg 0.5\f\n")), LaMemFormatError, "U+000C (form feed)"),
    ("lamem-line-separator", lambda t: read_split(_split(t, "a.jpg 0.5\u2028b.jpg 0.1\n")), LaMemFormatError,
     "U+2028 (line separator)"),
    ("lamem-no-break-space", lambda t: read_split(_split(t, "a.jpg 0.5\nb.jpg\xa00.1\n")), LaMemFormatError,
     "train_1.txt:2: character U+00A0 (no-break space) at column 6"),
    ("lamem-lone-carriage-return", lambda t: read_split(_split(t, "a.jpg 0.5\rb.jpg 0.1\n")), LaMemFormatError,
     "U+000D (carriage return)"),
    ("memcat-vertical-tab-in-name", lambda t: _memcat(t, MEMCAT_HEADER + "a\vb.jpg,animal,cat,0.5\n"),
     MemCatFormatError, "memcat_image_data.csv:2: image_file holds the character U+000B (vertical tab)"),
    # 4. scores are plain decimals: float() would read these
    ("lamem-score-underscore", lambda t: read_split(_split(t, "a.jpg 0.25\nb.jpg 0.5_0\n")), LaMemFormatError,
     "train_1.txt:2: score '0.5_0' is not a number"),
    ("lamem-score-arabic-digits", lambda t: read_split(_split(t, "a.jpg \u0660.\u0665\n")), LaMemFormatError,
     "train_1.txt:1: score"),
    ("lamem-score-infinity", lambda t: read_split(_split(t, "a.jpg Infinity\n")), LaMemFormatError, "not finite"),
    ("memcat-score-underscore", lambda t: _memcat(t, MEMCAT_HEADER + "a.jpg,animal,cat,0.5_0\n"), MemCatFormatError,
     "memcat_image_data.csv:2: score '0.5_0' is not a number"),
    # 5. a split is a name, not a path
    ("lamem_folder-split-climbs-out", lambda t: lamem_folder(_lamem(t), split="../../text"), ParameterError,
     "got '../../text'; available: test_1, train_1"),
    ("lamem_folder-split-with-slash", lambda t: lamem_folder(_lamem(t), split="sub/train_1"), ParameterError,
     "'sub/train_1'"),
    ("lamem_folder-split-backslash", lambda t: lamem_folder(_lamem(t), split="..\\x"), ParameterError,
     "available: test_1, train_1"),
    ("lamem_folder-split-none", lambda t: lamem_folder(_lamem(t), split=None), ParameterError, "got None"),
    ("lamem_folder-unknown-split", lambda t: lamem_folder(_lamem(t), split="val_1"), LaMemFormatError,
     "val_1.txt: split file not found; available splits: test_1, train_1"),
    ("lamem-dataset-split-climbs-out", lambda t: LaMemDataset(_lamem(t), split="../splits/test_1"), ParameterError,
     "'../splits/test_1'"),
    ("lamem_folder-root-none", lambda t: lamem_folder(None), ParameterError, "root must be a path"),
    ("load_memcat-root-int", lambda t: load_memcat(5), ParameterError, "root must be a path"),
    # 6. load_image's min_side
    ("load_image-min_side-str", lambda t: load_image(np.zeros((40, 40, 3), np.uint8), min_side="32"), ParameterError,
     "min_side must be an int >= 1, got '32' (str)"),
    ("load_image-min_side-zero", lambda t: load_image(np.zeros((40, 40, 3), np.uint8), min_side=0), ParameterError,
     "min_side must be an int >= 1, got 0"),
    ("load_images-min_side-float", lambda t: load_images([np.zeros((40, 40, 3), np.uint8)], min_side=32.0),
     ParameterError, "min_side must be an int >= 1, got 32.0 (float)"),
    # 7. read_idx's path
    ("read_idx-int-path", lambda t: read_idx(123), ParameterError, "path must be a path (str or os.PathLike), got 123"),
    # 8. load_mnist's root and size
    ("load_mnist-root-none", lambda t: load_mnist(None), ParameterError, "root must be a path"),
    ("load_mnist-size-one-number", lambda t: load_mnist(t, size=(28,)), ParameterError,
     "size must be None or (height, width), got (28,)"),
    ("load_mnist-size-int", lambda t: load_mnist(t, size=28), ParameterError, "got 28"),
    ("load_mnist-size-str", lambda t: load_mnist(t, size=("28", 28)), ParameterError, "size[0] (height)"),
    ("load_mnist-split", lambda t: load_mnist(t, split="val"), ParameterError, "split must be 'train' or 'test'"),
    # 9. YT8MFrameDataset's arguments
    ("yt8m-num_classes-0", lambda t: YT8MFrameDataset(_shard(t), num_classes=0), ParameterError,
     "num_classes must be an int >= 1, got 0"),
    ("yt8m-max_frames-str", lambda t: YT8MFrameDataset(_shard(t), 10, max_frames="10"), ParameterError,
     "max_frames must be an int >= 1, got '10' (str)"),
    ("yt8m-unknown-id", lambda t: YT8MFrameDataset(_shard(t), 10, ids=["v0", "nope"]), UnknownIdError,
     "['nope']"),
    ("yt8m-ids-bare-string", lambda t: YT8MFrameDataset(_shard(t), 10, ids="v0"), ParameterError,
     "ids=['v0']"),
    # 10. an empty batch
    ("collate_frames-empty", lambda t: collate_frames([]), DataError, "empty batch"),
    ("collate_frames-one-dict", lambda t: collate_frames({"length": torch.tensor(1)}), ParameterError,
     "items must be a list"),
    # 11. read_h5_features' ids
    ("h5-ids-bare-string", lambda t: read_h5_features(_h5(t), ids="one_id"), ParameterError,
     "got the single string 'one_id' — wrap it in a list: ids=['one_id']"),
    ("h5-ids-int", lambda t: read_h5_features(_h5(t), ids=[1]), ParameterError, "ids[0] must be a str, got 1"),
    ("h5-path-none", lambda t: read_h5_features(None), ParameterError, "path must be a path"),
    # 12. Vocabulary.build's captions
    ("vocab-captions-none", lambda t: Vocabulary.build(None), ParameterError,
     "captions must be a list of caption strings, got None"),
    ("vocab-captions-bare-string", lambda t: Vocabulary.build("a cat runs"), ParameterError,
     "single string 'a cat runs'"),
    ("vocab-caption-not-str", lambda t: Vocabulary.build(["a cat", None]), ParameterError, "captions[1]"),
    ("vocab-min_count-str", lambda t: Vocabulary.build(["a"], min_count="2"), ParameterError,
     "min_count must be an int, got '2'"),
    # 13. IDX files of no images
    ("read_idx-zero-images", lambda t: read_idx(_bytes(t / "t10k-images-idx3-ubyte", _idx((0, 28, 28), b""))),
     IDXFormatError, "t10k-images-idx3-ubyte: IDX header declares shape (0, 28, 28)"),
    ("load_mnist-zero-images", lambda t: _mnist(t, 0), IDXFormatError, "train-images-idx3-ubyte"),
    ("read_idx-zero-width", lambda t: read_idx(_bytes(t / "x-idx3-ubyte", _idx((2, 0, 28), b""))), IDXFormatError,
     "holds no items"),
]


@pytest.mark.parametrize(("call", "error", "names"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_is_refused_naming_it(tmp_path, call, error, names):
    with pytest.raises(error) as info:
        call(tmp_path)
    assert isinstance(info.value, LabkitError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert names in message, f"the message does not name {names!r}: {message}"
    assert "\n" not in message, f"not one line: {message!r}"


# ---------------------------------------------------------------------------------------------- good input
def test_one_image_idx_reads_as_one_image_not_squeezed(tmp_path):
    one = bytes(range(256)) * 3 + bytes(16)  # 784 pixels, not all equal
    path = _bytes(tmp_path / "one-idx3-ubyte", _idx((1, 28, 28), one))
    x = read_idx(path)
    assert x.shape == (1, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(x[0].ravel(), np.frombuffer(one, np.uint8))
    images, labels = _mnist(tmp_path / "mnist", 1, labels=bytes([7]))
    assert images.shape == (1, 28, 28) and labels.shape == (1,) and labels.tolist() == [7]
    ds = to_dataset(images, labels)
    assert len(ds) == 1 and ds[0][0].shape == (1, 28, 28) and int(ds[0][1]) == 7


def test_good_labels_still_make_a_dataset():
    x = np.full((3, 28, 28), 255, np.uint8)
    for labels in (np.array([0, 9, 4]), np.zeros(3), np.array([0, 1, 2], np.uint8), [0, 1, 2]):
        images, y = to_dataset(x, labels).tensors
        assert images.shape == (3, 1, 28, 28) and float(images.max()) == 1.0 and y.dtype == torch.int64
    assert to_dataset(x, np.array([0, 2, 1]), num_classes=np.int64(3)).tensors[1].tolist() == [0, 2, 1]


def test_dequantize_of_bytes_is_unchanged_and_other_int_dtypes_agree():
    q = np.arange(256, dtype=np.uint8)
    ref = dequantize(q)
    assert ref.dtype == np.float32 and ref[0] == pytest.approx(-2 + 4 / 512) and ref[-1] == pytest.approx(2 + 4 / 512)
    np.testing.assert_array_equal(dequantize(q.astype(np.int64)), ref)
    np.testing.assert_array_equal(dequantize(q.astype(np.float32)), ref)
    np.testing.assert_allclose(dequantize(quantize(np.array([-1.0, 0.0, 1.0]))), [-1.0, 0.0, 1.0], atol=4 / 255)
    assert dequantize(255.0).shape == ()


def test_split_files_with_crlf_tabs_blank_lines_and_exponents_still_read(tmp_path):
    path = _split(tmp_path, "a.jpg 0.25\r\n\r\n  b.jpg\t7.5e-1  \r\nc/d.jpg +.5\n\n")
    assert read_split(path) == [("a.jpg", 0.25), ("b.jpg", 0.75), ("c/d.jpg", 0.5)]
    assert read_split(_split(tmp_path, "a.jpg 1\nb.jpg 0"), binary=True) == [("a.jpg", 1.0), ("b.jpg", 0.0)]


def test_lamem_folder_and_dataset_still_read_a_good_split(tmp_path):
    root = _lamem(tmp_path)
    paths, labels = lamem_folder(root, "train_1")
    assert paths == [root / "images" / "a.png"] and labels.tolist() == [1.0]
    img, score = LaMemDataset(str(root), "test_1")[0]
    assert img.size == (8, 8) and score == np.float32(0.25)


def test_memcat_rows_with_spaces_around_fields_still_read(tmp_path):
    rows = _memcat(tmp_path, MEMCAT_HEADER + "a.jpg, animal ,cat,\t-0.125\nb.jpg,food,fruit,1e-1\n")
    assert [(r.path.name, r.category, r.score) for r in rows] == [("a.jpg", "animal", -0.125), ("b.jpg", "food", 0.1)]


def test_good_arguments_still_work(tmp_path):
    img = load_image(np.zeros((40, 40, 3), np.uint8), min_side=np.int64(32))
    assert img.size == (40, 40) and len(load_images([img], min_side=32)) == 1
    shard = _shard(tmp_path, 3)
    ds = YT8MFrameDataset(shard, np.int64(10), max_frames=np.int32(1), ids=("v2", "v0"))
    assert [ds.record(i).id for i in range(len(ds))] == ["v2", "v0"]
    batch = collate_frames([ds[0]])
    assert batch["rgb"].shape == (1, 1, 1024) and batch["mask"].tolist() == [[True]]
    feats = read_h5_features(_h5(tmp_path), ids=iter(["other_id"]))
    assert list(feats) == ["other_id"] and feats["other_id"].shape == (2, 3)
    assert len(read_h5_features(tmp_path / "features.hdf5")) == 2
    vocab = Vocabulary.build(c for c in ["a cat", "a dog"])
    assert vocab.itos[4:] == ["a", "cat", "dog"]


def test_unknown_id_is_still_a_key_error_with_a_plain_message(tmp_path):
    with pytest.raises(KeyError) as info:
        YT8MFrameDataset(_shard(tmp_path), 10, ids=["nope"])
    assert str(info.value).startswith("ids: 1 of 1 requested ids are not in the files (train0000.tfrecord)")


def test_the_shared_checks():
    assert require_int("n", np.int16(3), at_least=1) == 3 and type(require_int("n", np.int16(3))) is int
    assert require_path("p", "x") == Path("x")
    assert require_strings("s", ("a", "b")) == ["a", "b"]
    for bad in (True, 1.0, "1", None):
        with pytest.raises(ParameterError, match="n must be an int"):
            require_int("n", bad)
    with pytest.raises(ParameterError, match=r"n must be an int >= 0 and <= 2, got 3"):
        require_int("n", 3, at_least=0, at_most=2)
    with pytest.raises(ParameterError, match=r"p must be a path .*got b'x' \(bytes\)"):
        require_path("p", b"x")
