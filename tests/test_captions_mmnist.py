"""Captions generated from Moving MNIST tracks."""

import numpy as np
import pytest

from labkit.data.captions import CaptionDataset, CaptionFormatError, CaptionSet, Vocabulary, caption_video
from labkit.data.moving_mnist import DigitTrack, MovingMNISTVideo


def _track(digit, velocity, bounces):
    t = 4
    return DigitTrack(digit, 0, np.zeros((t, 2)), np.array(velocity, float), "vertical", np.ones(t, bool), bounces)


def test_two_digit_captions_say_digit_heading_and_bounce():
    v = MovingMNISTVideo("train-00001", np.zeros((4, 64, 64), np.uint8),
                         [_track(3, (3.0, 0.0), 0), _track(7, (0.0, -3.0), 2)])
    assert caption_video(v) == [
        "the digit 3 moves down while the digit 7 bounces left",
        "a 3 is moving down and a 7 is bouncing left",
        "digit 3 goes down as digit 7 goes left and bounces",
        "seven bounces left and three moves down",
    ]


def test_caption_errors_and_dataset_pairs():
    v = MovingMNISTVideo("train-00002", np.zeros((4, 64, 64), np.uint8), [_track(1, (-2.0, 2.0), 0)])
    assert caption_video(v, 1) == ["the digit 1 moves up right"]
    with pytest.raises(CaptionFormatError, match="n_phrasings"):
        caption_video(v, 5)
    with pytest.raises(CaptionFormatError, match="no digit tracks"):
        caption_video(MovingMNISTVideo("train-00003", np.zeros((4, 64, 64), np.uint8)))
    data = CaptionSet(["a", "b"], [np.ones((2, 3)), np.ones((4, 3))], {"a": ["x y", "y"], "b": ["x"]})
    ds = CaptionDataset(data, Vocabulary.build(["x y"]), max_len=5)
    assert len(ds) == 3 and ds[2]["feats"].shape == (4, 3) and ds[0]["mask"].tolist() == [True, True, False, False]
    with pytest.raises(CaptionFormatError, match="no caption"):
        CaptionSet(["a"], [np.ones((2, 3))], {})
