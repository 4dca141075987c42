"""How well a coarse segmentation sees a scene's known layout: per category, does the share it assigns follow the
true share across scenes? A pure function of arrays (no model runs here)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labkit.metrics.memorability import spearman


def share_agreement(predicted: np.ndarray, true_shares: np.ndarray, names: Sequence[str]) -> dict[str, float]:
    """Spearman ρ, per category, between the share a segmentation gives it ((N, C, h, w) maps, averaged over the
    map) and the share it truly covers ((N, C)); ``nan`` where a category never varies. Why rank correlation: a
    class-activation map's probabilities are not calibrated areas, but a segmentation that sees a category should
    at least give it more where there is more of it."""
    pred = np.asarray(predicted, dtype=np.float64).mean(axis=(2, 3))
    true = np.asarray(true_shares, dtype=np.float64)
    if pred.shape != true.shape or pred.shape[1] != len(names):
        raise ValueError(f"need maps (N, C, h, w) and shares (N, C) with C = {len(names)}, got {predicted.shape} "
                         f"and {true_shares.shape}")
    return {n: (spearman(pred[:, c], true[:, c]) if np.ptp(true[:, c]) > 0 and np.ptp(pred[:, c]) > 0 else float("nan"))
            for c, n in enumerate(names)}
