"""Figures for RAM: the retina's boxes on an image, what each scale sees, glimpse paths and their animation.

Boxes are drawn exactly where ``Retina`` cuts them (same truncated centre pixel), so a figure and the
model never disagree about what was seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
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


def draw_glimpse_path(ax: Axes, image, locations, retina: Retina, title: str | None = None) -> Axes:
    """The glimpse sequence l_0 … l_{T-1}: numbered points joined in order, the finest box at each."""
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
        ax.text(x, y, str(t), color="white", fontsize=7, ha="center", va="center",
                bbox=dict(boxstyle="circle,pad=0.1", fc=colour, ec="none", alpha=0.9))
    return _frame(ax, img.shape, title, 8)


def animate_glimpses(images, locations, retina: Retina, titles: Sequence[str] | None = None,
                     size: float = 1.7, dpi: int = 60) -> FuncAnimation:
    """One panel per image; frame t adds glimpse t (all scales' boxes) to the path so far.

    Small by design (few frames, low dpi) so ``anim.to_jshtml()`` stays light inside a notebook.
    """
    images = [_image(im) for im in images]
    locations = torch.as_tensor(locations).reshape(len(images), -1, 2)
    T = locations.shape[1]
    fig, axes = plt.subplots(1, len(images), figsize=(size * len(images), size + 0.3), dpi=dpi, squeeze=False)
    axes = axes[0]

    def frame(t: int):
        for i, ax in enumerate(axes):
            ax.clear()
            draw_glimpse_path(ax, images[i], locations[i, : t + 1], retina,
                              title=(titles[i] if titles else None))
            cx, cy = _centre(locations[i, t], retina, images[i].shape)
            for k, S in enumerate(retina.sizes):
                ax.add_patch(Rectangle((cx - S // 2 - 0.5, cy - S // 2 - 0.5), S, S, fill=False, lw=1.4,
                                       ec=SCALE_COLOURS[k % len(SCALE_COLOURS)]))
        fig.suptitle(f"glimpse {t + 1}/{T}", fontsize=8)
        return list(axes)

    fig.tight_layout()
    anim = FuncAnimation(fig, frame, frames=T, interval=700, blit=False)
    plt.close(fig)
    return anim


def glimpse_step_figure(model, images: torch.Tensor, labels: torch.Tensor, index: int, step: int) -> Figure:
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
                      title=f"{mark} digit {index}: true {true}, said {said}; glimpses 0–{step - 1}")
    draw_glimpse_views(axes[1:], images[index], out.locations[0, step - 1], model.retina)
    fig.suptitle(f"glimpse {step - 1}: what the network received", fontsize=9)
    return fig
