"""YouTube-8M TFRecord files, read and written without TensorFlow.

Why our own reader: the course must open the real YouTube-8M shards (``data_root``) and its own bundled
event-video features (32 bytes a frame instead of 1024) with the same code, on a machine without TensorFlow, and a corrupt shard must stop
with a message naming the file and the record instead of feeding garbage to training.

A TFRecord file is a sequence of records, each framed as::

    uint64 length (little endian) | uint32 masked_crc32c(length bytes) | data[length] | uint32 masked_crc32c(data)

``data`` is a serialised ``tf.train.SequenceExample`` (frame level: context ``id``/``labels``, feature lists
``rgb`` 1024 and ``audio`` 128 uint8 per frame, one frame per second) or ``tf.train.Example`` (video level:
``id``, ``labels``, ``mean_rgb`` 1024 and ``mean_audio`` 128 floats). The protobuf classes come from the
``tfrecord`` package (a copy of TensorFlow's ``example.proto``).

Quantisation follows the YouTube-8M starter code: 8 bits over [-2, 2], ``q = round((clip(x) + 2) · 255/4)``
and back ``x ≈ q · 4/255 + 4/512 − 2`` (the 4/512 is half a step, so dequantised values sit mid-bin).
"""

from __future__ import annotations

import glob
import os
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import crc32c
import numpy as np
import torch
from tfrecord import example_pb2
from torch.utils.data import Dataset

from labkit.core.checks import require_int, require_strings
from labkit.core.errors import DataError, ParameterError
from labkit.data.paths import MissingDataError
from labkit.data.sequences import pad_or_trim

FRAME_FEATURES: dict[str, int] = {"rgb": 1024, "audio": 128}
VIDEO_FEATURES: dict[str, int] = {"mean_rgb": 1024, "mean_audio": 128}
MAX_FRAMES = 300  # YouTube-8M stores at most 300 frames (1 per second, first 5 minutes)
_MASK_DELTA = 0xA282EAD8


class TFRecordFormatError(DataError):
    """A TFRecord file or one of its records is malformed (framing, checksum, protobuf or feature size)."""


class UnknownIdError(ParameterError, KeyError):
    """A requested video id is in none of the files. Still a ``KeyError`` (what it was before), so callers
    that caught that keep working; its message reads as one plain line, not KeyError's quoted repr."""

    __str__ = BaseException.__str__


# --------------------------------------------------------------------------- quantisation
def quantize(x: np.ndarray, min_value: float = -2.0, max_value: float = 2.0) -> np.ndarray:
    """Float features → uint8, as the YouTube-8M feature extractor does (clip, scale, round half to even).

    Its own formula, not :func:`labkit.data.compression.quantise_u8`: the extractor multiplies by 255/range (exact),
    the shared quantiser divides by the step (inexact), so exact half steps — 0.0 among them, byte 128 here, 127
    there — would round one byte apart from the official files (``tests/test_yt8m_format.py`` shows it).

    Non-finite values are refused: NaN would be stored as an ordinary byte, and nothing downstream could
    tell it from a real feature."""
    x = np.asarray(x, dtype=np.float32)
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    if bad:
        raise TFRecordFormatError(f"cannot quantise non-finite features: {bad} of {x.size} values are NaN or inf",
                                  fix="find where they came from (a damaged frame, a PCA basis) before writing")
    x = np.clip(x, min_value, max_value)
    q = np.rint((x - min_value) * (255.0 / (max_value - min_value)))  # Python's round() also rounds half to even
    return q.astype(np.uint8)


def dequantize(q: np.ndarray, min_value: float = -2.0, max_value: float = 2.0) -> np.ndarray:
    """uint8 → float32 exactly as the starter code's ``Dequantize``: ``q·range/255 + range/512 + min``.

    ``q`` of another dtype must still hold 8-bit values, whole numbers 0..255: ``dequantize(300.0)`` would
    otherwise return 2.71, a feature outside the range any byte can store, and a NaN would pass through.
    """
    a = np.asarray(q)
    if a.dtype != np.uint8:
        if a.dtype.kind not in "biuf":
            raise TFRecordFormatError(f"dequantize: q must hold 8-bit values (integers 0..255), got dtype {a.dtype}")
        v = a.astype(np.float64)
        bad = ~((v >= 0) & (v <= 255) & (v == np.floor(v)))  # NaN fails every comparison
        if bad.any():
            first = a.flat[int(np.argmax(bad))].item()
            raise TFRecordFormatError(f"dequantize: q must hold 8-bit values (integers 0..255), got {first!r} "
                                      f"({int(bad.sum())} of {a.size} values outside)",
                                      fix="dequantize takes the bytes quantize() made, not features")
    span = max_value - min_value
    return (np.asarray(q, dtype=np.float32) * np.float32(span / 255.0) + np.float32(span / 512.0 + min_value)).astype(
        np.float32
    )


