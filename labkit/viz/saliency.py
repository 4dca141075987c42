"""Where a network looks: Grad-CAM maps and their overlays, plus a ranked image gallery.

Grad-CAM (Selvaraju et al., 2017): weight each channel of a convolutional layer's output A by the
spatial mean of ∂score/∂A, sum over channels, keep the positive part. One forward and one backward
per batch, so it is cheap enough for a notebook on CPU (occlusion would need one forward per patch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from PIL import Image
from torch import Tensor, nn


def grad_cam(
    score_fn: Callable[[Tensor], Tensor], x: Tensor, layer: nn.Module | dict[str, nn.Module]
) -> Tensor | dict[str, Tensor]:
    """Grad-CAM maps (B, H, W) in [0, 1], upsampled to ``x``'s size, for the scalar-per-image ``score_fn(x)``.

    ``layer``: a module run inside ``score_fn`` (its output (B, C, h, w) is the map's grid), or a dict
    ``{name: module}`` to get one map per layer from the *same* forward and backward pass.
    Works with frozen weights: the input is made to require grad so the graph exists.
    """
    layers = layer if isinstance(layer, dict) else {"_": layer}
    store: dict[str, Tensor] = {}

    def hook_for(name: str):
        def hook(_m: nn.Module, _i: tuple, out: Tensor) -> None:
            out.retain_grad()
            store[name] = out
        return hook

    handles = [m.register_forward_hook(hook_for(n)) for n, m in layers.items()]
    try:
        with torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)
            score = score_fn(x)  # (B,)
            if score.ndim != 1:
                raise ValueError(f"score_fn must return one score per image (B,), got {tuple(score.shape)}")
            score.sum().backward()
    finally:
        for h in handles:
            h.remove()
    maps = {}
    for name in layers:
        a, g = store[name], store[name].grad  # (B, C, h, w) each
        weights = g.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
        cam = F.relu((weights * a).sum(1, keepdim=True))  # (B, 1, h, w)
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]  # (B, H, W)
        peak = cam.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
        maps[name] = (cam / peak).detach()
    return maps if isinstance(layer, dict) else maps["_"]


def show_maps(images: Tensor, maps: dict[str, Tensor], titles: Sequence[str] = (), cmap: str = "inferno") -> Figure:
    """Rows = images (B, 3, H, W in [0, 1]); columns = the image, then each named map overlaid.

    One colourbar for all overlays: each Grad-CAM map is scaled to its own peak (1), so colours compare *where*
    a map is hot, not how strong one layer's gradient is against another's. ``inferno`` is perceptually
    uniform, unlike jet, whose bright cyan and yellow bands read as edges that are not in the map."""
    n, cols = images.shape[0], 1 + len(maps)
    fig, axes = plt.subplots(n, cols, figsize=(2.4 * cols + 0.6, 2.4 * n), squeeze=False, layout="constrained")
    shown = None
    for i in range(n):
        img = images[i].permute(1, 2, 0).numpy()
        axes[i, 0].imshow(img)
        axes[i, 0].set_title(titles[i] if i < len(titles) else "", fontsize=8)
        for j, (name, m) in enumerate(maps.items(), start=1):
            axes[i, j].imshow(img)
            shown = axes[i, j].imshow(m[i].numpy(), cmap=cmap, alpha=0.55, vmin=0, vmax=1)
            if i == 0:
                axes[i, j].set_title(name, fontsize=8)
    for ax in axes.flat:
        ax.set_axis_off()
    if shown is not None:
        bar = fig.colorbar(shown, ax=axes[:, 1:], shrink=0.6, aspect=30)
        bar.set_label("Grad-CAM (each map ÷ its peak)", fontsize=8)
        bar.solids.set_alpha(1)
    return fig


def ranked_gallery(images: Sequence[Image.Image], scores: np.ndarray, label: str, cols: int = 6) -> Figure:
    """Images sorted by ``scores`` (highest first), each titled with its rank and score."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    rows = int(np.ceil(len(order) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 2.0 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for k, i in enumerate(order):
        ax = axes.flat[k]
        ax.imshow(images[i])
        ax.set_title(f"#{k + 1}  {scores[i]:.3f}", fontsize=8)
    fig.suptitle(label, fontsize=10)
    fig.tight_layout()
    return fig


def edit_figure(original: Image.Image, edited: Image.Image, scores: tuple[float, float], label: str) -> Figure:
    """Notebook 02's explorer: the photo and its edit side by side, each with its predicted score."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
    for ax, im, title, s in zip(axes, (original, edited), ("original", "edited"), scores, strict=True):
        ax.imshow(im)
        ax.set_title(f"{title}: {label} {s:.3f}", fontsize=9)
        ax.set_axis_off()
    change = scores[1] - scores[0]
    fig.suptitle(f"change {change:+.3f} ({label}, a model prediction, not a human score)", fontsize=9)
    return fig
