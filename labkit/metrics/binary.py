"""Scores of a regression model used as a classifier: threshold → accuracy, ROC AUC, sklearn report.

AMNet-Rumor's rumor study (RMSnow/AMNet-Rumor) trained AMNet as a regression on 0/1 labels and read the outputs at a
0.5 threshold; accuracy depends on that threshold, ROC AUC does not (it ranks). Both are reported,
with sklearn's per-class precision / recall / F1 as a dict so a sweep can tabulate them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import classification_report, confusion_matrix

from labkit.metrics.errors import MetricInputError


def _labels_scores(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels as int64 and finite scores as float64, 1-D and of one length, or a ``MetricInputError``."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1 or y.shape != s.shape:
        raise MetricInputError(f"labels and scores must be 1-D of equal length, got {y.shape} and {s.shape}")
    if y.size == 0:
        raise MetricInputError("no labels given")
    if not np.isin(y, (0, 1)).all():
        raise MetricInputError(f"labels must be 0 or 1, got values {sorted(set(np.unique(y).tolist()))[:5]}")
    if not np.isfinite(s).all():
        raise MetricInputError("scores must be finite (found NaN or inf)")
    return y.astype(np.int64), s


def roc_auc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve: P(a random positive scores above a random negative), a tie counting ½.

    Why this form (Mann–Whitney): it needs no threshold and says what AUC means; computed from the
    tie-averaged ranks in O(n log n) rather than over all n_pos·n_neg pairs, and equal to sklearn's
    ``roc_auc_score``. Both classes must be present (with one, AUC is undefined).
    """
    y, s = _labels_scores(labels, scores)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if not n_pos or not n_neg:
        raise MetricInputError(f"ROC AUC needs both classes, got {n_pos} positive and {n_neg} negative labels")
    ranks = rankdata(s)  # ties get their average rank: each positive–negative tie counts ½
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_metrics(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray,
                   threshold: float = 0.5) -> dict:
    """``{"accuracy", "auc", "threshold", "report", "confusion"}`` for 0/1 labels and real scores.

    A score ≥ ``threshold`` is class 1. ``auc`` (:func:`roc_auc`) is NaN when only one class is present
    (undefined). ``report`` is ``classification_report(..., output_dict=True)`` with classes "0" and "1".
    """
    y, s = _labels_scores(labels, scores)
    pred = (s >= threshold).astype(np.int64)
    auc = roc_auc(y, s) if 0 < y.sum() < y.size else float("nan")
    report = classification_report(y, pred, labels=[0, 1], target_names=["0", "1"], output_dict=True,
                                    zero_division=0)
    return {
        "accuracy": float((pred == y).mean()),
        "auc": auc,
        "threshold": float(threshold),
        "report": report,
        "confusion": confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    }
