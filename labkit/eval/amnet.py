"""AMNet's held-out protocol on the constructed pasted-object task (notebook 03): run the model on the held-out
images' feature maps, score its predictions and where its attention fell.

Why the feature maps are passed in: they come from the frozen ResNet-152 (``amnet_pretrained.features``), a pass
that costs far more than AMNet itself, so a caller computes them once and scores several models on them.
"""

from __future__ import annotations

import numpy as np
import torch

from labkit.data.pasted_objects import PastedSet, box_cells, mass_in_box
from labkit.metrics.binary import roc_auc
from labkit.metrics.memorability import spearman
from labkit.models.amnet import AMNet


def heldout_figures(model: AMNet, split: PastedSet, *, maps: torch.Tensor) -> dict[str, float]:
    """ρ, AUC and accuracy (threshold 0.5) of the constructed scores, and the attention mass on the target's box;
    ``maps`` are ``split``'s images through the frozen backbone, in the same order."""
    pred, alpha = model.predict(maps)  # (N,), (N, T, L)
    grid = int(round(alpha.shape[-1] ** 0.5))
    cells = box_cells(split.boxes, grid)
    mass = mass_in_box(alpha, cells)  # (N,)
    share = cells.float().mean(1)  # (N,) what uniform attention would put there
    p = pred.numpy()
    return {"rho": round(spearman(p, split.targets), 4), "auc": round(roc_auc(split.targets, p), 4),
            "accuracy": round(float(np.mean((p > 0.5) == (split.targets > 0.5))), 4),
            "median_mass": round(float(mass.median()), 4), "median_area_share": round(float(share.median()), 4),
            "median_mass_ratio": round(float((mass / share).median()), 4)}
