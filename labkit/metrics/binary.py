"""Scores of a regression model used as a classifier: threshold → accuracy, ROC AUC, sklearn report.

The seed's rumor study trained AMNet as a regression on 0/1 labels and read the outputs at a
0.5 threshold; accuracy depends on that threshold, ROC AUC does not (it ranks). Both are reported,
with sklearn's per-class precision / recall / F1 as a dict so a sweep can tabulate them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score

from labkit.metrics.memorability import MetricInputError


def binary_metrics(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray,
                   threshold: float = 0.5) -> dict:
    """``{"accuracy", "auc", "threshold", "report", "confusion"}`` for 0/1 labels and real scores.

    A score ≥ ``threshold`` is class 1. ``auc`` is NaN when only one class is present (undefined).
    ``report`` is ``classification_report(..., output_dict=True)`` with classes "0" and "1".
    """
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
    y = y.astype(np.int64)
    pred = (s >= threshold).astype(np.int64)
    auc = float(roc_auc_score(y, s)) if len(np.unique(y)) == 2 else float("nan")
    report = classification_report(y, pred, labels=[0, 1], target_names=["0", "1"], output_dict=True,
                                    zero_division=0)
    return {
        "accuracy": float((pred == y).mean()),
        "auc": auc,
        "threshold": float(threshold),
        "report": report,
        "confusion": confusion_matrix(y, pred, labels=[0, 1]).tolist(),
    }
