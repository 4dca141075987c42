"""labkit.metrics.memorability on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from labkit.metrics.memorability import MetricInputError, distribution_check, spearman


def test_spearman_hand_computed():
    # ranks differ by one swap: d² sum = 2, ρ = 1 − 6·2 / (4·15) = 0.8
    assert spearman([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_spearman_ties_take_average_ranks_like_scipy():
    rng = np.random.default_rng(0)
    p, t = rng.integers(0, 4, 50), rng.normal(size=50)
    assert spearman(p, t) == pytest.approx(spearmanr(p, t).statistic, abs=1e-12)


def test_constant_prediction_has_no_ranking():
    assert math.isnan(spearman([0.5, 0.5, 0.5], [1, 2, 3]))


def test_distribution_check_flags_a_collapsed_predictor():
    t = np.array([0.5, 0.6, 0.7, 0.8, 0.9])
    p = 0.7 + (t - 0.7) * 0.02  # perfect ranking, 2 % of the spread
    d = distribution_check(p, t)
    assert d["spearman"] == pytest.approx(1.0)
    assert d["std_ratio"] == pytest.approx(0.02)
    assert d["collapsed"] is True
    assert d["target_mean"] == pytest.approx(0.7) and d["n"] == 5
    assert distribution_check(t, t)["collapsed"] is False and distribution_check(t, t)["mse"] == 0


@pytest.mark.parametrize(
    ("p", "t", "msg"),
    [([1, 2], [1, 2, 3], "2 values but target has 3"), ([1], [1], "at least 2"), ([1, np.nan], [1, 2], "finite"),
     ([[1, 2]], [[1, 2]], "1-D")],
)
def test_bad_inputs(p, t, msg):
    with pytest.raises(MetricInputError, match=msg):
        spearman(p, t)


def test_spearman_is_invariant_to_monotone_rescaling():
    rng = np.random.default_rng(0)
    t = rng.uniform(0.4, 1.0, 50)
    p = t + rng.normal(0, 0.1, 50)
    assert spearman(0.7 + 0.001 * p, t) == pytest.approx(spearman(np.exp(p), t))


def test_collapse_threshold_and_mean_offset():
    t = np.linspace(0.4, 1.0, 100)
    p = 0.725 + (t - t.mean()) * 0.2  # σ ratio 0.2: collapsed only under a stricter threshold
    assert not distribution_check(p, t)["collapsed"]
    assert distribution_check(p, t, collapse_ratio=0.25)["collapsed"]
    assert distribution_check(p, t)["mean_offset"] == pytest.approx(0.725 - 0.7)
