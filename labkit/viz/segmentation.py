"""Coarse semantic segmentations drawn beside their images: TripleMem's class-activation maps (and, on the constructed
scenes, the true layout), one colour per super-category, each cell as opaque as the segmentation is sure.

Why opacity and not only the winning colour: a class-activation map is a probability per location, and most of it is
spread thin ("other things" wins wherever nothing is recognised). Drawing the winner at its probability shows where
the segmentation is confident and where it is guessing, so a reader does not mistake a faint guess for a finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from labkit.viz.style import COLUMN_WIDTH

#: one colour per TripleMem super-category (people, animals, food, vehicles, buildings, landscape, other things);
#: Okabe–Ito, distinguishable with the common colour-vision deficiencies
COLOURS = ("#D55E00", "#E69F00", "#F0E442", "#0072B2", "#CC79A7", "#009E73", "#999999")


def segmentation_rgba(seg: np.ndarray) -> np.ndarray:
    """(G, h, w) probabilities → (h, w, 4) RGBA: the most likely category's colour, alpha = its probability."""
    from matplotlib.colors import to_rgb

    seg = np.asarray(seg, dtype=np.float64)
    if seg.ndim != 3 or seg.shape[0] > len(COLOURS):
        raise ValueError(f"need (G, h, w) maps with G <= {len(COLOURS)}, got {seg.shape}")
    win = seg.argmax(0)
    rgb = np.array([to_rgb(c) for c in COLOURS])[win]  # (h, w, 3)
    return np.concatenate([rgb, seg.max(0)[..., None]], axis=-1)


def segmentation_figure(images: Sequence[np.ndarray], maps: Mapping[str, np.ndarray], groups: Sequence[str],
                        captions: Sequence[str], title: str = "") -> Figure:
    """One column per image: the image with its caption (e.g. scores) on top, then one row per segmentation in
    ``maps`` ({row title: (N, G, h, w)}), upsampled to the image (nearest, so the cells stay visible) over a grey
    copy of it, and a legend of the categories."""
    n, rows = len(images), 1 + len(maps)
    if any(len(m) != n for m in maps.values()) or len(captions) != n:
        raise ValueError("maps and captions need one entry per image")
    side = COLUMN_WIDTH / max(n, 4)
    fig, axes = plt.subplots(rows, n, figsize=(side * n, side * rows + 0.7), squeeze=False)
    for j, image in enumerate(images):
        image = np.asarray(image)
        axes[0, j].imshow(image)
        axes[0, j].set_title(captions[j], fontsize=8)
        grey = image.mean(-1) if image.ndim == 3 else image
        for i, (name, m) in enumerate(maps.items(), 1):
            ax = axes[i, j]
            ax.imshow(grey, cmap="gray", alpha=0.5)
            ax.imshow(segmentation_rgba(m[j]), extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5),
                      interpolation="nearest")
            if j == 0:
                ax.set_ylabel(name, fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Patch(color=c, label=g) for g, c in zip(groups, COLOURS, strict=False)]
    fig.legend(handles=handles, loc="lower center", ncol=len(groups), fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, 0.0), handlelength=1.0, columnspacing=0.8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def comparison_figure(summary: Mapping[str, Mapping[str, object]], labels: Mapping[str, str], title: str = "") -> Figure:
    """Held-out ρ per variant: one dot per seed, a bar at the mean (``summary`` from
    ``labkit.studies.triplemem.summary``; ``labels``: variant → what the axis says)."""
    names = [v for v in labels if v in summary]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 0.62, 0.5 * len(names) + 1.0))
    for k, v in enumerate(names):
        rhos = np.asarray(summary[v]["test_rho"], dtype=float)
        ax.barh(k, rhos.mean(), color="0.85", height=0.6)
        ax.plot(rhos, np.full(len(rhos), k), "o", color="0.2", ms=4)
        ax.text(1.02, k, f"{rhos.mean():.3f}", va="center", fontsize=8)  # beside the axis, clear of the dots
    ax.set_yticks(range(len(names)), [labels[v] for v in names], fontsize=8)
    ax.set_xlim(0, 1.0)
    ax.text(1.02, -0.9, "mean", fontsize=8, color="0.3")
    ax.set_xlabel("held-out Spearman ρ with the constructed score (dots: seeds)", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    ax.set_ylim(len(names) - 0.5, -1.2)
    fig.tight_layout()
    return fig
