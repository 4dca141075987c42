"""AMNet-style attention figures: one image, then its attention map at every LSTM step, overlaid.

By default all maps of a figure share one colour scale, from 0 to the largest α shown, with a colourbar that marks
the uniform weight 1/L. Why not normalise each map on its own, as the original ``--att-maps-out`` did: a nearly
flat map (max α 0.03 against a uniform 0.02) then looks as dramatic as a sharp one, and the figure would
contradict the numbers beside it. The shared scale has its own cost: one sharp row leaves the others nearly dark,
their shapes unreadable. ``scale="row"`` gives every row (image) its own scale and colourbar — steps of one image
stay comparable, rows do not — so a notebook can show both. ``upsample_map(..., vmax=None)`` gives the per-map view.

The colormap is perceptually uniform (``viridis``): equal steps in α look like equal steps in colour. ``jet``,
the original's, has bright bands (cyan, yellow) that draw edges where α changes smoothly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image

CMAP = "viridis"  # perceptually uniform; see the module docstring for why not jet
SCALES = ("shared", "row")


def upsample_map(alpha: np.ndarray, grid: tuple[int, int], size: tuple[int, int],
                 vmax: float | None = None) -> np.ndarray:
    """One step's α (L,) → (H, W) in [0, 1] at image size ``size`` = (W, H).

    ``vmax``: the α that maps to 1 (shared by every map of a figure); None normalises this map on its own.
    """
    a = np.asarray(alpha, dtype=np.float64).reshape(grid)
    if vmax is None:
        a = a - a.min()
        a = a / a.max() if a.max() > 0 else a
    else:
        a = np.clip(a / vmax, 0.0, 1.0) if vmax > 0 else np.zeros_like(a)
    img = Image.fromarray((a * 255).astype(np.uint8)).resize(size, Image.BICUBIC)
    return np.asarray(img, dtype=np.float64) / 255.0


def overlay(image: Image.Image, alpha: np.ndarray, grid: tuple[int, int], cmap: str = CMAP,
            vmax: float | None = None) -> np.ndarray:
    """The image blended 50/50 with the coloured map: (H, W, 3) floats in [0, 1]."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    heat = plt.get_cmap(cmap)(upsample_map(alpha, grid, image.size, vmax))[..., :3]
    return 0.5 * rgb + 0.5 * heat


def attention_steps(images: Sequence[Image.Image], alphas: np.ndarray, grid: tuple[int, int],
                    titles: Sequence[str] = (), size: int = 224, scale: str = "shared", cmap: str = CMAP) -> Figure:
    """Rows = images, columns = the image then its T per-step overlays. alphas: (N, T, L).

    ``scale="shared"``: one colour scale and colourbar for every map (rows compare); ``"row"``: each row from 0 to
    its own largest α, with its own colourbar (a dim row's shape shows; compare rows by their bars' numbers)."""
    alphas = np.asarray(alphas)
    if alphas.ndim != 3 or alphas.shape[0] != len(images) or alphas.shape[2] != grid[0] * grid[1]:
        raise ValueError(f"alphas must be (N={len(images)}, T, L={grid[0] * grid[1]}), got {alphas.shape}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    n, t, L = alphas.shape
    vmaxes = alphas.max(axis=(1, 2)) if scale == "row" else np.full(n, alphas.max())
    fig, axes = plt.subplots(n, t + 1, figsize=(1.9 * (t + 1) + 0.6 + 0.4 * (scale == "row"), 1.9 * n), squeeze=False)
    for r, im in enumerate(images):
        im = im.convert("RGB").resize((size, size))
        axes[r, 0].imshow(im)
        axes[r, 0].set_title(titles[r] if r < len(titles) else "image", fontsize=8)
        for s in range(t):
            axes[r, s + 1].imshow(overlay(im, alphas[r, s], grid, cmap=cmap, vmax=float(vmaxes[r])))
            axes[r, s + 1].set_title(f"step {s + 1}  max α {alphas[r, s].max():.3f}", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    if scale == "shared":
        _uniform_bar(fig, float(vmaxes[0]), L, cmap, axes, f"α (all maps; white line: uniform 1/L = {1 / L:.3f})")
    else:
        for r in range(n):
            _uniform_bar(fig, float(vmaxes[r]), L, cmap, axes[r, 1:], "α (this row)" if r == 0 else None)
    return fig


def _uniform_bar(fig: Figure, vmax: float, L: int, cmap: str, axes, label: str | None) -> None:
    """A colourbar from 0 to ``vmax`` beside ``axes`` with a white line at the uniform weight 1/L (when in range)."""
    bar = fig.colorbar(ScalarMappable(Normalize(0, vmax), cmap), ax=axes, shrink=0.8, pad=0.02)
    bar.ax.axhline(1 / L, color="white", lw=2)
    bar.ax.tick_params(labelsize=7)
    if label:
        bar.set_label(label, fontsize=8)


def save_attention_maps(out_dir: str | Path, names: Sequence[str], images: Sequence[Image.Image],
                        alphas: np.ndarray, grid: tuple[int, int]) -> list[Path]:
    """One PNG per image (``<name>_att.png``: the image and its per-step maps), like ``--att-maps-out``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, im, al in zip(names, images, np.asarray(alphas), strict=True):
        fig = attention_steps([im], al[None], grid, titles=[name])
        p = out / f"{Path(name).stem}_att.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    return paths


def attention_step_figure(image: Image.Image, alpha: np.ndarray, grid: tuple[int, int], step: int,
                          box: Sequence[float] | None = None, title: str = "", size: int = 224,
                          cmap: str = CMAP) -> Figure:
    """Notebook 03's explorer: one image and the map of one LSTM ``step`` (1-based) of its α (T, L), on the scale
    of *all* its steps (so moving the step slider never rescales the colours), with the target's ``box``
    (top, left, bottom, right in ``size`` pixels) dashed when there is one."""
    from matplotlib.patches import Rectangle

    alpha = np.asarray(alpha)
    if alpha.ndim != 2 or alpha.shape[1] != grid[0] * grid[1]:
        raise ValueError(f"alpha must be (T, L={grid[0] * grid[1]}), got {alpha.shape}")
    t = alpha.shape[0]
    if not 1 <= step <= t:
        raise ValueError(f"step must be in 1..{t}, got {step}")
    vmax = float(alpha.max())
    im = image.convert("RGB").resize((size, size))
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.6), layout="constrained")
    axes[0].imshow(im)
    axes[0].set_title("image", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=9)
    axes[1].imshow(overlay(im, alpha[step - 1], grid, cmap=cmap, vmax=vmax))
    L = grid[0] * grid[1]
    axes[1].set_title(f"step {step} of {t}: max α {alpha[step - 1].max():.3f} (uniform {1 / L:.3f})", fontsize=9)
    if box is not None:
        top, left, bottom, right = box
        for ax in axes:
            ax.add_patch(Rectangle((left, top), right - left, bottom - top, fill=False, ec="white", ls="--", lw=1.5))
    for ax in axes:
        ax.axis("off")
    _uniform_bar(fig, vmax, L, cmap, axes[1], None)
    return fig
