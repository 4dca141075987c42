"""Where RAM's glimpses landed: on the digit, at the border, following the digit — the numbers behind its figure.

Why these and not accuracy alone: with a wide enough first glimpse RAM can classify without ever moving, so a
high accuracy does not show that the policy *looks*. These measure the looking itself, against each digit's own
ink box from ``labkit.data.mnist.make_variant(..., return_boxes=True)``. Running RAM to get its glimpses is
:mod:`labkit.eval.ram`'s job; these take the glimpse locations as a tensor.
"""

from __future__ import annotations

import torch
from torch import Tensor


def pixel_positions(locations: Tensor, height: int, width: int) -> Tensor:
    """Continuous pixel position (row, col) of each location l = (x, y) ∈ [-1, 1]²: (..., 2) → (..., 2)."""
    x, y = locations[..., 0], locations[..., 1]
    return torch.stack([0.5 * (y + 1) * height, 0.5 * (x + 1) * width], dim=-1)


def in_box_share(locations: Tensor, boxes: Tensor, height: int, width: int) -> float:
    """Share of glimpses 2…T whose centre falls inside the image's own digit box (top, left, bottom, right).

    The first glimpse is not the policy's choice (l_0 is fixed or random), so it is left out. Why this number:
    accuracy alone cannot tell a policy that *finds* the digit from one that reads it from a wide first glimpse.
    """
    rc = pixel_positions(locations[:, 1:], height, width)  # (B, T-1, 2)
    top, left, bottom, right = (boxes[:, None, i].to(rc.dtype) for i in range(4))
    inside = (rc[..., 0] >= top) & (rc[..., 0] < bottom) & (rc[..., 1] >= left) & (rc[..., 1] < right)
    return float(inside.float().mean()) if inside.numel() else float("nan")


def in_box_by_glimpse(locations: Tensor, boxes: Tensor, height: int, width: int) -> list[float]:
    """In-box share of each glimpse index 1…T (glimpse 1 included): where a policy drifts, the mean hides it.

    Why per index: a policy whose first move lands on the digit and whose later glimpses wander off averages out
    to "sometimes on the digit"; this list shows the good move and the drift apart.
    """
    rc = pixel_positions(locations, height, width)  # (B, T, 2)
    top, left, bottom, right = (boxes[:, None, i].to(rc.dtype) for i in range(4))
    inside = (rc[..., 0] >= top) & (rc[..., 0] < bottom) & (rc[..., 1] >= left) & (rc[..., 1] < right)
    return [round(float(v), 4) for v in inside.float().mean(0)]


def distance_by_glimpse(locations: Tensor, boxes: Tensor, height: int, width: int) -> list[float]:
    """Mean distance in pixels from each glimpse index's centre to the centre of the digit's ink box: (T,)."""
    rc = pixel_positions(locations, height, width).double()  # (B, T, 2)
    centre = torch.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1).double()  # (B, 2)
    return [round(float(v), 2) for v in (rc - centre[:, None]).norm(dim=-1).mean(0)]


def border_share(locations: Tensor, margin: float = 0.95) -> float:
    """Share of glimpses 2…T within 5% of the image border (``abs(l) > 0.95`` on either axis): a saturated policy."""
    later = locations[:, 1:]
    return float((later.abs() > margin).any(-1).float().mean()) if later.numel() else float("nan")


def gaze_correlation(locations: Tensor, boxes: Tensor, height: int, width: int) -> float:
    """Pearson correlation between the last glimpse's position and the digit box's centre, rows and columns pooled."""
    rc = pixel_positions(locations[:, -1], height, width).double()  # (B, 2)
    centre = torch.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1).double()  # (B, 2)
    a, b = (rc - rc.mean(0)).flatten(), (centre - centre.mean(0)).flatten()
    denom = float(a.norm() * b.norm())
    return float(a @ b) / denom if denom > 0 else 0.0