# --------------------------------------------------------------------------- framing
def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C: rotate right by 15 bits and add a constant (so CRCs of CRCs stay useful)."""
    crc = crc32c.crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def _frame(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data))


def write_records(path: str | os.PathLike, payloads: Sequence[bytes]) -> Path:
    """Write serialised protos as one TFRecord file (atomically: a temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        for p in payloads:
            f.write(_frame(p))
    tmp.replace(path)
    return path


def record_offsets(path: str | os.PathLike, check_crc: bool = True) -> list[tuple[int, int]]:
    """``(data offset, data length)`` of every record, checking the framing (and the header CRCs).

    Reads only the 12-byte headers, so indexing a 1 GB YouTube-8M shard is fast; the data CRC is
    checked when a record is read (:func:`read_record`).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError("TFRecord file not found", path=path, fix="check the path (or pass a folder of shards)")
    size = path.stat().st_size
    out: list[tuple[int, int]] = []
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            i = len(out)
            header = f.read(12)
            if len(header) < 12:
                raise TFRecordFormatError(
                    f"{path}: record {i} is truncated (only {len(header)} of 12 header bytes at offset {pos}); "
                    "the file was cut short — re-download or regenerate it"
                )
            (length,), (crc,) = struct.unpack("<Q", header[:8]), struct.unpack("<I", header[8:])
            if check_crc and masked_crc(header[:8]) != crc:
                raise TFRecordFormatError(
                    f"{path}: record {i} has a bad length CRC at offset {pos}; this is not a TFRecord file "
                    "or it is corrupt (a gzip-compressed file must be decompressed first)"
                )
            end = pos + 12 + length + 4
            if end > size:
                raise TFRecordFormatError(
                    f"{path}: record {i} is truncated (needs {length} data bytes + CRC from offset {pos + 12}, "
                    f"the file ends at {size}); re-download or regenerate it"
                )
            out.append((pos + 12, length))
            f.seek(end)
            pos = end
    return out


def read_record(f, path: Path, index: int, offset: int, length: int, check_crc: bool = True) -> bytes:
    """One record's data bytes from an open file, CRC-checked."""
    f.seek(offset)
    data = f.read(length)
    tail = f.read(4)
    if len(data) != length or len(tail) != 4:
        raise TFRecordFormatError(f"{path}: record {index} is truncated")
    if check_crc and masked_crc(data) != struct.unpack("<I", tail)[0]:
        raise TFRecordFormatError(
            f"{path}: record {index} has a bad data CRC (bytes {offset}..{offset + length}); the file is corrupt"
        )
    return data


def _no_records(path: Path) -> TFRecordFormatError:
    """The error for a file without records: an interrupted download or write, never a real empty split."""
    return TFRecordFormatError(f"the file holds no records ({path.stat().st_size} bytes)", path=path,
                               fix="an empty shard is an interrupted download or write; download or regenerate it")


def iter_records(path: str | os.PathLike, check_crc: bool = True) -> Iterator[bytes]:
    """The data bytes of every record in ``path``, in order, CRC-checked; a file with no records is an error."""
    path = Path(path)
    offsets = record_offsets(path, check_crc)
    if not offsets:
        raise _no_records(path)
    with open(path, "rb") as f:
        for i, (off, n) in enumerate(offsets):
            yield read_record(f, path, i, off, n, check_crc)


# --------------------------------------------------------------------------- protobuf <-> arrays
@dataclass
class FrameRecord:
    """One frame-level video: ``features[name]`` is (T, D) uint8 (quantised), one row per second."""

    id: str
    labels: list[int]
    features: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return min((len(v) for v in self.features.values()), default=0)


@dataclass
class VideoRecord:
    """One video-level record: ``features[name]`` is a (D,) float32 vector (e.g. ``mean_rgb``)."""

    id: str
    labels: list[int]
    features: dict[str, np.ndarray] = field(default_factory=dict)


def _context(video_id: str, labels: Sequence[int]) -> dict[str, example_pb2.Feature]:
    return {
        "id": example_pb2.Feature(bytes_list=example_pb2.BytesList(value=[video_id.encode()])),
        "labels": example_pb2.Feature(int64_list=example_pb2.Int64List(value=[int(x) for x in labels])),
    }


def encode_frame_record(rec: FrameRecord) -> bytes:
    """A ``FrameRecord`` → serialised ``SequenceExample`` (one ``bytes_list`` of D bytes per frame)."""
    lists = {}
    for name, arr in rec.features.items():
        arr = np.asarray(arr)
        if arr.dtype != np.uint8 or arr.ndim != 2:
            raise TFRecordFormatError(f"video {rec.id!r}: feature {name!r} must be a (T, D) uint8 array (quantize() "
                                      f"it first), got {arr.dtype} {arr.shape}")
        fl = example_pb2.FeatureList(
            feature=[example_pb2.Feature(bytes_list=example_pb2.BytesList(value=[row.tobytes()])) for row in arr]
        )
        lists[name] = fl
    ex = example_pb2.SequenceExample(
        context=example_pb2.Features(feature=_context(rec.id, rec.labels)),
        feature_lists=example_pb2.FeatureLists(feature_list=lists),
    )
    return ex.SerializeToString(deterministic=True)  # map fields in key order: the same records, the same bytes


def encode_video_record(rec: VideoRecord) -> bytes:
    """A ``VideoRecord`` → serialised ``Example`` with float lists."""
    feats = _context(rec.id, rec.labels)
    for name, v in rec.features.items():
        v = np.asarray(v, np.float32).ravel()
        if not np.isfinite(v).all():
            raise TFRecordFormatError(f"video {rec.id!r}: feature {name!r} holds non-finite values (NaN or inf)",
                                      fix="fix the features before writing them; a reader refuses them")
        feats[name] = example_pb2.Feature(float_list=example_pb2.FloatList(value=v))
    return example_pb2.Example(features=example_pb2.Features(feature=feats)).SerializeToString(deterministic=True)


def _parse(msg, data: bytes, where: str):
    try:
        msg.ParseFromString(data)
    except Exception as e:  # google.protobuf.message.DecodeError
        raise TFRecordFormatError(f"{where}: not a valid {type(msg).__name__} protobuf ({e})") from e
    return msg


def _id_and_labels(ctx, where: str) -> tuple[str, list[int]]:
    if "id" not in ctx.feature:
        raise TFRecordFormatError(f"{where}: no 'id' in the context (keys: {sorted(ctx.feature)})")
    ids = ctx.feature["id"].bytes_list.value
    if len(ids) != 1:
        raise TFRecordFormatError(f"{where}: 'id' must hold one bytes value, found {len(ids)}")
    labels = list(ctx.feature["labels"].int64_list.value) if "labels" in ctx.feature else []
    return ids[0].decode("utf-8", errors="replace"), labels


def decode_frame_record(
    data: bytes, sizes: Mapping[str, int] | None = None, where: str = "record"
) -> FrameRecord:
    """Serialised ``SequenceExample`` → ``FrameRecord``; every frame of every feature in ``sizes`` is checked."""
    sizes = FRAME_FEATURES if sizes is None else sizes
    ex = _parse(example_pb2.SequenceExample(), data, where)
    vid, labels = _id_and_labels(ex.context, where)
    feats: dict[str, np.ndarray] = {}
    lists = ex.feature_lists.feature_list
    for name, dim in sizes.items():
        if name not in lists:
            raise TFRecordFormatError(
                f"{where} (id {vid!r}): no feature list {name!r} (found {sorted(lists)}); "
                "pass the features this file holds, e.g. features={'rgb': 1024}"
            )
        frames = [f.bytes_list.value for f in lists[name].feature]
        bad = [t for t, v in enumerate(frames) if len(v) != 1 or len(v[0]) != dim]
        if bad:
            t = bad[0]
            raise TFRecordFormatError(f"{where} (id {vid!r}): feature {name!r} frame {t} "
                                      f"{_frame_problem(lists[name].feature[t], dim)}")
        joined = b"".join(v[0] for v in frames)
        feats[name] = np.frombuffer(joined, dtype=np.uint8).reshape(len(frames), dim)
    return FrameRecord(vid, labels, feats)


def _frame_problem(feature: example_pb2.Feature, dim: int) -> str:
    """What is wrong with one frame that is not ``dim`` quantised bytes, in words."""
    kind = feature.WhichOneof("kind")
    if kind == "bytes_list":
        values = feature.bytes_list.value
        got = len(values[0]) if len(values) == 1 else f"{len(values)} values"
        return f"has {got} bytes, expected {dim}"
    if kind == "float_list":
        v = np.asarray(feature.float_list.value, dtype=np.float32)
        nonfinite = int(v.size - np.count_nonzero(np.isfinite(v)))
        return (f"holds {v.size} floats ({nonfinite} of them non-finite: NaN or inf)" if nonfinite else
                f"holds {v.size} floats") + f", not {dim} quantised bytes; quantize() frame features before writing"
    return f"holds {kind or 'nothing'}, not {dim} quantised bytes"


def decode_video_record(data: bytes, sizes: Mapping[str, int] | None = None, where: str = "record") -> VideoRecord:
    """Serialised ``Example`` → ``VideoRecord``, checking each feature's length."""
    sizes = VIDEO_FEATURES if sizes is None else sizes
    ex = _parse(example_pb2.Example(), data, where)
    vid, labels = _id_and_labels(ex.features, where)
    feats = {}
    for name, dim in sizes.items():
        if name not in ex.features.feature:
            raise TFRecordFormatError(f"{where} (id {vid!r}): no feature {name!r} (found {sorted(ex.features.feature)})")
        v = np.asarray(ex.features.feature[name].float_list.value, dtype=np.float32)
        if v.size != dim:
            raise TFRecordFormatError(f"{where} (id {vid!r}): feature {name!r} has {v.size} floats, expected {dim}")
        finite = np.isfinite(v)
        if not finite.all():
            raise TFRecordFormatError(
                f"{where} (id {vid!r}): feature {name!r} has {v.size - int(finite.sum())} non-finite value(s) "
                f"(NaN or inf), the first at index {int(np.argmin(finite))}; the record is damaged — regenerate it")
        feats[name] = v
    return VideoRecord(vid, labels, feats)


# --------------------------------------------------------------------------- file level
def write_frame_records(path: str | os.PathLike, records: Sequence[FrameRecord]) -> Path:
    """Write frame-level records (YouTube-8M ``frame/*.tfrecord`` layout)."""
    return write_records(path, [encode_frame_record(r) for r in records])


def write_video_records(path: str | os.PathLike, records: Sequence[VideoRecord]) -> Path:
    """Write video-level records (YouTube-8M ``video/*.tfrecord`` layout)."""
    return write_records(path, [encode_video_record(r) for r in records])


def read_frame_records(
    path: str | os.PathLike, features: Mapping[str, int] | None = None, check_crc: bool = True
) -> list[FrameRecord]:
    """Every frame-level record of one file; errors name the file and the record index."""
    path = Path(path)
    return [
        decode_frame_record(d, features, where=f"{path}: record {i}")
        for i, d in enumerate(iter_records(path, check_crc))
    ]


def read_video_records(
    path: str | os.PathLike, features: Mapping[str, int] | None = None, check_crc: bool = True
) -> list[VideoRecord]:
    """Every video-level record of one file."""
    path = Path(path)
    return [
        decode_video_record(d, features, where=f"{path}: record {i}")
        for i, d in enumerate(iter_records(path, check_crc))
    ]


def find_tfrecords(root: str | os.PathLike, pattern: str = "*.tfrecord") -> list[Path]:
    """The ``pattern`` files under a folder (sorted), the file itself, or the files a glob such as
    ``data/frame/train*.tfrecord`` matches; none is a :class:`~labkit.data.paths.MissingDataError` naming the
    pattern, because an empty list would train on nothing without a word."""
    text = os.fspath(root)
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.exists() and glob.has_magic(text):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if os.path.isfile(p))
        if not files:
            raise MissingDataError(f"no files match the pattern {text}",
                                   fix="check the folder and the pattern (YouTube-8M shards: train*.tfrecord, "
                                       "validate*.tfrecord)")
        return files
    if not root.is_dir():
        raise MissingDataError("is neither a TFRecord file, a folder nor a glob pattern that matches files",
                               path=root, fix="pass a .tfrecord file, a folder of shards or a pattern")
    files = sorted(p for p in root.rglob(pattern) if p.is_file())
    if not files:
        raise MissingDataError(f"no {pattern} files under this folder", path=root,
                               fix="expected YouTube-8M frame-level shards; check data_root and the pattern")
    return files


