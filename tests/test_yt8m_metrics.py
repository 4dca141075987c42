"""Hit@1, PERR and GAP: hand-computed cases and a straightforward loop transcription of the starter code."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.metrics.yt8m import MetricInputError, gap, hit_at_one, perr

P = np.array([[0.9, 0.8, 0.1, 0.0],
              [0.2, 0.7, 0.6, 0.1],
              [0.3, 0.1, 0.2, 0.4]])
Y = np.array([[0, 1, 0, 0],
              [0, 1, 1, 0],
              [1, 0, 0, 0]])


def _loop_perr(p, y):
    """eval_util.calculate_precision_at_equal_recall_rate, row by row."""
    total = 0.0
    for row in range(len(p)):
        k = int(y[row].sum())
        top = sorted(range(p.shape[1]), key=lambda c: (-p[row, c], c))[:k] if k else list(range(p.shape[1]))
        prec = sum(y[row, c] for c in top if p[row, c] > 0)
        total += prec / len(top)
    return total / len(p)


def _loop_gap(p, y, top_k=20):
    """eval_util.calculate_gap: top-k per video pooled, AveragePrecisionCalculator.ap (n=None)."""
    pairs = []
    for row in range(len(p)):
        top = sorted(range(p.shape[1]), key=lambda c: (-p[row, c], c))[:top_k]
        pairs += [(p[row, c], y[row, c]) for c in top]
    order = sorted(range(len(pairs)), key=lambda i: -pairs[i][0])  # Python's sort is stable
    num_pos, hits, ap = y.sum(), 0, 0.0
    for i, j in enumerate(order):
        if pairs[j][1] > 0:
            hits += 1
            ap += hits / (i + 1) / num_pos
    return ap


def test_hit_at_one_hand_computed():
    # top classes: 0 (wrong), 1 (right), 3 (wrong)
    assert hit_at_one(P, Y) == pytest.approx(1 / 3)


def test_perr_hand_computed():
    # video 0: k=1, top {0} → 0; video 1: k=2, top {1, 2} → 1; video 2: k=1, top {3} → 0
    assert perr(P, Y) == pytest.approx(1 / 3)


def test_perr_ignores_non_positive_scores():
    p = np.array([[0.0, -1.0, 0.5]])
    y = np.array([[1, 1, 0]])
    # k=2, top-2 = {2 (0.5, wrong), 0 (score 0: does not count)} → 0
    assert perr(p, y) == 0.0


def test_gap_hand_computed():
    # top-2 per video pooled: (0.9,0) (0.8,1) (0.7,1) (0.6,1) (0.4,0) (0.3,1); 4 positives in total
    # hits at ranks 2, 3, 4, 6: precisions 1/2, 2/3, 3/4, 4/6 → (0.5 + 0.6667 + 0.75 + 0.6667) / 4
    expected = (1 / 2 + 2 / 3 + 3 / 4 + 4 / 6) / 4
    assert gap(P, Y, top_k=2) == pytest.approx(expected)


def test_gap_counts_positives_outside_the_top_k():
    p = np.array([[0.9, 0.8, 0.1]])
    y = np.array([[1, 0, 1]])  # the second positive is ranked 3rd, outside top_k=1
    assert gap(p, y, top_k=1) == pytest.approx(0.5)


def test_perfect_predictions_score_one():
    y = (np.random.default_rng(0).random((50, 30)) < 0.1).astype(int)
    y[np.arange(50), np.arange(50) % 30] = 1
    p = y + 0.01 * np.random.default_rng(1).random(y.shape)
    assert hit_at_one(p, y) == 1.0 and perr(p, y) == 1.0 and gap(p, y) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_metrics_match_the_loop_reference(seed):
    rng = np.random.default_rng(seed)
    n, c = 40, 25
    y = (rng.random((n, c)) < 0.15).astype(int)
    p = rng.normal(size=(n, c))
    p[:, :3] = np.round(p[:, :3], 1)  # some ties
    assert perr(p, y) == pytest.approx(_loop_perr(p, y), abs=1e-12)
    for k in (1, 5, 20, 100):
        assert gap(p, y, top_k=k) == pytest.approx(_loop_gap(p, y, k), abs=1e-12)
    top = [max(range(c), key=lambda j: (p[i, j], -j)) for i in range(n)]
    assert hit_at_one(p, y) == pytest.approx(np.mean([y[i, top[i]] for i in range(n)]))


def test_bad_inputs_are_clear_errors():
    with pytest.raises(MetricInputError, match=r"must both be \(N, C\)"):
        gap(P, Y[:, :3])
    with pytest.raises(MetricInputError, match="0/1"):
        perr(P, Y * 2)
    with pytest.raises(MetricInputError, match="NaN"):
        hit_at_one(np.full_like(P, np.nan), Y)
    with pytest.raises(MetricInputError, match="top_k"):
        gap(P, Y, top_k=0)
