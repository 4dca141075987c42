"""YouTube-8M TFRecord reading/writing: round trips, quantisation values, corrupt files, the Dataset."""

from __future__ import annotations

import struct

import crc32c
import numpy as np
import pytest
import torch
from tfrecord import example_pb2
from tfrecord.reader import tfrecord_loader

from labkit.data import yt8m
from labkit.data.yt8m import (
    FrameRecord,
    TFRecordFormatError,
    VideoRecord,
    YT8MFrameDataset,
    collate_frames,
    dequantize,
    encode_frame_record,
    masked_crc,
    pad_or_trim,
    quantize,
    read_frame_records,
    read_video_records,
    record_offsets,
    write_frame_records,
    write_records,
    write_video_records,
)


def _frame_records(rng: np.random.Generator, n: int = 4) -> list[FrameRecord]:
    out = []
    for i in range(n):
        t = int(rng.integers(1, 9))
        feats = {"rgb": rng.integers(0, 256, (t, 1024), dtype=np.uint8),
                 "audio": rng.integers(0, 256, (t, 128), dtype=np.uint8)}
        out.append(FrameRecord(f"vid{i}", sorted(rng.choice(3862, size=i + 1, replace=False).tolist()), feats))
    return out


@pytest.fixture
def frame_file(tmp_path):
    recs = _frame_records(np.random.default_rng(0))
    return write_frame_records(tmp_path / "train0000.tfrecord", recs), recs


def test_frame_level_round_trip(frame_file):
    path, recs = frame_file
    back = read_frame_records(path)
    assert [r.id for r in back] == [r.id for r in recs]
    for a, b in zip(back, recs, strict=True):
        assert a.labels == b.labels
        for k in ("rgb", "audio"):
            np.testing.assert_array_equal(a.features[k], b.features[k])


def test_video_level_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    recs = [VideoRecord(f"v{i}", [i, 7], {"mean_rgb": rng.normal(size=1024).astype(np.float32),
                                          "mean_audio": rng.normal(size=128).astype(np.float32)}) for i in range(3)]
    back = read_video_records(write_video_records(tmp_path / "video.tfrecord", recs))
    for a, b in zip(back, recs, strict=True):
        assert (a.id, a.labels) == (b.id, b.labels)
        np.testing.assert_array_equal(a.features["mean_rgb"], b.features["mean_rgb"])
        np.testing.assert_array_equal(a.features["mean_audio"], b.features["mean_audio"])


def test_files_are_readable_by_the_independent_tfrecord_package(frame_file):
    """Our framing and protos agree with another implementation (tfrecord's reader, its own parser)."""
    path, recs = frame_file
    ctx, seq = {"id": "byte", "labels": "int"}, {"rgb": "byte", "audio": "byte"}
    got = list(tfrecord_loader(str(path), None, ctx, sequence_description=seq))
    assert len(got) == len(recs)
    c, s = got[2]
    assert bytes(c["id"]).decode() == recs[2].id
    assert c["labels"].tolist() == recs[2].labels
    rgb = np.stack([np.frombuffer(bytes(v), np.uint8) for v in s["rgb"]])
    np.testing.assert_array_equal(rgb, recs[2].features["rgb"])


def test_masked_crc_matches_tensorflow_known_value():
    # TensorFlow's crc32c of b"" is 0, so its masked value is the mask delta; of b"a" it is 0xC1D04330.
    assert masked_crc(b"") == 0xA282EAD8
    crc = 0xC1D04330
    assert crc32c.crc32c(b"a") == crc  # the CRC-32C (Castagnoli) check value, not zlib's CRC-32
    assert masked_crc(b"a") == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def test_dequantize_values_match_the_starter_code_formula():
    q = np.array([0, 1, 127, 128, 255], dtype=np.uint8)
    expected = q.astype(np.float64) * 4 / 255 + 4 / 512 - 2  # Dequantize(): x·range/255 + range/512 + min
    np.testing.assert_allclose(dequantize(q), expected, rtol=0, atol=1e-6)
    assert dequantize(np.uint8(0)) == pytest.approx(-1.9921875)
    assert dequantize(np.uint8(255)) == pytest.approx(2.0078125)


def test_quantize_clips_rounds_and_inverts_within_half_a_step():
    x = np.array([-5.0, -2.0, 0.0, 2.0, 9.0, 1.0], dtype=np.float32)
    np.testing.assert_array_equal(quantize(x), [0, 0, 128, 255, 255, 191])  # 0 → 127.5 → 128 (half to even)
    y = np.random.default_rng(0).uniform(-2, 2, 10000).astype(np.float32)
    err = np.abs(dequantize(quantize(y)) - y)
    assert err.max() <= 4 / 255 / 2 + 4 / 512 + 1e-6  # half a bin plus the starter code's half-bin bias


def test_bad_crc_names_file_and_record(frame_file):
    path, _ = frame_file
    offsets = record_offsets(path)
    raw = bytearray(path.read_bytes())
    raw[offsets[2][0] + 5] ^= 0xFF  # flip a data byte of record 2
    path.write_bytes(bytes(raw))
    with pytest.raises(TFRecordFormatError, match=r"train0000\.tfrecord: record 2 has a bad data CRC"):
        read_frame_records(path)


