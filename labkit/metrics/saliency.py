"""How concentrated a saliency map is: a number beside the picture, so a figure's reading can be checked."""

from __future__ import annotations

import torch
from torch import Tensor


def peak_share(maps: Tensor, top: float = 0.1) -> Tensor:
    """(B, H, W) maps → (B,): the share of each map's mass in its hottest ``top`` fraction of pixels.

    0.1 for a map spread evenly, near 1 for a single spot: a number for 'the map covers the object' versus
    'the map is one small hotspot', which is how the two branches' maps differ in notebook 02. NaN for an
    all-zero map (no location raises the score), which has no hottest pixels to speak of."""
    flat = maps.flatten(1)
    k = max(1, int(round(top * flat.shape[1])))
    mass = flat.sum(1)
    return torch.where(mass > 0, flat.topk(k, dim=1).values.sum(1) / mass.clamp_min(1e-12), torch.nan)
