"""Figures for captioning: the SA-LSTM attention step drawn, captions beside frames, word-by-frame attention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def attention_diagram(n_frames: int = 5, alpha: Sequence[float] | None = None):
    """One decoding step of SA-LSTM drawn: frame features v_i and the previous state h_{t-1} give energies
    e_i = wᵀ tanh(W h_{t-1} + U v_i + b); softmax → α_i; φ_t = Σ α_i v_i joins the word embedding E y_{t-1}."""
    import matplotlib.pyplot as plt

    alpha = np.asarray(alpha if alpha is not None else np.exp(-0.5 * (np.arange(n_frames) - 2.2) ** 2))
    alpha = alpha / alpha.sum()
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.set_axis_off()
    box = {"boxstyle": "round,pad=0.3", "fc": "#e8f0fe", "ec": "#4a6fa5"}
    xs = np.linspace(0.8, 5.2, n_frames)
    for i, (x, a) in enumerate(zip(xs, alpha, strict=True)):
        ax.text(x, 0.6, f"$v_{i + 1}$", ha="center", va="center", bbox=box, fontsize=11)
        ax.text(x, 2.0, f"$e_{i + 1}$", ha="center", va="center", fontsize=10)
        ax.annotate("", (x, 1.75), (x, 0.95), arrowprops={"arrowstyle": "->", "color": "gray"})
        ax.add_patch(plt.Rectangle((x - 0.22, 2.6), 0.44, 1.6 * a / alpha.max(), color="tab:orange"))
        ax.text(x, 2.45, f"{a:.2f}", ha="center", va="top", fontsize=8)
        ax.annotate("", (7.0, 4.6), (x, 2.65 + 1.6 * a / alpha.max()),
                    arrowprops={"arrowstyle": "->", "color": "tab:orange", "alpha": 0.3 + 0.7 * a / alpha.max()})
    ax.text(3.0, 4.75, r"$\alpha = \mathrm{softmax}_i(e_i)$  (padded frames: $e_i=-\infty$, so $\alpha_i=0$)",
            ha="center", fontsize=10)
    ax.text(8.4, 0.6, "$h_{t-1}$", ha="center", va="center", bbox=box, fontsize=11)
    ax.annotate("", (5.6, 2.0), (7.9, 0.75), arrowprops={"arrowstyle": "->", "color": "#4a6fa5"})
    ax.text(7.4, 1.25, r"$e_i = w^\top \tanh(W h_{t-1} + U v_i + b)$", ha="center", fontsize=10, color="#4a6fa5")
    ax.text(7.3, 4.9, r"$\varphi_t = \sum_i \alpha_i v_i$", ha="center", va="center", bbox=box, fontsize=11)
    ax.text(9.3, 4.9, r"$E\,y_{t-1}$", ha="center", va="center", bbox=box, fontsize=11)
    ax.text(8.3, 5.75, r"LSTM$([E y_{t-1};\ \varphi_t],\ h_{t-1}) \to h_t \to p(y_t)$", ha="center", fontsize=11)
    ax.annotate("", (8.0, 5.55), (7.5, 5.2), arrowprops={"arrowstyle": "->"})
    ax.annotate("", (8.6, 5.55), (9.2, 5.2), arrowprops={"arrowstyle": "->"})
    ax.set_title("one word step of SA-LSTM: temporal soft attention over the frames", fontsize=11)
    return fig


def captions_beside_frames(frames: np.ndarray, lines: Mapping[str, str], ax=None, every: int = 1):
    """Frames (T, H, W) as a strip with labelled caption lines under it (e.g. greedy / beam / reference)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.0 + 0.28 * len(lines)))
    ax.imshow(np.concatenate(list(frames[::every]), axis=1), cmap="gray")
    ax.set_xticks([])
    ax.set_yticks([])
    text = "\n".join(f"{k}: {v}" for k, v in lines.items())
    ax.set_xlabel(text, fontsize=8, loc="left", family="monospace")
    return ax.figure


def attention_heatmap(alpha: np.ndarray, words: Sequence[str], frames: np.ndarray | None = None):
    """α (words, T) as an image: one row per generated word, one column per frame, with the frames drawn in the
    same columns above it (padded columns, beyond the video's frames, stay empty)."""
    import matplotlib.pyplot as plt

    n, t = alpha.shape
    col = 0.55  # inches per frame column
    heights = ([col] if frames is not None else []) + [0.28 * n + 0.2]
    fig, axes = plt.subplots(len(heights), 1, figsize=(col * t + 1.8, sum(heights) + 0.8), sharex=True,
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    ax = axes[-1, 0]
    im = ax.imshow(alpha, cmap="viridis", vmin=0, aspect="auto", extent=(-0.5, t - 0.5, n - 0.5, -0.5))
    ax.set_yticks(range(n), words, fontsize=8)
    ax.set_xticks(range(t), [str(i) for i in range(t)], fontsize=7)
    ax.set_xlabel("frame (columns past the video's end are padding: α = 0)")
    fig.colorbar(im, ax=axes[:, 0].tolist(), label="α", fraction=0.03, pad=0.02)
    if frames is not None:
        top = axes[0, 0]
        nf = min(len(frames), t)
        for i in range(nf):
            top.imshow(frames[i], cmap="gray", extent=(i - 0.48, i + 0.48, 1, 0), aspect="auto")
        top.set_xlim(-0.5, t - 0.5)
        top.set_ylim(1, 0)
        top.set_axis_off()
    return fig
