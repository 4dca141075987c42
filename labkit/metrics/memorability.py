"""Memorability metrics: Spearman's ρ (the field's one number) and a distribution check.

Why the distribution check: a model can rank images well while its scores collapse into a sliver
(MemNet single-crop: σ ≈ 0.0025 against a human σ ≈ 0.15), so ρ alone hides that the outputs are
not memorability *values*. ``distribution_check`` puts both side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from labkit.metrics.errors import MetricInputError


def _pair(pred: Sequence[float] | np.ndarray, target: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if p.ndim != 1 or t.ndim != 1:
        raise MetricInputError(f"pred and target must be 1-D, got shapes {p.shape} and {t.shape}")
    if p.shape != t.shape:
        raise MetricInputError(f"pred has {p.size} values but target has {t.size}")
    if p.size < 2:
        raise MetricInputError(f"need at least 2 items to correlate, got {p.size}")
    if not (np.isfinite(p).all() and np.isfinite(t).all()):
        raise MetricInputError("pred and target must be finite (found NaN or inf)")
    return p, t


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def spearman(pred: Sequence[float] | np.ndarray, target: Sequence[float] | np.ndarray) -> float:
    """Spearman's ρ with ties given their average rank (Pearson correlation of the ranks).

    A constant input has no ranking: the result is NaN (as scipy's), never a made-up 0.
    """
    p, t = _pair(pred, target)
    return _pearson(rankdata(p), rankdata(t))


def distribution_check(
    pred: Sequence[float] | np.ndarray, target: Sequence[float] | np.ndarray, collapse_ratio: float = 0.1
) -> dict:
    """Means, spreads, their ratio and the correlations of ``pred`` against ``target``.

    ``collapsed`` is True when the predictions' σ is under ``collapse_ratio`` (a tenth) of the target's:
    the ranking may survive, the values do not mean memorability.
    """
    p, t = _pair(pred, target)
    ratio = float(p.std() / t.std()) if t.std() > 0 else float("nan")
    return {
        "n": int(p.size),
        "pred_mean": float(p.mean()),
        "pred_std": float(p.std()),
        "target_mean": float(t.mean()),
        "target_std": float(t.std()),
        "std_ratio": ratio,
        "mean_offset": float(p.mean() - t.mean()),
        "spearman": spearman(p, t),
        "pearson": _pearson(p, t),
        "mse": float(((p - t) ** 2).mean()),
        "collapsed": bool(ratio < collapse_ratio),
    }
