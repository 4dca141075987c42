"""Figures for RAM: the retina's boxes on an image, what each scale sees, glimpse paths, and where each glimpse index lands per policy.

Boxes are drawn exactly where ``Retina`` cuts them (same truncated centre pixel), so a figure and the
model never disagree about what was seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from labkit.models.ram import Retina

SCALE_COLOURS = ("#e6194b", "#f58231", "#ffe119", "#3cb44b", "#4363d8")


def _image(image: np.ndarray | torch.Tensor) -> np.ndarray:
    img = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    return img.reshape(img.shape[-2:]) if img.ndim == 3 else img  # (H, W)


def _centre(location: Sequence[float] | torch.Tensor, retina: Retina, shape: tuple[int, int]) -> tuple[int, int]:
    loc = torch.as_tensor(location, dtype=torch.float32).reshape(1, 2)
    cx, cy = retina.centres(loc, *shape)[0].tolist()
    return cx, cy


def draw_retina(ax: Axes, image, location, retina: Retina, title: str | None = None) -> Axes:
    """The image with one box per scale: patch i of side g·sⁱ around the (truncated) centre pixel."""
    img = _image(image)
    ax.imshow(img, cmap="gray", vmin=0, vmax=max(1.0, float(img.max())))
    cx, cy = _centre(location, retina, img.shape)
    for i, S in enumerate(retina.sizes):
        ax.add_patch(Rectangle((cx - S // 2 - 0.5, cy - S // 2 - 0.5), S, S, fill=False, lw=1.6,
                               ec=SCALE_COLOURS[i % len(SCALE_COLOURS)], label=f"scale {i}: {S}×{S} → {retina.g}×{retina.g}"))
    ax.plot(cx - 0.5, cy - 0.5, "+", color="cyan", ms=8)
    return _frame(ax, img.shape, title, 9)


def _frame(ax: Axes, shape: tuple[int, ...], title: str | None, fontsize: int) -> Axes:
    """Clip to the image (boxes may overhang it: that part is zero padding) and drop the ticks."""
    ax.set_xlim(-0.5, shape[1] - 0.5)
    ax.set_ylim(shape[0] - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)
    return ax


def draw_glimpse_views(axes: Sequence[Axes], image, location, retina: Retina) -> None:
    """What the network receives: the k patches, each averaged down to g×g (coarser for larger scales)."""
    img = torch.as_tensor(_image(image), dtype=torch.float32)[None, None]
    loc = torch.as_tensor(location, dtype=torch.float32).reshape(1, 2)
    phi = retina.foveate(img, loc).view(retina.k, retina.g, retina.g)
    for i, ax in enumerate(axes):
        ax.imshow(phi[i].numpy(), cmap="gray", vmin=0, vmax=max(1.0, float(img.max())))
        ax.set_title(f"scale {i} ({retina.sizes[i]}px)", fontsize=8, color=SCALE_COLOURS[i % len(SCALE_COLOURS)])
        ax.set_xticks([])
        ax.set_yticks([])


def retina_figure(image, location, retina: Retina, title: str = "") -> Figure:
    """Boxes on the image (left) and the k g×g views the glimpse network gets (right)."""
    fig, axes = plt.subplots(1, retina.k + 1, figsize=(2.6 + 1.5 * retina.k, 2.8),
                             gridspec_kw={"width_ratios": [2.2] + [1] * retina.k})
    draw_retina(axes[0], image, location, retina, title)
    draw_glimpse_views(axes[1:], image, location, retina)
    fig.tight_layout()
    return fig


def draw_glimpse_path(ax: Axes, image, locations, retina: Retina, title: str | None = None,
                      box: Sequence[int] | None = None) -> Axes:
    """The glimpse sequence, numbered 1…T in order and joined, the finest box at each; ``box`` (top, left, bottom,
    right) draws the digit's own ink box dashed, so "did it land on the digit" can be read off the figure."""
    img = _image(image)
    ax.imshow(img, cmap="gray", vmin=0, vmax=max(1.0, float(img.max())))
    pts = [_centre(loc, retina, img.shape) for loc in torch.as_tensor(locations).reshape(-1, 2)]
    xs = np.array([p[0] for p in pts]) - 0.5
    ys = np.array([p[1] for p in pts]) - 0.5
    ax.plot(xs, ys, "-", color="cyan", lw=1.2, alpha=0.8)
    S = retina.sizes[0]
    for t, (x, y) in enumerate(zip(xs, ys, strict=True)):
        colour = plt.cm.autumn(t / max(len(xs) - 1, 1))
        ax.add_patch(Rectangle((x - S / 2, y - S / 2), S, S, fill=False, ec=colour, lw=1.0))
        ax.text(x, y, str(t + 1), color="white", fontsize=7, ha="center", va="center",
                bbox=dict(boxstyle="circle,pad=0.1", fc=colour, ec="none", alpha=0.9))
    if box is not None:
        top, left, bottom, right = (float(v) for v in box)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top, fill=False, ec="lime", lw=1.0,
                               ls="--"))
    return _frame(ax, img.shape, title, 8)