# --------------------------------------------------------------------------- torch dataset
class YT8MFrameDataset(Dataset):
    """Frame-level YouTube-8M records as tensors: ``{"rgb": (T, 1024) float32, ..., "labels": (C,) 0/1, "length"}``.

    Files are indexed once (record offsets only) and records are decoded on access, so a folder of real
    shards costs no memory up front. Frames beyond ``max_frames`` are dropped (the first ones are kept,
    as the starter code does); :func:`collate_frames` pads a batch and builds the mask.
    """

    def __init__(
        self,
        files: str | os.PathLike | Sequence[str | os.PathLike],
        num_classes: int,
        max_frames: int = MAX_FRAMES,
        features: Mapping[str, int] | None = None,
        check_crc: bool = True,
        ids: Sequence[str] | None = None,
    ) -> None:
        # Arguments first, before any shard is indexed (a folder of real shards takes a while).
        num_classes = require_int("num_classes", num_classes, at_least=1)
        max_frames = require_int("max_frames", max_frames, at_least=1)
        if ids is not None:
            ids = require_strings("ids", ids, "video ids")
        if isinstance(files, str | os.PathLike):
            files = find_tfrecords(files)
        self.files = [Path(f) for f in files]
        if not self.files:
            raise MissingDataError("no TFRecord files given", fix="pass a file, a folder of shards or a glob pattern")
        self.num_classes, self.max_frames, self.check_crc = num_classes, max_frames, check_crc
        self.features = dict(FRAME_FEATURES if features is None else features)
        offsets = [record_offsets(f, check_crc) for f in self.files]
        empty = [str(f) for f, o in zip(self.files, offsets, strict=True) if not o]
        if len(empty) == 1:
            raise _no_records(Path(empty[0]))
        if empty:
            raise TFRecordFormatError(
                f"{len(empty)} of {len(self.files)} TFRecord files hold no records: {', '.join(empty[:5])}"
                + (", …" if len(empty) > 5 else ""),
                fix="empty shards are interrupted downloads or writes; download or regenerate them")
        self.index = [(fi, i, off, n) for fi, o in enumerate(offsets) for i, (off, n) in enumerate(o)]
        if ids is not None:  # keep only these videos (e.g. a split), in the given order
            by_id = {self.record(k).id: k for k in range(len(self.index))}
            missing = [v for v in ids if v not in by_id]
            if missing:
                names = ", ".join(f.name for f in self.files[:3]) + (", …" if len(self.files) > 3 else "")
                raise UnknownIdError(f"ids: {len(missing)} of {len(ids)} requested ids are not in the files "
                                     f"({names}), e.g. {missing[:3]}",
                                     fix=f"the files hold {len(by_id)} videos, e.g. {list(by_id)[:3]}")
            self.index = [self.index[by_id[v]] for v in ids]

    def __len__(self) -> int:
        return len(self.index)

    def record(self, k: int) -> FrameRecord:
        """The decoded (still quantised) record ``k``."""
        fi, i, off, n = self.index[k]
        path = self.files[fi]
        with open(path, "rb") as f:
            data = read_record(f, path, i, off, n, self.check_crc)
        return decode_frame_record(data, self.features, where=f"{path}: record {i}")

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        rec = self.record(k)
        where = f"record {self.index[k][1]} (id {rec.id!r})"
        t = min(rec.num_frames, self.max_frames)
        if t == 0:
            raise TFRecordFormatError(f"{where} has no frames", path=self.files[self.index[k][0]])
        labels = np.asarray(rec.labels, dtype=np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            bad = labels.min() if labels.min() < 0 else labels.max()
            raise TFRecordFormatError(f"{where} has label {bad} outside 0..{self.num_classes - 1}; set num_classes "
                                      "to the dataset's (YouTube-8M 2018: 3862)", path=self.files[self.index[k][0]])
        y = torch.zeros(self.num_classes)
        y[torch.from_numpy(labels)] = 1.0
        item = {name: torch.from_numpy(dequantize(rec.features[name][:t])) for name in self.features}
        item["labels"] = y
        item["length"] = torch.tensor(t)
        return item


def collate_frames(items: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Pad a list of variable-length items to the batch's longest video; ``mask`` is True on real frames.

    An empty batch is refused by name: ``torch.stack`` would say only "expected a non-empty list of Tensors".
    """
    if isinstance(items, Mapping) or not isinstance(items, Sequence):
        raise ParameterError("collate_frames: items must be a list of dataset items (dicts), got "
                             f"{type(items).__name__}")
    if not items:
        raise DataError("collate_frames: items is an empty batch (0 items)",
                        fix="pass at least one item from the dataset (a DataLoader never makes an empty batch)")
    lengths = torch.stack([it["length"] for it in items])  # (B,)
    t_max = int(lengths.max())
    out: dict[str, torch.Tensor] = {"labels": torch.stack([it["labels"] for it in items]), "length": lengths}
    for name in items[0]:
        if name in ("labels", "length"):
            continue
        out[name], mask = pad_or_trim([it[name] for it in items], t_max)  # (B, T, D) zeros after length, (B, T)
    out["mask"] = mask
    return out


def detect_features(path: str | os.PathLike) -> dict[str, int]:
    """The known frame-level feature lists (``rgb``/``audio``) present in the first record of ``path``, with the
    width each one has there (bytes in its first frame): 1024 and 128 in YouTube-8M, 32 in notebook 05's bundled
    event videos. A list without frames gets YouTube-8M's width; every record is checked against these widths
    when it is read."""
    path = Path(path)
    data = next(iter_records(path))  # a file without records is an error there
    ex = _parse(example_pb2.SequenceExample(), data, f"{path}: record 0")
    lists = ex.feature_lists.feature_list
    found = {}
    for k, default in FRAME_FEATURES.items():
        if k in lists:
            first = lists[k].feature[0].bytes_list.value if lists[k].feature else []
            found[k] = len(first[0]) if len(first) == 1 and len(first[0]) else default
    if not found:
        raise TFRecordFormatError(f"{path}: record 0 has none of the feature lists {sorted(FRAME_FEATURES)}")
    return found


def dissect(path: str | os.PathLike, index: int = 0) -> dict[str, object]:
    """Record ``index`` of ``path`` taken apart: its framing bytes, CRCs and protobuf layout (for teaching)."""
    path = Path(path)
    offsets = record_offsets(path)
    if not offsets:
        raise _no_records(path)
    if not -len(offsets) <= index < len(offsets):
        raise IndexError(f"{path}: record {index} does not exist, the file holds {len(offsets)} records")
    off, n = offsets[index]
    with open(path, "rb") as f:
        f.seek(off - 12)
        header = f.read(12)
        data = read_record(f, path, index, off, n)  # CRC-checked
        f.seek(off + n)
        tail = struct.unpack("<I", f.read(4))[0]
    ex = _parse(example_pb2.SequenceExample(), data, f"{path}: record {index}")
    lists = ex.feature_lists.feature_list
    return {
        "file bytes": path.stat().st_size,
        "records in file": len(offsets),
        "record offset": off - 12,
        "length field (uint64 LE)": header[:8].hex(" "),
        "length": n,
        "length CRC (masked crc32c)": f"{struct.unpack('<I', header[8:])[0]:#010x}",
        "data CRC (masked crc32c)": f"{tail:#010x}",
        "context.id": ex.context.feature["id"].bytes_list.value[0].decode(),
        "context.labels": list(ex.context.feature["labels"].int64_list.value),
        **{f"feature_lists.{k}": f"{len(v.feature)} frames × {len(v.feature[0].bytes_list.value[0])} bytes"
           for k, v in lists.items()},
    }
