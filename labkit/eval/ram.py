"""RAM's held-out protocol (notebook 04): run the model over held-out digits, score its answers and its glimpses.

Why seeded: the random-policy control draws its glimpses even when evaluating, so its figures are only
reproducible from a fixed seed. The glimpse measures themselves are pure functions in :mod:`labkit.metrics.gaze`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from labkit.core.env import seed_everything
from labkit.data.mnist import Split
from labkit.metrics.gaze import (
    border_share,
    distance_by_glimpse,
    gaze_correlation,
    in_box_by_glimpse,
    in_box_share,
)
from labkit.models.ram import RAM


@torch.inference_mode()
def accuracy(model: RAM, images: Tensor, labels: Tensor, samples: int = 1, batch_size: int = 1000) -> float:
    """Share of ``images`` classified right (``samples`` > 1: Monte-Carlo averaged), in batches."""
    dev = next(model.parameters()).device
    right = 0
    for i in range(0, len(images), batch_size):
        pred = model.predict(images[i : i + batch_size].to(dev), samples).argmax(1).cpu()
        right += int((pred == labels[i : i + batch_size]).sum())
    return right / max(len(images), 1)


@torch.inference_mode()
def gaze_report(model: RAM, images: Tensor, boxes: Tensor, batch_size: int = 500) -> dict[str, float | list[float]]:
    """In-box share (over glimpses 2…T, its lowest glimpse index, and per index), border share, gaze–digit correlation
    and per-glimpse distance to the digit of ``model``'s deterministic glimpses on ``images``."""
    model.eval()
    locs = torch.cat([model(images[i : i + batch_size], stochastic=False).locations
                      for i in range(0, len(images), batch_size)])  # (N, T, 2)
    h, w = images.shape[-2:]
    per = in_box_by_glimpse(locs, boxes, h, w)
    return {"in_box_share": round(in_box_share(locs, boxes, h, w), 4), "border_share": round(border_share(locs), 4),
            "gaze_correlation": round(gaze_correlation(locs, boxes, h, w), 4),
            "min_glimpse_in_box": min(per[1:]) if len(per) > 1 else float("nan"),
            "in_box_by_glimpse": per, "distance_by_glimpse": distance_by_glimpse(locs, boxes, h, w)}


def heldout_figures(model: torch.nn.Module, split: Split, *, seed: int = 1234) -> dict[str, float | list[float]]:
    """Accuracy (RAM: and where its glimpses land) on held-out digits: what a checkpoint records and tests recompute.

    Seeded, because the random-policy control draws its glimpses even when evaluating.
    """
    seed_everything(seed)
    x, y = split.tensors()
    figures = {"accuracy": round(accuracy(model, x, y), 4)}
    if isinstance(model, RAM):  # a baseline that sees every pixel has no glimpses to measure
        figures.update(gaze_report(model, x, torch.from_numpy(split.boxes)))
    return figures
