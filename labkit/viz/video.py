"""Figures for video models: attention weights over time drawn under the frames they weight."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def attention_strip(frames: np.ndarray, alpha: np.ndarray, title: str = "", highlight: np.ndarray | None = None,
                    ax_frames=None, ax_alpha=None):
    """Frames (T, H, W[, 3]) in a row and α (T,) as bars under them; ``highlight`` (T,) bool shades frames
    (e.g. where a transient digit is visible). Returns the figure."""
    import matplotlib.pyplot as plt

    t = len(alpha)
    frames = frames[:t]
    if ax_frames is None:
        fig, (ax_frames, ax_alpha) = plt.subplots(2, 1, figsize=(min(1.0 * t, 16), 2.6),
                                                  gridspec_kw={"height_ratios": [1, 1.1]})
    fig = ax_frames.figure
    strip = np.concatenate(list(frames), axis=1)  # (H, T·W[, 3])
    ax_frames.imshow(strip, cmap="gray", aspect="equal")
    ax_frames.set_axis_off()
    ax_frames.set_title(title, fontsize=9)
    x = np.arange(t)
    colors = np.where(highlight, "tab:orange", "tab:blue") if highlight is not None else "tab:blue"
    ax_alpha.bar(x, alpha, color=colors, width=0.85)
    ax_alpha.axhline(1 / t, color="k", lw=0.8, ls="--", label="uniform 1/T")
    ax_alpha.set_xlim(-0.5, t - 0.5)
    ax_alpha.set_ylabel("α_t", fontsize=8)
    ax_alpha.set_xticks(x)
    ax_alpha.tick_params(labelsize=6)
    ax_alpha.legend(fontsize=6, loc="upper right")
    return fig


def metric_bars(results: dict[str, dict[str, float]], keys: Sequence[str] = ("hit@1", "perr", "gap"), ax=None):
    """Grouped bars: one group per metric, one bar per run (e.g. attention vs mean pooling)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    width = 0.8 / len(results)
    for i, (name, res) in enumerate(results.items()):
        xs = np.arange(len(keys)) + i * width
        bars = ax.bar(xs, [res[k] for k in keys], width, label=name)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks(np.arange(len(keys)) + 0.4 - width / 2, keys)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    return ax.figure
