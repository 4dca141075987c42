"""Figures for video models: attention weights over time drawn exactly under the frames they weight.

Why rows: a 40–80 frame video in one row at notebook width leaves each thumbnail a few pixels wide; wrapped into
rows of about 30 frames, every thumbnail is about a third of an inch, a digit is readable, and each bar still sits
under its own frame (the thumbnails are drawn in the bars' x coordinates, frame t spanning [t − ½, t + ½]).
Fonts are ≥ 8 pt at the figure's own width, which is the notebook's (10 in).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from labkit.viz.style import FULL_WIDTH, RIGHT, WRONG

FONT = 9
ORANGE = "tab:orange"


def prediction_title(video_id: str, labels: Sequence[int], ranked: Sequence[int]) -> tuple[str, bool]:
    """``"id · labels [3, 7] · top-2 predicted 3 ✓, 1 ✗"`` and whether the top-1 prediction is a label (Hit@1)."""
    marks = ", ".join(f"{c} {'✓' if c in labels else '✗'}" for c in ranked)
    right = bool(ranked) and ranked[0] in labels
    return f"{video_id} · labels {list(labels)} · top-{len(ranked)} predicted {marks}", right


def attention_strip(frames: np.ndarray, alpha: np.ndarray, title: str = "", highlight: np.ndarray | None = None, *,
                    right: bool | None = None, per_row: int = 32, width: float = FULL_WIDTH, alpha_max: float | None = None):
    """Frames (T, H, W[, 3]) as thumbnails with α (T,) as bars right under them, wrapped into rows of at most
    ``per_row`` frames. ``highlight`` (T,) bool marks frames (e.g. where a label digit is visible): an orange box
    around the thumbnail and an orange bar. ``right`` colours the title green (prediction right) or red (wrong).
    Returns the figure; ``fig.row_axes`` lists (thumbnail axes, bar axes) per row, which share their x range."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    t = len(alpha)
    frames = np.asarray(frames)[:t]
    if len(frames) != t:
        raise ValueError(f"{len(frames)} frames for {t} attention weights: they must be one per frame")
    rows = math.ceil(t / per_row)
    n = math.ceil(t / rows)  # frames per row, balanced so every row has the same scale
    left, right_edge = 0.07, 0.99
    thumb_h = width * (right_edge - left) / n * frames.shape[1] / frames.shape[2]  # square thumbnails (inches)
    bar_h, title_h, gap_h, legend_h = 0.85, 0.35, 0.3, 0.2
    height = title_h + rows * (thumb_h + bar_h + gap_h) + legend_h
    fig = plt.figure(figsize=(width, height))
    top = 1 - title_h / height
    ymax = alpha_max or float(alpha.max()) * 1.12
    fig.row_axes = []
    for r in range(rows):
        y1 = top - r * (thumb_h + bar_h + gap_h) / height
        ax_f = fig.add_axes((left, y1 - thumb_h / height, right_edge - left, thumb_h / height))
        ax_a = fig.add_axes((left, y1 - (thumb_h + bar_h) / height, right_edge - left, bar_h / height), sharex=ax_f)
        a, b = r * n, min(t, (r + 1) * n)
        ax_f.imshow(np.concatenate(list(frames[a:b]), axis=1), cmap="gray", vmin=0, vmax=255, aspect="auto",
                    extent=(a - 0.5, b - 0.5, 0, 1), interpolation="nearest")
        ax_f.vlines(np.arange(a + 0.5, b - 0.5), 0, 1, color="0.35", lw=0.6)  # frame borders
        ax_f.set_ylim(0, 1)
        ax_f.set_yticks([])
        ax_f.tick_params(labelbottom=False, bottom=False)
        x = np.arange(a, b)
        hl = np.zeros(t, bool) if highlight is None else np.asarray(highlight, bool)[:t]
        for i in x[hl[a:b]]:
            ax_f.add_patch(Rectangle((i - 0.5, 0.0), 1.0, 1.0, fill=False, ec=ORANGE, lw=2.2, clip_on=False))
        ax_a.bar(x, alpha[a:b], width=0.85, color=np.where(hl[a:b], ORANGE, "tab:blue"))
        ax_a.axhline(1 / t, color="k", lw=0.9, ls="--")
        ax_a.set_xlim(a - 0.5, a + n - 0.5)
        ax_a.set_ylim(0, ymax)
        ax_a.set_ylabel("α_t", fontsize=FONT)
        ax_a.set_xticks(x[x % 5 == 0])
        ax_a.tick_params(labelsize=8)
        fig.row_axes.append((ax_f, ax_a))
    fig.text(left, 0.06 / height, "frame t (YouTube-8M: one per second)", fontsize=FONT, va="bottom")
    handles = [Rectangle((0, 0), 1, 1, color=ORANGE), Rectangle((0, 0), 1, 1, color="tab:blue"),
               plt.Line2D([], [], color="k", ls="--", lw=0.9)]
    fig.legend(handles, ["α_t on a frame that shows a label digit", "α_t elsewhere", "uniform 1/T"], fontsize=8,
               loc="lower right", bbox_to_anchor=(right_edge, 0.0), ncols=3, frameon=False)
    fig.suptitle(title, fontsize=10, x=left, ha="left", y=1 - 0.08 / height, va="top",
                 color="k" if right is None else (RIGHT if right else WRONG))
    return fig


