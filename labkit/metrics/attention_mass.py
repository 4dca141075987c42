"""How much of AMNet's attention falls on the region that decides the answer, with the task's own figures.

Why: an attention map can be drawn to look convincing; the mass on the target's cells against the share of the map
those cells cover (uniform attention scores 1×) is the number that says whether attention found the information.
"""

from __future__ import annotations

import numpy as np
import torch

from labkit.data.pasted_objects import PastedSet, box_cells, mass_in_box
from labkit.metrics.binary import roc_auc
from labkit.metrics.memorability import spearman
from labkit.models.amnet import AMNet


def heldout_figures(model: AMNet, maps: torch.Tensor, data: PastedSet) -> dict[str, float]:
    """ρ, AUC and accuracy (threshold 0.5) of the constructed scores, and the attention mass on the target's box."""
    pred, alpha = model.predict(maps)  # (N,), (N, T, L)
    grid = int(round(alpha.shape[-1] ** 0.5))
    cells = box_cells(data.boxes, grid)
    mass = mass_in_box(alpha, cells)  # (N,)
    share = cells.float().mean(1)  # (N,) what uniform attention would put there
    p = pred.numpy()
    return {"rho": round(spearman(p, data.targets), 4), "auc": round(roc_auc(data.targets, p), 4),
            "accuracy": round(float(np.mean((p > 0.5) == (data.targets > 0.5))), 4),
            "median_mass": round(float(mass.median()), 4), "median_area_share": round(float(share.median()), 4),
            "median_mass_ratio": round(float((mass / share).median()), 4)}
