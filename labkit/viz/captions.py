"""Figures for captioning: the SA-LSTM attention step drawn, captions beside frames, word-by-frame attention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from labkit.viz.style import COLUMN_WIDTH, RIGHT, WRONG


def attention_diagram(n_frames: int = 5, alpha: Sequence[float] | None = None):
    """One decoding step of SA-LSTM drawn: frame features v_i and the previous state h_{t-1} give energies
    e_i = wᵀ tanh(W h_{t-1} + U v_i + b); softmax → α_i; φ_t = Σ α_i v_i joins the word embedding E y_{t-1}.

    Both stages carry their own numbers, e_i under the arrows from v_i and α_i on the bars, so a reader sees that
    the bars are the softmax of the energies, not the energies. The energies shown are log α_i centred on their
    mean: a softmax ignores a constant added to every e_i, so these are the e_i of ``alpha`` up to that constant."""
    import matplotlib.pyplot as plt

    alpha = np.asarray(alpha if alpha is not None else np.exp(-0.5 * (np.arange(n_frames) - 2.2) ** 2))
    alpha = alpha / alpha.sum()
    energy = np.log(np.clip(alpha, 1e-12, None))
    energy -= energy.mean()
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.set_axis_off()
    box = {"boxstyle": "round,pad=0.3", "fc": "#e8f0fe", "ec": "#4a6fa5"}
    xs = np.linspace(0.8, 5.2, n_frames)
    for i, (x, a, e) in enumerate(zip(xs, alpha, energy, strict=True)):
        ax.text(x, 0.6, f"$v_{i + 1}$", ha="center", va="center", bbox=box, fontsize=11)
        ax.text(x, 1.55, f"$e_{i + 1}$={e:+.1f}", ha="center", va="center", fontsize=9, color="#4a6fa5")
        ax.annotate("", (x, 1.35), (x, 0.95), arrowprops={"arrowstyle": "->", "color": "gray"})
        ax.annotate("", (x, 2.2), (x, 1.75), arrowprops={"arrowstyle": "->", "color": "gray"})
        ax.add_patch(plt.Rectangle((x - 0.22, 2.6), 0.44, 1.6 * a / alpha.max(), color="tab:orange"))
        ax.text(x, 2.45, f"$\\alpha_{i + 1}$={a:.2f}", ha="center", va="top", fontsize=9)
        ax.annotate("", (7.0, 4.6), (x, 2.65 + 1.6 * a / alpha.max()),
                    arrowprops={"arrowstyle": "->", "color": "tab:orange", "alpha": 0.3 + 0.7 * a / alpha.max()})
    ax.text(3.0, 4.75, r"$\alpha = \mathrm{softmax}_i(e_i)$  (padded frames: $e_i=-\infty$, so $\alpha_i=0$)",
            ha="center", fontsize=10)
    ax.text(8.4, 0.6, "$h_{t-1}$", ha="center", va="center", bbox=box, fontsize=11)
    ax.annotate("", (5.7, 1.55), (7.9, 0.75), arrowprops={"arrowstyle": "->", "color": "#4a6fa5"})
    ax.text(7.6, 1.95, r"$e_i = w^\top \tanh(W h_{t-1} + U v_i + b)$", ha="center", fontsize=10, color="#4a6fa5")
    ax.text(xs[0] - 0.3, 1.97, "softmax", ha="right", va="center", fontsize=8, color="gray")
    ax.text(7.3, 4.9, r"$\varphi_t = \sum_i \alpha_i v_i$", ha="center", va="center", bbox=box, fontsize=11)
    ax.text(9.3, 4.9, r"$E\,y_{t-1}$", ha="center", va="center", bbox=box, fontsize=11)
    ax.text(8.3, 5.75, r"LSTM$([E y_{t-1};\ \varphi_t],\ h_{t-1}) \to h_t \to p(y_t)$", ha="center", fontsize=11)
    ax.annotate("", (8.0, 5.55), (7.5, 5.2), arrowprops={"arrowstyle": "->"})
    ax.annotate("", (8.6, 5.55), (9.2, 5.2), arrowprops={"arrowstyle": "->"})
    ax.set_title("one word step of SA-LSTM: temporal soft attention over the frames", fontsize=11)
    return fig


DIGIT_COLOURS = ("tab:orange", "tab:cyan")  # the earlier and the later digit of a video


def _mark_events(ax, events: Sequence[tuple[int, int, int]], y: float, height: float, fontsize: float = 9) -> None:
    """Coloured bars over the frames where each digit is visible, labelled with the digit."""
    import matplotlib.patches as mpatches

    for k, (digit, start, stop) in enumerate(sorted(events, key=lambda e: e[1])):
        colour = DIGIT_COLOURS[k % len(DIGIT_COLOURS)]
        ax.add_patch(mpatches.Rectangle((start - 0.5, y), stop - start, height, color=colour, alpha=0.9,
                                        clip_on=False, lw=0))
        ax.text((start + stop - 1) / 2, y + height / 2, f"{digit} visible", ha="center", va="center",
                fontsize=fontsize, color="black")


def captions_beside_frames(frames: np.ndarray, lines: Mapping[str, str], ax=None, every: int = 1,
                           events: Sequence[tuple[int, int, int]] | None = None):
    """Frames (T, H, W) as a strip, each frame one unit wide, with labelled caption lines under it (e.g. greedy /
    beam / reference); ``events`` ``(digit, start, stop)`` mark the frames where each digit is visible."""
    import matplotlib.pyplot as plt

    frames = np.asarray(frames)[::every]
    t = len(frames)
    if ax is None:
        _, ax = plt.subplots(figsize=(COLUMN_WIDTH, COLUMN_WIDTH / t * 1.5 + 0.3 * len(lines) + 0.3))
    for i, f in enumerate(frames):
        ax.imshow(f, cmap="gray", extent=(i - 0.5, i + 0.5, 1, 0), vmin=0, vmax=255)
    band = 0.28 if events else 0.0
    if events:
        _mark_events(ax, [(d, s // every, -(-e // every)) for d, s, e in events], 1.02, band)
    ax.set_xlim(-0.5, t - 0.5)
    ax.set_ylim(1.04 + band, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    text = "\n".join(f"{k}: {v}" for k, v in lines.items())
    ax.set_xlabel(text, fontsize=9, loc="left", family="monospace")
    return ax.figure


def attention_heatmap(alpha: np.ndarray, words: Sequence[str], frames: np.ndarray | None = None,
                      events: Sequence[tuple[int, int, int]] | None = None, title: str | None = None,
                      correct: bool | None = None, note: str | None = None):
    """α (words, T) as an image: one row per generated word, one column per real frame, with each frame's thumbnail
    exactly over its column (one shared x axis, a unit per frame).

    ``events`` ``(digit, start, stop)`` mark the frames where each digit is visible: a coloured bar under the
    thumbnails and, on the row of each word naming that digit, a box of the same colour around those frames; a
    white dot marks every row's peak, so "did this digit word look at its digit?" is read off as dot-in-box.
    ``correct`` colours the title (the caption) green ✓ or red ✗; ``note`` goes under it."""
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    alpha = np.asarray(alpha, dtype=float)
    n, t = alpha.shape
    if len(words) != n:
        raise ValueError(f"{len(words)} words for {n} rows of alpha")
    if frames is not None and len(frames) != t:
        raise ValueError(f"{len(frames)} frames for {t} columns of alpha: pass the real frames and their columns")
    left, right = 1.1, 0.9  # inches: word labels, colour bar
    col = (COLUMN_WIDTH - left - right) / t  # inches per frame column
    band = 0.22 if events else 0.0
    top_h = (col if frames is not None else 0.0) + band
    heat_h = 0.3 * n + 0.15
    head = 0.45 + (0.2 if note else 0.0)
    fig = plt.figure(figsize=(COLUMN_WIDTH, head + top_h + heat_h + 0.55))
    h_in = fig.get_figheight()
    x0, x1 = left / COLUMN_WIDTH, (COLUMN_WIDTH - right) / COLUMN_WIDTH
    ax = fig.add_axes((x0, 0.55 / h_in, x1 - x0, heat_h / h_in))
    im = ax.imshow(alpha, cmap="viridis", vmin=0, vmax=max(alpha.max(), 1e-9), aspect="auto",
                   extent=(-0.5, t - 0.5, n - 0.5, -0.5))
    colour_of = {d: DIGIT_COLOURS[k % 2] for k, (d, _, _) in enumerate(sorted(events or [], key=lambda e: e[1]))}
    ax.set_yticks(range(n), list(words), fontsize=10)
    for lab, w in zip(ax.get_yticklabels(), words, strict=True):
        if w.isdigit() and int(w) in colour_of:
            lab.set_color(colour_of[int(w)])
            lab.set_fontweight("bold")
    ax.set_xticks(range(t), [str(i) for i in range(t)], fontsize=8.5)
    ax.set_xlabel("frame", fontsize=9)
    for r, w in enumerate(words):
        ax.plot(int(np.argmax(alpha[r])), r, "o", ms=4, mfc="white", mec="black", mew=0.5)
        if w.isdigit():
            for d, start, stop in events or []:
                if d == int(w):
                    ax.add_patch(mpatches.Rectangle((start - 0.5, r - 0.5), stop - start, 1, fill=False,
                                                    ec=colour_of[d], lw=2.2))
    cax = fig.add_axes((x1 + 0.15 / COLUMN_WIDTH, 0.55 / h_in, 0.12 / COLUMN_WIDTH, heat_h / h_in))
    cb = fig.colorbar(im, cax=cax)
    cb.set_label("α", fontsize=9)
    cb.ax.tick_params(labelsize=8)
    if frames is not None or events:
        top = fig.add_axes((x0, (0.55 + heat_h) / h_in, x1 - x0, top_h / h_in), sharex=ax)
        if frames is not None:
            for i in range(t):
                top.imshow(frames[i], cmap="gray", extent=(i - 0.5, i + 0.5, 1 + band / col, band / col),
                           aspect="auto", vmin=0, vmax=255)
        if events:
            _mark_events(top, events, 0.0, band / col * 0.9, fontsize=8.5)
        top.set_ylim(1 + band / col if frames is not None else band / col, 0)
        top.set_xlim(-0.5, t - 0.5)
        top.set_axis_off()
    if title is not None:
        mark = {True: "✓ ", False: "✗ ", None: ""}[correct]
        colour = {True: RIGHT, False: WRONG, None: "black"}[correct]
        fig.text(x0, 1 - 0.12 / h_in, mark + title, fontsize=10.5, color=colour, va="top", ha="left",
                 fontweight="bold")
        if note:
            fig.text(x0, 1 - 0.38 / h_in, note, fontsize=9, va="top", ha="left")
    return fig
