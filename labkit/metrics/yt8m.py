"""YouTube-8M metrics: Hit@1, PERR and GAP, as the starter code (``eval_util.py``) defines them, vectorised.

All three take ``predictions`` (N, C) scores and ``labels`` (N, C) 0/1. Ties are broken deterministically
(the lower class index, then the earlier video, ranks first); the starter code breaks them by
``argpartition`` order and, for GAP, a random shuffle, so on exact ties it can differ in the last digits.
"""

from __future__ import annotations

import numpy as np

from labkit.metrics.errors import MetricInputError


def _check(predictions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or p.shape != y.shape:
        raise MetricInputError(f"predictions and labels must both be (N, C); got {p.shape} and {y.shape}")
    if p.shape[0] == 0:
        raise MetricInputError("no videos: predictions has 0 rows")
    if not np.isfinite(p).all():
        raise MetricInputError("predictions contain NaN or inf")
    if not np.isin(y, (0, 1)).all():
        raise MetricInputError("labels must be 0/1 (multi-hot), found other values")
    return p, y.astype(np.float64)


def _ranked(p: np.ndarray) -> np.ndarray:
    """Per-row class indices by descending score, ties to the lower index. (N, C)"""
    return np.argsort(-p, axis=1, kind="stable")


def hit_at_one(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of videos whose top-scoring class is one of its labels."""
    p, y = _check(predictions, labels)
    top = _ranked(p)[:, 0]  # (N,)
    return float(y[np.arange(len(y)), top].mean())


def perr(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Precision at equal recall rate: per video, precision of its top-k classes with k = its number of
    labels (a prediction counts only if its score is > 0, as in the starter code), averaged over videos.
    A video without labels scores 0, as it does in the starter code."""
    p, y = _check(predictions, labels)
    order = _ranked(p)  # (N, C)
    k = y.sum(axis=1)  # (N,)
    ranks = np.arange(p.shape[1])[None, :]  # (1, C)
    in_top = ranks < k[:, None]  # (N, C) in sorted order
    hit = np.take_along_axis(y, order, 1) * (np.take_along_axis(p, order, 1) > 0)  # (N, C)
    per_video = np.where(k > 0, (hit * in_top).sum(1) / np.maximum(k, 1), 0.0)
    return float(per_video.mean())


def gap(predictions: np.ndarray, labels: np.ndarray, top_k: int = 20) -> float:
    """Global average precision: every video's ``top_k`` predictions pooled, sorted by score, and
    AP = Σ_hits precision@i / (total number of positive labels, all of them, not only those in the top k)."""
    p, y = _check(predictions, labels)
    if top_k < 1:
        raise MetricInputError(f"top_k must be >= 1, got {top_k}")
    k = min(top_k, p.shape[1])
    order = _ranked(p)[:, :k]  # (N, k)
    scores = np.take_along_axis(p, order, 1).ravel()  # (N·k,) video-major, so ties keep video order
    hits = np.take_along_axis(y, order, 1).ravel()
    num_pos = y.sum()
    if num_pos == 0:
        return 0.0
    hits = hits[np.argsort(-scores, kind="stable")]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / num_pos)
