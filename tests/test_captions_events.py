"""Captions of the constructed digit-event videos: generated from the events, read back by the parser, bundled with
features that match the videos they name."""

import numpy as np
import pytest

from labkit.data.captions import (
    PHRASINGS,
    CaptionDataset,
    CaptionFormatError,
    CaptionSet,
    Vocabulary,
    caption_event_video,
    caption_events,
    event_caption_config,
    load_event_captions,
    parse_caption,
    readable,
    time_channel,
)
from labkit.data.digit_events import Event, event_video_from_id


def test_four_phrasings_one_in_reverse_order():
    assert caption_events(3, 7) == [
        "a 3 appears then a 7 appears",
        "first a 3 then a 7",
        "a 3 is followed by a 7",
        "before a 7 comes a 3",
    ]
    assert caption_events(3, 7, 1) == ["a 3 appears then a 7 appears"]
    assert len(PHRASINGS) >= 3 and any(p.index("{b}") < p.index("{a}") for p in PHRASINGS)  # one names the later first


@pytest.mark.parametrize(("first", "second"), [(3, 7), (7, 3), (0, 9), (5, 1)])
def test_parser_reads_back_every_phrasing_in_time_order(first, second):
    for caption in caption_events(first, second):
        assert parse_caption(caption) == (first, second), caption
        assert parse_caption(caption.capitalize() + ".") == (first, second)  # case and punctuation ignored


def test_readable_writes_an_before_8_only_and_the_parser_still_reads_it():
    assert readable("a 8 appears then a 9 appears") == "an 8 appears then a 9 appears"
    assert readable("before a 9 comes a 8") == "before a 9 comes an 8"
    assert readable("A 8 is followed by a 18.") == "An 8 is followed by a 18."  # only the numeral 8, any case
    assert readable("a 3 then a 7") == "a 3 then a 7"
    for first, second in ((8, 3), (3, 8)):
        for caption in caption_events(first, second):
            assert parse_caption(readable(caption)) == (first, second), readable(caption)
    assert "an" not in {w for p in PHRASINGS for w in p.split()}  # the data keeps one article (shipped vocabularies)


@pytest.mark.parametrize("text", ["", "a 3 appears", "a 3 appears then a 7", "a three appears then a 7 appears",
                                  "a 37 appears then a 7 appears", "first a 3 then a 7 appears", "before a 7 a 3",
                                  "a 3 is followed by a"])
def test_parser_says_none_for_anything_else(text):
    assert parse_caption(text) is None


def test_captions_from_events_in_order_of_appearance():
    events = [(9, 10, 13), (4, 2, 6)]  # (digit, start, stop), given out of order
    assert caption_event_video(events, 2) == ["a 4 appears then a 9 appears", "first a 4 then a 9"]
    e = [Event(4, 0, 2, 6, np.zeros((4, 2))), Event(9, 1, 10, 13, np.zeros((3, 2)))]
    assert caption_event_video(e) == caption_events(4, 9)


def test_caption_errors_name_the_problem():
    with pytest.raises(CaptionFormatError, match="n_phrasings must be in 1..4"):
        caption_events(1, 2, 5)
    with pytest.raises(CaptionFormatError, match="digits must be ints 0..9"):
        caption_events(1, 12)
    with pytest.raises(CaptionFormatError, match="exactly 2 digit events"):
        caption_event_video([(1, 0, 3)])
    with pytest.raises(CaptionFormatError, match="different digits in windows that do not overlap"):
        caption_event_video([(1, 0, 3), (2, 2, 5)])
    with pytest.raises(CaptionFormatError, match="different digits"):
        caption_event_video([(1, 0, 3), (1, 5, 8)])


def test_time_channel_is_the_frame_position():
    f = np.ones((5, 3), np.float32)
    out = time_channel(f)
    assert out.shape == (5, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, -1], [-1, -0.5, 0, 0.5, 1])
    assert time_channel(np.ones((1, 2)))[0, -1] == 0
    with pytest.raises(CaptionFormatError, match="at least one frame"):
        time_channel(np.ones((0, 3)))


def test_caption_set_take_truth_and_dataset_pairs():
    data = CaptionSet(["a", "b"], [np.ones((2, 3)), np.ones((4, 3))], {"a": ["x y", "y"], "b": ["x"]},
                      {"a": [(3, 0, 1), (7, 1, 2)], "b": [(1, 0, 2), (0, 2, 4)]})
    assert data.truth() == {"a": (3, 7), "b": (1, 0)}
    assert data.take(1).ids == ["a"] and data.take(1).truth() == {"a": (3, 7)}
    ds = CaptionDataset(data, Vocabulary.build(["x y"]), max_len=5)
    assert len(ds) == 3 and ds[2]["feats"].shape == (4, 3) and ds[0]["mask"].tolist() == [True, True, False, False]
    with pytest.raises(CaptionFormatError, match="no digit events"):
        CaptionSet(["a"], [np.ones((2, 3))], {"a": ["x"]}).truth()
    with pytest.raises(CaptionFormatError, match="no caption"):
        CaptionSet(["a"], [np.ones((2, 3))], {})


def test_bundled_set_matches_the_videos_it_names():
    data = load_event_captions()
    assert {k: len(v) for k, v in data.items()} == {"train": 2500, "val": 200, "test": 300}
    cfg = event_caption_config()
    assert cfg.task == "sequence" and cfg.length == (12, 20) and cfg.window == (3, 5)
    for split in ("train", "test"):
        s = data[split]
        for k in (0, len(s) - 1):
            i = s.ids[k]
            video = event_video_from_id(i, cfg)
            assert s.features[k].shape == (len(video.frames), 33)  # 32 whitened features + the time column
            assert s.events[i] == [(e.digit, e.start, e.stop) for e in video.events]
            assert s.captions[i] == caption_event_video(video.events)
    train_feats = np.concatenate(data["train"].features)[:, :32]
    np.testing.assert_allclose(train_feats.mean(0), 0, atol=0.02)  # whitened on the training frames
    np.testing.assert_allclose(train_feats.std(0), 1, atol=0.02)
    assert load_event_captions(with_time=False)["val"].features[0].shape[1] == 32


def test_a_damaged_bundle_is_a_clear_error(tmp_path):
    from labkit.core.assets import asset_path

    with np.load(asset_path("captions/digit_event_captions.npz")) as z:
        parts = dict(z)
    parts["lengths"] = parts["lengths"][:-1]
    np.savez(tmp_path / "bad.npz", **parts)
    with pytest.raises(CaptionFormatError, match="feature rows for lengths summing to"):
        load_event_captions(path=tmp_path / "bad.npz")
