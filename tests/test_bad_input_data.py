"""Bad input to the data layer never crashes and never passes silently (issue #20).

One table: each case writes a damaged or wrong file under ``tmp_path``, calls the public entry point a user
would call, and must get that reader's own error — a :class:`~labkit.core.errors.DataError`, so also a
``ValueError`` — whose message names the file (or the glob pattern) it is about. A case that returns (silent
garbage) or raises anything else (a traceback from NumPy, PIL, h5py or the csv module) fails.
"""

from __future__ import annotations

import gzip
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tfrecord import example_pb2

from labkit.core.errors import DataError, LabkitError
from labkit.data.captions import CaptionFormatError, CaptionSet, load_msvd, read_h5_features, read_msvd_csv
from labkit.data.feature_cache import FeatureCacheError
from labkit.data.frame_pca import FramePCA, FramePCAError
from labkit.data.images import ImageLoadError, ImageTooSmallError, load_image
from labkit.data.lamem import LaMemDataset, LaMemFormatError, lamem_folder, read_split
from labkit.data.memcat import MemCatFormatError, load_memcat
from labkit.data.mnist import IDXFormatError, load_mnist, read_idx
from labkit.data.moving_mnist import MovingMNISTError
from labkit.data.paths import MissingDataError
from labkit.data.sequences import pad_or_trim
from labkit.data.video import VideoDecodeError, sample_frames
from labkit.data.yt8m import (
    FrameRecord,
    TFRecordFormatError,
    VideoRecord,
    YT8MFrameDataset,
    encode_frame_record,
    find_tfrecords,
    quantize,
    read_frame_records,
    read_video_records,
    record_offsets,
    write_frame_records,
    write_records,
    write_video_records,
)

MSVD = Path(__file__).parent / "fixtures" / "msvd"


# ---------------------------------------------------------------------------------------------- writers
def _text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _split(t: Path, text: str, encoding: str = "utf-8") -> Path:
    return _text(t / "splits" / "train_1.txt", text, encoding)


