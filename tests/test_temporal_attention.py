"""The attention mass on the informative frames against their share of the video (notebook 05's attention figure),
checked on numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.metrics.errors import MetricInputError
from labkit.metrics.temporal_attention import (
    informative_mass,
    median_mass_ratio,
    top1_failures,
    video_figures,
)

# video 0: 0.6 of the weight on 1 informative frame of 4 (share 1/4) → ratio 2.4
# video 1: uniform over 3 frames, 1 informative → mass 1/3, share 1/3, ratio 1 (what mean pooling always scores)
# video 2: 0.9 on the 2 informative frames of 5 (share 0.4) → ratio 2.25
ALPHA = [np.array([0.1, 0.6, 0.2, 0.1]), np.full(3, 1 / 3), np.array([0.05, 0.45, 0.45, 0.05, 0.0])]
INFORMATIVE = [np.array([0, 1, 0, 0], bool), np.array([1, 0, 0], bool), np.array([0, 1, 1, 0, 0], bool)]


def test_mass_share_and_ratio_by_hand():
    m = informative_mass(ALPHA, INFORMATIVE)
    np.testing.assert_allclose(m["mass"], [0.6, 1 / 3, 0.9])
    np.testing.assert_allclose(m["share"], [0.25, 1 / 3, 0.4])
    np.testing.assert_allclose(m["ratio"], [2.4, 1.0, 2.25])
    assert median_mass_ratio(ALPHA, INFORMATIVE) == pytest.approx(2.25)


def test_a_video_without_informative_frames_is_left_out_of_the_median():
    m = informative_mass(ALPHA + [np.full(2, 0.5)], INFORMATIVE + [np.zeros(2, bool)])
    assert np.isnan(m["ratio"][3])
    assert median_mass_ratio(ALPHA + [np.full(2, 0.5)], INFORMATIVE + [np.zeros(2, bool)]) == pytest.approx(2.25)
    with pytest.raises(MetricInputError, match="no video has informative frames"):
        median_mass_ratio([np.full(2, 0.5)], [np.zeros(2, bool)])


def test_video_figures_bundle_the_youtube8m_metrics():
    scores = np.array([[0.9, 0.1], [0.2, 0.7], [0.6, 0.5]])
    labels = np.array([[1, 0], [0, 1], [0, 1]])
    f = video_figures(scores, labels, ALPHA, INFORMATIVE)
    assert f["hit_at_1"] == pytest.approx(0.6667, abs=1e-4) and f["median_mass_ratio"] == 2.25
    assert f["mean_mass"] == pytest.approx((0.6 + 1 / 3 + 0.9) / 3, abs=1e-4)


def test_bad_input_is_a_clear_error():
    with pytest.raises(MetricInputError, match="2 attention rows but 1 informative masks"):
        informative_mass(ALPHA[:2], INFORMATIVE[:1])
    with pytest.raises(MetricInputError, match=r"video 0: α has shape \(4,\), its informative mask \(5,\)"):
        informative_mass([ALPHA[0]], [np.zeros(5, bool)])
    with pytest.raises(MetricInputError, match="sum to 1 over the video, sums to 0.5000"):
        informative_mass([np.array([0.25, 0.25])], [np.ones(2, bool)])


def test_top1_failures_by_hand():
    # 3 classes; video 0 right (top class 1 is a label); video 1 wrong, attention on its label frame, label runner-up;
    # video 2 wrong, attention pulled to a clutter frame, label ranked last
    scores = np.array([[0.1, 0.9, 0.2], [0.8, 0.5, 0.1], [0.1, 0.2, 0.9]])
    labels = np.array([[0, 1, 0], [0, 1, 0], [1, 0, 0]])
    f = top1_failures(scores, labels, ALPHA, INFORMATIVE)
    assert f["index"].tolist() == [1, 2] and f["predicted"].tolist() == [0, 2]
    np.testing.assert_allclose(f["mass"], [1 / 3, 0.9])
    assert f["peak_on_label"].tolist() == [True, True]  # video 1: a tie at the first frame, which is informative
    assert f["label_second"].tolist() == [True, False]
    clutter = [ALPHA[0], ALPHA[1], np.array([0.05, 0.2, 0.2, 0.55, 0.0])]
    assert top1_failures(scores, labels, clutter, INFORMATIVE)["peak_on_label"].tolist() == [True, False]
    assert top1_failures(scores[:1], labels[:1], ALPHA[:1], INFORMATIVE[:1])["index"].size == 0
    with pytest.raises(MetricInputError, match="one α row per video"):
        top1_failures(scores, labels, ALPHA[:2], INFORMATIVE[:2])