def metric_bars(results: dict[str, dict[str, float | Sequence[float]]], keys: Sequence[str] = ("hit@1", "perr", "gap"),
                ax=None, title: str = ""):
    """Grouped bars: one group per metric, one bar per run (e.g. attention vs mean pooling). A list of values
    (one per seed) is drawn as its mean with a ± 1 sd error bar and the seeds as dots."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.4))
    width = 0.8 / len(results)
    for i, (name, res) in enumerate(results.items()):
        xs = np.arange(len(keys)) + i * width
        vals = [np.atleast_1d(np.asarray(res[k], dtype=float)) for k in keys]
        means = [v.mean() for v in vals]
        sds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in vals]
        bars = ax.bar(xs, means, width, yerr=sds if any(sds) else None, capsize=3, label=name)
        for x, v in zip(xs, vals, strict=True):
            if len(v) > 1:
                ax.scatter(np.full(len(v), x), v, color="k", s=8, zorder=3)
        ax.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    ax.set_xticks(np.arange(len(keys)) + 0.4 - width / 2, keys, fontsize=FONT)
    ax.tick_params(labelsize=8)
    ax.set_ylim(0, 1.12)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=len(results), frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure


def head_attention_strip(frames: np.ndarray, rows: np.ndarray, title: str = "", highlight: np.ndarray | None = None,
                         *, right: bool | None = None, selected: tuple[int, int] | None = None,
                         width: float = FULL_WIDTH):
    """A transformer's [CLS] attention over a video, one heat row per (layer, head), drawn under the frames.

    ``frames`` (T, H, W); ``rows`` (L, h, T): each head's weights over the frames (rows sum to 1); ``highlight``
    (T,) bool marks the frames that show a label digit (orange boxes on the thumbnails, orange ticks on every row);
    ``selected`` = (layer, head) outlines one row. Why a heatmap and not 05's bars: 8 heads as bars would need 8
    strips; as rows of one image, the eye compares the heads frame by frame. Each row is scaled to its own peak, so
    a sharp head and a flat one both show where they look (the colour bar says "÷ row peak")."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rows = np.asarray(rows, dtype=np.float64)
    layers, heads, t = rows.shape
    frames = np.asarray(frames)[:t]
    if len(frames) != t:
        raise ValueError(f"{len(frames)} frames for {t} attention weights per head: they must be one per frame")
    flat = rows.reshape(layers * heads, t)
    flat = flat / np.maximum(flat.max(1, keepdims=True), 1e-12)
    left, right_edge = 0.1, 0.92
    thumb_h = width * (right_edge - left) / t  # square thumbnails (inches)
    row_h, title_h, axis_h = 0.22, 0.45, 0.45
    height = title_h + thumb_h + 0.08 + layers * heads * row_h + axis_h
    fig = plt.figure(figsize=(width, height))
    top = 1 - title_h / height
    ax_f = fig.add_axes((left, top - thumb_h / height, right_edge - left, thumb_h / height))
    ax_f.imshow(np.concatenate(list(frames), axis=1), cmap="gray", vmin=0, vmax=255, aspect="auto",
                extent=(-0.5, t - 0.5, 0, 1), interpolation="nearest")
    ax_f.set_axis_off()
    hl = np.zeros(t, bool) if highlight is None else np.asarray(highlight, bool)[:t]
    for i in np.flatnonzero(hl):
        ax_f.add_patch(Rectangle((i - 0.5, 0.0), 1.0, 1.0, fill=False, ec=ORANGE, lw=1.8, clip_on=False))
    heat_top = top - (thumb_h + 0.08) / height
    heat_h = layers * heads * row_h / height
    ax_h = fig.add_axes((left, heat_top - heat_h, right_edge - left, heat_h), sharex=ax_f)
    im = ax_h.imshow(flat, cmap="viridis", vmin=0, vmax=1, aspect="auto", interpolation="nearest",
                     extent=(-0.5, t - 0.5, layers * heads - 0.5, -0.5))
    ax_h.set_yticks(range(layers * heads), [f"layer {li + 1} head {hi + 1}" for li in range(layers) for hi in range(heads)],
                    fontsize=8)
    for li in range(1, layers):
        ax_h.axhline(li * heads - 0.5, color="w", lw=1.5)
    ax_h.plot(np.flatnonzero(hl), np.full(hl.sum(), layers * heads - 0.5), "^", color=ORANGE, ms=6, clip_on=False)
    if selected is not None:
        r = selected[0] * heads + selected[1]
        ax_h.add_patch(Rectangle((-0.5, r - 0.5), t, 1, fill=False, ec="w", lw=2))
    ax_h.set_xlabel("frame t (orange: shows a label digit)", fontsize=FONT)
    ax_h.tick_params(axis="x", labelsize=8)
    cax = fig.add_axes((right_edge + 0.015, heat_top - heat_h, 0.015, heat_h))
    fig.colorbar(im, cax=cax).set_label("[CLS] weight ÷ row peak", fontsize=8)
    fig.suptitle(title, fontsize=10, x=left, ha="left", y=1 - 0.08 / height, va="top",
                 color="k" if right is None else (RIGHT if right else WRONG))
    return fig