def test_bad_length_crc_is_reported(tmp_path):
    path = tmp_path / "x.tfrecord"
    path.write_bytes(struct.pack("<Q", 5) + b"\0\0\0\0" + b"hello" + b"\0\0\0\0")
    with pytest.raises(TFRecordFormatError, match=r"record 0 has a bad length CRC"):
        read_frame_records(path)


def test_truncated_file_names_the_record(frame_file):
    path, _ = frame_file
    raw = path.read_bytes()
    path.write_bytes(raw[:-10])
    with pytest.raises(TFRecordFormatError, match=r"record 3 is truncated"):
        read_frame_records(path)
    path.write_bytes(raw + b"\x01\x02\x03")
    with pytest.raises(TFRecordFormatError, match=r"record 4 is truncated \(only 3 of 12 header bytes"):
        read_frame_records(path)


def test_wrong_feature_size_names_record_feature_and_frame(tmp_path):
    rec = FrameRecord("short", [1], {"rgb": np.zeros((3, 1024), np.uint8), "audio": np.zeros((3, 128), np.uint8)})
    ex = example_pb2.SequenceExample()
    ex.ParseFromString(encode_frame_record(rec))
    ex.feature_lists.feature_list["rgb"].feature[1].bytes_list.value[0] = b"\0" * 1000
    path = write_records(tmp_path / "bad.tfrecord", [encode_frame_record(rec), ex.SerializeToString()])
    with pytest.raises(TFRecordFormatError, match=r"bad\.tfrecord: record 1 \(id 'short'\): feature 'rgb' frame 1 "
                                                  r"has 1000 bytes, expected 1024"):
        read_frame_records(path)


def test_missing_modality_and_garbage_payload_are_clear_errors(tmp_path):
    rec = FrameRecord("rgbonly", [0], {"rgb": np.zeros((2, 1024), np.uint8)})
    path = write_frame_records(tmp_path / "a.tfrecord", [rec])
    with pytest.raises(TFRecordFormatError, match=r"no feature list 'audio'"):
        read_frame_records(path)
    assert read_frame_records(path, features={"rgb": 1024})[0].num_frames == 2
    garbage = write_records(tmp_path / "g.tfrecord", [b"\xff\xff\xff\xff"])
    with pytest.raises(TFRecordFormatError, match=r"g\.tfrecord: record 0: not a valid SequenceExample"):
        read_frame_records(garbage)
    assert issubclass(TFRecordFormatError, ValueError)


def test_pad_or_trim_keeps_the_first_frames_and_masks_the_rest():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    out, mask = pad_or_trim(x, 4)
    np.testing.assert_array_equal(out, x[:4])
    assert mask.all()
    out, mask = pad_or_trim(x, 8)
    np.testing.assert_array_equal(out[:6], x)
    assert not out[6:].any() and mask.tolist() == [True] * 6 + [False] * 2


def test_dataset_dequantises_trims_and_collates_with_a_mask(frame_file):
    path, recs = frame_file
    ds = YT8MFrameDataset(path.parent, num_classes=3862, max_frames=5)
    assert len(ds) == 4
    item = ds[1]
    t = min(len(recs[1].features["rgb"]), 5)
    assert item["rgb"].shape == (t, 1024) and item["audio"].shape == (t, 128)
    np.testing.assert_allclose(item["rgb"].numpy(), dequantize(recs[1].features["rgb"][:t]))
    assert torch.nonzero(item["labels"]).flatten().tolist() == recs[1].labels
    batch = collate_frames([ds[i] for i in range(4)])
    lengths = [min(len(r.features["rgb"]), 5) for r in recs]
    assert batch["rgb"].shape == (4, max(lengths), 1024)
    assert batch["mask"].sum(1).tolist() == lengths
    assert not batch["rgb"][~batch["mask"]].any()  # padding is zeros


def test_dataset_rejects_labels_beyond_num_classes(frame_file):
    path, _ = frame_file
    ds = YT8MFrameDataset(path, num_classes=10)
    with pytest.raises(ValueError, match=r"outside 0\.\.9; set num_classes"):
        ds[0]


def test_dataset_selects_ids_in_order_and_reports_missing(frame_file):
    path, _ = frame_file
    ds = YT8MFrameDataset(path, num_classes=3862, ids=["vid3", "vid0"])
    assert [ds.record(i).id for i in range(2)] == ["vid3", "vid0"]
    with pytest.raises(KeyError, match="not in the files"):
        YT8MFrameDataset(path, num_classes=3862, ids=["nope"])


def test_detect_features_and_dissect(frame_file, tmp_path):
    path, recs = frame_file
    assert yt8m.detect_features(path) == {"rgb": 1024, "audio": 128}
    only = write_frame_records(tmp_path / "rgb.tfrecord", [FrameRecord("a", [1], {"rgb": np.zeros((2, 1024), np.uint8)})])
    assert yt8m.detect_features(only) == {"rgb": 1024}
    d = yt8m.dissect(path, 1)
    assert d["records in file"] == 4 and d["context.id"] == "vid1" and d["context.labels"] == recs[1].labels
    t = len(recs[1].features["rgb"])
    assert d["feature_lists.rgb"] == f"{t} frames × 1024 bytes"
    assert int.from_bytes(bytes.fromhex(d["length field (uint64 LE)"].replace(" ", "")), "little") == d["length"]