def _lamem(t: Path, lines: str, images: dict[str, Image.Image | bytes]) -> Path:
    """A LaMem folder with ``splits/test_1.txt`` and the given images."""
    _text(t / "splits" / "test_1.txt", lines)
    for name, img in images.items():
        (t / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(img, bytes):
            (t / "images" / name).write_bytes(img)
        else:
            img.save(t / "images" / name)
    return t


MEMCAT_HEADER = "image_file,category,subcategory,memorability_w_fa_correction\n"


def _memcat(t: Path, text: str, encoding: str = "utf-8", check_files: bool = False):
    _text(t / "data" / "memcat_image_data.csv", text, encoding)
    return load_memcat(t, check_files=check_files)


def _idx(type_code: int, dims: tuple[int, ...], data: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data


IMAGES = _idx(0x08, (2, 28, 28), bytes(2 * 28 * 28))
LABELS = _idx(0x08, (2,), bytes([3, 7]))


def _mnist(t: Path, images: bytes = IMAGES, labels: bytes = LABELS):
    _bytes(t / "mnist" / "train-images-idx3-ubyte", images)
    _bytes(t / "mnist" / "train-labels-idx1-ubyte", labels)
    return load_mnist(t / "mnist", "train")


def _idx_file(t: Path, data: bytes):
    return read_idx(_bytes(t / "t10k-images-idx3-ubyte", data))


def _frame(vid: str = "v0", t: int = 2) -> FrameRecord:
    return FrameRecord(vid, [1], {"rgb": np.zeros((t, 1024), np.uint8), "audio": np.zeros((t, 128), np.uint8)})


def _shard(t: Path, name: str = "train0000.tfrecord", n: int = 3) -> Path:
    return write_frame_records(t / name, [_frame(f"v{i}") for i in range(n)])


def _flip(path: Path, at: int) -> Path:
    """Invert the byte at offset ``at`` (a bit-rotted disk, a bad copy)."""
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


def _cut(path: Path, end: int) -> Path:
    """Keep ``path[:end]`` (an interrupted download)."""
    path.write_bytes(path.read_bytes()[:end])
    return path


def _video_example(features: dict[str, list[float]], vid: str = "clip7") -> bytes:
    feats = {"id": example_pb2.Feature(bytes_list=example_pb2.BytesList(value=[vid.encode()])),
             "labels": example_pb2.Feature(int64_list=example_pb2.Int64List(value=[2]))}
    for name, values in features.items():
        feats[name] = example_pb2.Feature(float_list=example_pb2.FloatList(value=values))
    return example_pb2.Example(features=example_pb2.Features(feature=feats)).SerializeToString()


def _video_file(t: Path, mean_rgb: list[float], mean_audio: list[float] | None = None):
    audio = [0.0] * 128 if mean_audio is None else mean_audio
    path = write_records(t / "video0000.tfrecord", [_video_example({"mean_rgb": mean_rgb, "mean_audio": audio})])
    return read_video_records(path)


def _float_frames(t: Path, value: float):
    """A SequenceExample whose ``rgb`` frames are float lists (not YouTube-8M's quantised bytes)."""
    ex = example_pb2.SequenceExample()
    ex.ParseFromString(encode_frame_record(_frame("floaty")))
    rgb = ex.feature_lists.feature_list["rgb"]
    del rgb.feature[:]
    for _ in range(2):
        rgb.feature.add().float_list.value.extend([value] * 1024)
    return read_frame_records(write_records(t / "floats.tfrecord", [ex.SerializeToString()]))


def _frame_payload(t: Path, edit: Callable[[example_pb2.SequenceExample], None]):
    ex = example_pb2.SequenceExample()
    ex.ParseFromString(encode_frame_record(_frame("edited")))
    edit(ex)
    return read_frame_records(write_records(t / "edited.tfrecord", [ex.SerializeToString()]))


def _short_frame(ex: example_pb2.SequenceExample) -> None:
    ex.feature_lists.feature_list["rgb"].feature[1].bytes_list.value[0] = b"\0" * 1000  # 1000 of 1024 bytes


def _msvd(t: Path, fixture: str):
    return read_msvd_csv(shutil.copy(MSVD / fixture, t / fixture))


def _h5(t: Path, build: Callable, ids: list[str] | None = None):
    import h5py

    with h5py.File(t / "features.hdf5", "w") as f:
        build(f)
    return read_h5_features(t / "features.hdf5", ids)


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width``×``height`` RGB pixels and that holds no image data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(
        b"IEND", b"")


def _cut_image(t: Path, name: str, fmt: str):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(t / f"whole.{fmt}")
    data = (t / f"whole.{fmt}").read_bytes()
    return load_image(_bytes(t / name, data[: len(data) // 2]))


def _float_tiff(path: Path, value: float) -> Path:
    Image.fromarray(np.full((8, 8), value, np.float32), mode="F").save(path)
    return path


def _pca(t: Path, **override) -> Path:
    pca = FramePCA(3).fit(np.random.default_rng(0).normal(size=(10, 6)))
    fields = {"mean": pca.mean, "components": pca.components, "scale": pca.scale, "explained": pca.explained,
              "whiten": True, **override}
    np.savez(t / "frame_pca.npz", **fields)
    return t / "frame_pca.npz"


def _drop_field(t: Path) -> Path:
    np.savez(t / "frame_pca.npz", mean=np.zeros(6), components=np.eye(3, 6), scale=np.ones(3), whiten=True)
    return t / "frame_pca.npz"


# ---------------------------------------------------------------------------------------------- the table
# (case id, call(tmp_path) — writes the bad input and calls the public reader, expected error, text it must name)
CASES: list[tuple[str, Callable[[Path], object], type[Exception], str]] = [
    # LaMem split files: read_split, lamem_folder, LaMemDataset
    ("lamem-path-climbs-out", lambda t: read_split(_split(t, "../x.jpg 0.5\n")), LaMemFormatError, "train_1.txt:1"),
    ("lamem-absolute-path", lambda t: read_split(_split(t, "a.jpg 0.1\n/etc/passwd 0.5\n")), LaMemFormatError,
     "train_1.txt:2"),
    ("lamem-windows-drive", lambda t: read_split(_split(t, "C:\\x.jpg 0.5\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-score-above-1", lambda t: read_split(_split(t, "a.jpg 1.5\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-score-negative", lambda t: read_split(_split(t, "a.jpg -0.1\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-score-nan", lambda t: read_split(_split(t, "a.jpg nan\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-score-inf", lambda t: read_split(_split(t, "a.jpg inf\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-score-not-a-number", lambda t: read_split(_split(t, "a.jpg high\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-duplicate-image", lambda t: read_split(_split(t, "a.jpg 0.5\nb.jpg 0.2\na.jpg 0.7\n")),
     LaMemFormatError, "train_1.txt:3"),
    ("lamem-three-fields", lambda t: read_split(_split(t, "a.jpg 0.5 extra\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-comma-separated", lambda t: read_split(_split(t, "a.jpg,0.5\n")), LaMemFormatError, "train_1.txt"),
    ("lamem-empty-file", lambda t: read_split(_split(t, "")), LaMemFormatError, "train_1.txt"),
    ("lamem-not-utf8", lambda t: read_split(_split(t, "café.jpg 0.5\n", "latin-1")), LaMemFormatError,
     "train_1.txt"),
    ("lamem-binary-label-not-0-or-1", lambda t: read_split(_split(t, "a.jpg 0.5\n"), binary=True),
     LaMemFormatError, "train_1.txt"),
    ("lamem-missing-split-file", lambda t: read_split(t / "splits" / "val_1.txt"), LaMemFormatError, "val_1.txt"),
    ("lamem-missing-image", lambda t: LaMemDataset(_lamem(t, "gone.jpg 0.5\n", {}), "test_1"), LaMemFormatError,
     "gone.jpg"),
    ("lamem-folder-missing-image", lambda t: lamem_folder(_lamem(t, "gone.jpg 1\n", {}), "test_1"),
     LaMemFormatError, "test_1.txt"),
    ("lamem-image-is-text", lambda t: LaMemDataset(_lamem(t, "a.jpg 0.5\n", {"a.jpg": b"not a jpeg"}))[0],
     ImageLoadError, "a.jpg"),
    # MemCat CSV
    ("memcat-category-climbs-out", lambda t: _memcat(t, MEMCAT_HEADER + "a.jpg,..,..,0.5\n"), MemCatFormatError,
     "memcat_image_data.csv:2"),
    ("memcat-absolute-image-file", lambda t: _memcat(t, MEMCAT_HEADER + "/etc/passwd,animal,cat,0.5\n"),
     MemCatFormatError, "memcat_image_data.csv:2"),
    ("memcat-missing-column", lambda t: _memcat(t, "image_file,category,memorability_w_fa_correction\na,b,0.5\n"),
     MemCatFormatError, "memcat_image_data.csv"),
    ("memcat-score-not-a-number", lambda t: _memcat(t, MEMCAT_HEADER + "a.jpg,animal,cat,high\n"),
     MemCatFormatError, "memcat_image_data.csv:2"),
    ("memcat-score-nan", lambda t: _memcat(t, MEMCAT_HEADER + "a.jpg,animal,cat,nan\n"), MemCatFormatError,
     "memcat_image_data.csv:2"),
    ("memcat-score-out-of-range", lambda t: _memcat(t, MEMCAT_HEADER + "a.jpg,animal,cat,2.5\n"),
     MemCatFormatError, "memcat_image_data.csv:2"),
    ("memcat-empty-file", lambda t: _memcat(t, ""), MemCatFormatError, "memcat_image_data.csv"),
    ("memcat-header-only", lambda t: _memcat(t, MEMCAT_HEADER), MemCatFormatError, "memcat_image_data.csv"),
    ("memcat-field-count", lambda t: _memcat(t, MEMCAT_HEADER + "a.jpg,animal,cat\n"), MemCatFormatError,
     "memcat_image_data.csv:2"),
    ("memcat-not-utf8", lambda t: _memcat(t, MEMCAT_HEADER + "café.jpg,food,drink,0.5\n", "latin-1"),
     MemCatFormatError, "memcat_image_data.csv"),
    ("memcat-missing-image", lambda t: _memcat(t, MEMCAT_HEADER + "a.jpg,animal,cat,0.5\n", check_files=True),
     MemCatFormatError, "a.jpg"),
    ("memcat-no-csv", lambda t: load_memcat(t), MemCatFormatError, "memcat_image_data.csv"),
    # MNIST IDX: read_idx and load_mnist
    ("idx-float32-images", lambda t: _mnist(t, images=_idx(0x0D, (2, 28, 28), bytes(4 * 2 * 28 * 28))),
     IDXFormatError, "train-images-idx3-ubyte"),
    ("idx-int32-labels", lambda t: _mnist(t, labels=_idx(0x0C, (2,), struct.pack(">ii", 3, 7))), IDXFormatError,
     "train-labels-idx1-ubyte"),
    ("idx-7x9-images", lambda t: _mnist(t, images=_idx(0x08, (2, 7, 9), bytes(2 * 7 * 9))), IDXFormatError,
     "train-images-idx3-ubyte"),
    ("idx-dims-overflow-64-bits", lambda t: _idx_file(t, _idx(0x08, (65536,) * 4, b"")), IDXFormatError,
     "t10k-images-idx3-ubyte"),
    ("idx-mnist-dims-overflow", lambda t: _mnist(t, images=_idx(0x08, (1 << 22, 1 << 21, 1 << 21), b"")),
     IDXFormatError, "train-images-idx3-ubyte"),
    ("idx-dims-exceed-file", lambda t: _idx_file(t, _idx(0x08, (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), bytes(8))),
     IDXFormatError, "t10k-images-idx3-ubyte"),
    ("idx-truncated", lambda t: _idx_file(t, IMAGES[:-5]), IDXFormatError, "t10k-images-idx3-ubyte"),
    ("idx-wrong-magic", lambda t: _idx_file(t, b"\x08\x03" + IMAGES[2:]), IDXFormatError, "t10k-images-idx3-ubyte"),
    ("idx-unknown-type", lambda t: _idx_file(t, _idx(0x07, (1,), b"\x00")), IDXFormatError,
     "t10k-images-idx3-ubyte"),
    ("idx-empty-file", lambda t: _idx_file(t, b""), IDXFormatError, "t10k-images-idx3-ubyte"),
    ("idx-gzip-corrupt", lambda t: _idx_file(t, gzip.compress(IMAGES, mtime=0)[:-12]), IDXFormatError,
     "t10k-images-idx3-ubyte"),
    ("idx-label-out-of-range", lambda t: _mnist(t, labels=_idx(0x08, (2,), bytes([3, 12]))), IDXFormatError,
     "train-labels-idx1-ubyte"),
    ("idx-count-mismatch", lambda t: _mnist(t, labels=_idx(0x08, (3,), bytes([3, 7, 1]))), IDXFormatError,
     "train-labels-idx1-ubyte"),
    ("idx-labels-two-dims", lambda t: _mnist(t, labels=_idx(0x08, (2, 1), bytes([3, 7]))), IDXFormatError,
     "train-labels-idx1-ubyte"),
    ("idx-images-as-labels", lambda t: _mnist(t, labels=IMAGES), IDXFormatError, "train-labels-idx1-ubyte"),
    ("mnist-missing-folder", lambda t: load_mnist(t / "nowhere"), MissingDataError, "nowhere"),
    ("mnist-missing-labels", lambda t: load_mnist(_bytes(t / "train-images-idx3-ubyte", IMAGES).parent),
     MissingDataError, "train-labels-idx1-ubyte"),
    # YouTube-8M TFRecords
    ("tfrecord-empty-file", lambda t: read_frame_records(_bytes(t / "empty.tfrecord", b"")), TFRecordFormatError,
     "empty.tfrecord"),
    ("tfrecord-video-level-empty-file", lambda t: read_video_records(_bytes(t / "empty.tfrecord", b"")),
     TFRecordFormatError, "empty.tfrecord"),
    ("tfrecord-folder-of-empty-shards",
     lambda t: YT8MFrameDataset((_bytes(t / "a.tfrecord", b""), _bytes(t / "b.tfrecord", b""))[0].parent, 10),
     TFRecordFormatError, "b.tfrecord"),
    ("tfrecord-one-empty-shard", lambda t: YT8MFrameDataset([_shard(t), _bytes(t / "cut.tfrecord", b"")], 10),
     TFRecordFormatError, "cut.tfrecord"),
    ("tfrecord-glob-matches-nothing", lambda t: YT8MFrameDataset(str(t / "frame" / "train*.tfrecord"), 10),
     MissingDataError, "train*.tfrecord"),
    ("tfrecord-pattern-in-empty-folder", lambda t: find_tfrecords(t, "validate*.tfrecord"), MissingDataError,
     "validate*.tfrecord"),
    ("tfrecord-missing-file", lambda t: read_frame_records(t / "gone.tfrecord"), MissingDataError, "gone.tfrecord"),
    ("tfrecord-truncated-record", lambda t: read_frame_records(_cut(_shard(t), -10)),
     TFRecordFormatError, "train0000.tfrecord"),
    ("tfrecord-bad-data-crc", lambda t: read_frame_records(_flip(p := _shard(t), record_offsets(p)[1][0] + 3)),
     TFRecordFormatError, "train0000.tfrecord"),
    ("tfrecord-bad-length-crc", lambda t: read_frame_records(_flip(_shard(t), 9)), TFRecordFormatError,
     "train0000.tfrecord"),
    ("tfrecord-gzip-compressed", lambda t: read_frame_records(_bytes(t / "x.tfrecord", gzip.compress(
        _shard(t).read_bytes()))), TFRecordFormatError, "x.tfrecord"),
    ("tfrecord-missing-rgb", lambda t: read_frame_records(write_frame_records(t / "audio.tfrecord", [FrameRecord(
        "v0", [1], {"audio": np.zeros((2, 128), np.uint8)})])), TFRecordFormatError, "audio.tfrecord"),
    ("tfrecord-no-id", lambda t: _frame_payload(t, lambda ex: ex.context.feature.pop("id")), TFRecordFormatError,
     "edited.tfrecord"),
    ("tfrecord-wrong-frame-length", lambda t: _frame_payload(t, _short_frame), TFRecordFormatError, "edited.tfrecord"),
    ("tfrecord-garbage-payload", lambda t: read_frame_records(write_records(t / "g.tfrecord", [b"\xff" * 7])),
     TFRecordFormatError, "g.tfrecord"),
    ("tfrecord-nan-float-frames", lambda t: _float_frames(t, float("nan")), TFRecordFormatError, "floats.tfrecord"),
    ("tfrecord-float-frames", lambda t: _float_frames(t, 0.5), TFRecordFormatError, "floats.tfrecord"),
    ("tfrecord-nan-mean-rgb", lambda t: _video_file(t, [float("nan")] * 1024), TFRecordFormatError,
     "video0000.tfrecord"),
    ("tfrecord-one-nan-mean-rgb", lambda t: _video_file(t, [0.0] * 1023 + [float("nan")]), TFRecordFormatError,
     "clip7"),
    ("tfrecord-inf-mean-audio", lambda t: _video_file(t, [0.0] * 1024, [float("inf")] * 128), TFRecordFormatError,
     "video0000.tfrecord"),
    ("tfrecord-wrong-mean-rgb-length", lambda t: _video_file(t, [0.0] * 1000), TFRecordFormatError,
     "video0000.tfrecord"),
    ("tfrecord-label-beyond-classes", lambda t: YT8MFrameDataset(_shard(t), num_classes=1)[0], TFRecordFormatError,
     "train0000.tfrecord"),
    # MSVD captions: corpus CSV and HDF5 features
    ("msvd-latin1-csv", lambda t: read_msvd_csv(_text(t / "corpus.csv", (MSVD / "corpus.csv").read_text(), "latin-1")),
     CaptionFormatError, "corpus.csv"),
    ("msvd-missing-columns", lambda t: _msvd(t, "bad_columns.csv"), CaptionFormatError, "bad_columns.csv"),
    ("msvd-unquoted-comma", lambda t: _msvd(t, "bad_fields.csv"), CaptionFormatError, "bad_fields.csv"),
    ("msvd-fractional-start", lambda t: _msvd(t, "bad_start.csv"), CaptionFormatError, "bad_start.csv"),
    ("msvd-no-english-rows", lambda t: read_msvd_csv(_text(t / "fr.csv", (MSVD / "corpus.csv").read_text().replace(
        "English", "French"))), CaptionFormatError, "fr.csv"),
    ("msvd-empty-csv", lambda t: read_msvd_csv(_text(t / "empty.csv", "")), CaptionFormatError, "empty.csv"),
    ("msvd-missing-csv", lambda t: read_msvd_csv(t / "MSR Video Description Corpus.csv"), CaptionFormatError,
     "MSR Video Description Corpus.csv"),
    ("h5-group-as-dataset", lambda t: _h5(t, lambda f: f.create_group("vid_1_2").create_dataset("x", data=[[1.0]])),
     CaptionFormatError, "vid_1_2"),
    ("h5-text-file", lambda t: read_h5_features(_text(t / "features.hdf5", "VideoID,feature\n")), CaptionFormatError,
     "features.hdf5"),
    ("h5-empty-file", lambda t: read_h5_features(_bytes(t / "features.hdf5", b"")), CaptionFormatError,
     "features.hdf5"),
    ("h5-nan-features", lambda t: _h5(t, lambda f: f.create_dataset("vid_1_2", data=np.full((3, 4), np.nan))),
     CaptionFormatError, "vid_1_2"),
    ("h5-inf-feature", lambda t: _h5(t, lambda f: f.create_dataset("vid_1_2", data=np.full((3, 4), np.inf))),
     CaptionFormatError, "features.hdf5"),
    ("h5-string-dataset", lambda t: _h5(t, lambda f: f.create_dataset("vid_1_2", data=np.array([b"ab", b"cd"]))),
     CaptionFormatError, "vid_1_2"),
    ("h5-one-dim-dataset", lambda t: _h5(t, lambda f: f.create_dataset("vid_1_2", data=np.ones(4))),
     CaptionFormatError, "vid_1_2"),
    ("h5-missing-video-id", lambda t: _h5(t, lambda f: f.create_dataset("a_1_2", data=np.ones((2, 4))), ["b_3_4"]),
     CaptionFormatError, "b_3_4"),
    ("h5-missing-file", lambda t: read_h5_features(t / "features.hdf5"), CaptionFormatError, "features.hdf5"),
    ("msvd-folder-without-features", lambda t: load_msvd(shutil.copytree(MSVD, t / "msvd"), "corpus.csv"),
     CaptionFormatError, "features.hdf5"),
    # images
    ("image-decompression-bomb", lambda t: load_image(_bytes(t / "bomb.png", _png_header(40000, 40000))),
     ImageLoadError, "bomb.png"),
    ("image-zero-bytes", lambda t: load_image(_bytes(t / "empty.jpg", b"")), ImageLoadError, "empty.jpg"),
    ("image-truncated-png", lambda t: _cut_image(t, "cut.png", "png"), ImageLoadError, "cut.png"),
    ("image-truncated-jpeg", lambda t: _cut_image(t, "cut.jpg", "jpg"), ImageLoadError, "cut.jpg"),
    ("image-header-only-png", lambda t: load_image(_bytes(t / "hollow.png", _png_header(64, 64))), ImageLoadError,
     "hollow.png"),
    ("image-text-named-jpg", lambda t: load_image(_text(t / "notes.jpg", "this is not a jpeg")), ImageLoadError,
     "notes.jpg"),
    ("image-missing", lambda t: load_image(t / "missing.png"), ImageLoadError, "missing.png"),
    ("image-nan-float-tiff", lambda t: load_image(_float_tiff(t / "nan.tif", np.nan)), ImageLoadError, "nan.tif"),
    # frame features: the PCA basis, decoded video
    ("pca-truncated-file", lambda t: FramePCA.load(_cut(_pca(t), 300)), FramePCAError, "frame_pca.npz"),
    ("pca-flipped-bytes", lambda t: FramePCA.load(_flip(_pca(t), 200)), FramePCAError, "frame_pca.npz"),
    ("pca-text-file", lambda t: FramePCA.load(_text(t / "frame_pca.npz", "not a zip")), FramePCAError,
     "frame_pca.npz"),
    ("pca-missing-field", lambda t: FramePCA.load(_drop_field(t)),
     FramePCAError, "frame_pca.npz"),
    ("pca-nan-mean", lambda t: FramePCA.load(_pca(t, mean=np.full(6, np.nan))), FramePCAError, "frame_pca.npz"),
    ("pca-inf-components", lambda t: FramePCA.load(_pca(t, components=np.full((3, 6), np.inf))), FramePCAError,
     "frame_pca.npz"),
    ("pca-zero-scale", lambda t: FramePCA.load(_pca(t, scale=np.zeros(3))), FramePCAError, "frame_pca.npz"),
    ("pca-missing-file", lambda t: FramePCA.load(t / "frame_pca.npz"), MissingDataError, "frame_pca.npz"),
    ("video-text-file", lambda t: sample_frames(_text(t / "clip.mp4", "not a video" * 10)), VideoDecodeError,
     "clip.mp4"),
    ("video-zero-bytes", lambda t: sample_frames(_bytes(t / "clip.mp4", b"")), VideoDecodeError, "clip.mp4"),
    ("video-missing", lambda t: sample_frames(t / "clip.mp4"), MissingDataError, "clip.mp4"),
]



@pytest.mark.parametrize(("call", "error", "names"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_the_readers_error_naming_the_file(tmp_path, call, error, names):
    with pytest.raises(error) as info:
        call(tmp_path)
    assert isinstance(info.value, DataError) and isinstance(info.value, ValueError)
    assert names in str(info.value), f"the message does not name {names!r}: {info.value}"


# ---------------------------------------------------------------------------------------------- beside the table
@pytest.mark.parametrize("error", [LaMemFormatError, MemCatFormatError, IDXFormatError, TFRecordFormatError,
                                   CaptionFormatError, FramePCAError, ImageLoadError, ImageTooSmallError,
                                   VideoDecodeError, MovingMNISTError, FeatureCacheError, MissingDataError])
def test_every_data_error_is_a_data_error_and_still_a_value_error(error):
    assert issubclass(error, DataError) and issubclass(error, LabkitError) and issubclass(error, ValueError)


def test_missing_files_are_still_file_not_found_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.tfrecord"):
        read_frame_records(tmp_path / "gone.tfrecord")


def test_sixteen_bit_png_in_a_lamem_folder_loads_scaled_not_white(tmp_path):
    a = (np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 64).astype(np.uint16)  # 0 … 65472
    _lamem(tmp_path, "deep.png 0.25\n", {"deep.png": Image.fromarray(a)})
    img, score = LaMemDataset(tmp_path, "test_1")[0]
    rgb = np.asarray(img)
    assert score == np.float32(0.25) and rgb.shape == (32, 32, 3)
    np.testing.assert_array_equal(rgb[..., 0], np.round(a / 257.0).astype(np.uint8))
    assert rgb.min() == 0 and rgb.max() == 255  # scaled over the whole range, not clipped to white


def test_mnist_of_another_size_loads_when_asked_for(tmp_path):
    _bytes(tmp_path / "train-images-idx3-ubyte", _idx(0x08, (2, 7, 9), bytes(range(2 * 7 * 9))))
    _bytes(tmp_path / "train-labels-idx1-ubyte", LABELS)
    x, y = load_mnist(tmp_path, "train", size=None)
    assert x.shape == (2, 7, 9) and y.tolist() == [3, 7]
    assert load_mnist(tmp_path, "train", size=(7, 9))[0].shape == (2, 7, 9)


def test_a_glob_pattern_finds_the_shards_it_matches(tmp_path):
    _shard(tmp_path, "train0001.tfrecord", 2)
    _shard(tmp_path, "train0000.tfrecord", 1)
    _shard(tmp_path, "validate0000.tfrecord", 4)
    ds = YT8MFrameDataset(str(tmp_path / "train*.tfrecord"), num_classes=3)
    assert [f.name for f in ds.files] == ["train0000.tfrecord", "train0001.tfrecord"] and len(ds) == 3


def test_non_finite_features_are_refused_before_they_are_written_or_projected(tmp_path):
    with pytest.raises(TFRecordFormatError, match="non-finite"):
        quantize(np.array([0.5, np.nan]))
    with pytest.raises(TFRecordFormatError, match="'bad'.*mean_rgb"):
        write_video_records(tmp_path / "v.tfrecord", [VideoRecord("bad", [1], {"mean_rgb": np.full(1024, np.inf)})])
    pca = FramePCA(2).fit(np.random.default_rng(0).normal(size=(5, 4)))
    with pytest.raises(FramePCAError, match="non-finite"):
        pca.transform(np.full((3, 4), np.nan))
    with pytest.raises(FramePCAError, match="non-finite"):
        FramePCA(2).fit(np.full((5, 4), np.nan))


def test_caption_sets_and_padding_refuse_bad_features():
    with pytest.raises(CaptionFormatError, match="'v1'.*non-finite"):
        CaptionSet(["v0", "v1"], [np.ones((2, 3)), np.full((2, 3), np.nan)], {"v0": ["a"], "v1": ["b"]})
    with pytest.raises(DataError, match="one D"):
        pad_or_trim([np.ones((3, 4)), torch.ones(3, 5)])