def glimpse_step_figure(model, images: torch.Tensor, labels: torch.Tensor, index: int, step: int,
                        boxes: np.ndarray | None = None) -> Figure:
    """Notebook 04's explorer: a trained RAM's (deterministic) path on image ``index`` up to glimpse ``step``
    (1-based), and the k views that glimpse handed to the network. The whole path is computed once, in eval mode,
    so the figure shows exactly the glimpses the model's prediction came from."""
    T = model.cfg.glimpses
    if not 0 <= index < len(images) or not 1 <= step <= T:
        raise ValueError(f"index must be in 0..{len(images) - 1} and step in 1..{T}, got {index}, {step}")
    with torch.inference_mode():
        out = model(images[index:index + 1], stochastic=False)
    said, true = int(out.log_probs.argmax()), int(labels[index])
    k = model.retina.k
    fig, axes = plt.subplots(1, k + 1, figsize=(3.0 + 1.4 * k, 3.0), layout="constrained",
                             gridspec_kw={"width_ratios": [2.2] + [1] * k})
    mark = "✓" if said == true else "✗"
    draw_glimpse_path(axes[0], images[index], out.locations[0, :step], model.retina,
                      title=f"{mark} digit {index}: true {true}, said {said}; glimpses 1–{step}",
                      box=None if boxes is None else boxes[index])
    draw_glimpse_views(axes[1:], images[index], out.locations[0, step - 1], model.retina)
    fig.suptitle(f"glimpse {step} of {T}: what the network received", fontsize=9)
    return fig


POLICY_COLOURS = {"learned": "C0", "centre": "C7", "random": "C1"}


def gaze_by_glimpse_figure(figures: dict[str, list[dict]], title: str = "") -> Figure:
    """Where each glimpse index lands, per policy: in-box share and distance to the digit's centre, glimpse 1…T.

    ``figures``: policy → one held-out record per seed (each with ``in_box_by_glimpse`` and ``distance_by_glimpse``).
    Lines are the seed means, dots the seeds. Why per index: a good first move followed by drift averages out to a
    policy that "sometimes" looks; here the drift is a falling line.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    for policy, records in figures.items():
        for ax, key in zip(axes, ("in_box_by_glimpse", "distance_by_glimpse"), strict=True):
            values = np.array([r[key] for r in records], dtype=float)  # (seeds, T)
            t = np.arange(1, values.shape[1] + 1)
            colour = POLICY_COLOURS.get(policy)
            ax.plot(t, values.mean(0), "-o", color=colour, label=f"{policy} ({len(records)} seed{'s' * (len(records) > 1)})")
            for row in values:
                ax.scatter(t, row, color=colour, s=8, alpha=0.5)
            ax.set_xticks(t)
    axes[0].set(xlabel="glimpse", ylabel="share inside the digit's ink box", ylim=(0, 1),
                title="on the digit, per glimpse")
    axes[1].set(xlabel="glimpse", ylabel="pixels to the digit's centre", ylim=(0, None),
                title="distance to the digit, per glimpse")
    axes[0].legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def policy_learning_figure(curves: dict[str, dict[str, Sequence[float]]], title: str = "",
                           centre_in_box: float | None = None) -> Figure:
    """Validation accuracy and validation in-box share per epoch, one line per run: the policy learning to look.

    ``curves``: label → {"epoch": [...], "val_acc": [...], "val_in_box": [...]} (a shipped checkpoint's curve CSV);
    ``centre_in_box`` draws what a gaze fixed at the centre scores, the line a policy that looks must cross.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.0), layout="constrained", sharex=True)
    for label, c in curves.items():
        for ax, key in zip(axes, ("val_acc", "val_in_box"), strict=True):
            if key in c:
                ax.plot(c["epoch"], c[key], lw=1, label=label)
    if centre_in_box is not None:
        axes[1].axhline(centre_in_box, color="0.4", ls="--", lw=1, label="gaze fixed at the centre")
        axes[1].legend(fontsize=7, loc="lower right")
    axes[0].set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1))
    axes[1].set(xlabel="epoch", ylabel="in-box share, glimpses 2…T", ylim=(0, 1))
    axes[0].legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
