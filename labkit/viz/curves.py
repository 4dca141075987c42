"""Learning curves and per-run distributions: the figures a training loop or a sweep leaves behind.

Why here and not beside the loop: ``labkit.train`` and ``labkit.course.sweep`` compute and collect numbers;
drawing them is this layer's job. Sweep figures are written to files from worker threads, so they are built
on a bare ``matplotlib.figure.Figure`` (no pyplot, no global backend switch): the learner's own
``plt.show()`` keeps working in the kernel that ran the sweep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


class _History(Protocol):
    epochs: list[dict[str, float]]

    def __getitem__(self, key: str) -> list[float]: ...


def epoch_axis(ax: Axes) -> Axes:
    """Label ``ax``'s x axis "epoch" and tick it at whole epochs only.

    Why: matplotlib's default locator puts ticks at 1.5, 2.5, … on a run of a few epochs, and there is no epoch 2.5;
    every curve over epochs in the course goes through here, so none shows fractional epochs."""
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    return ax


def plot_history(history: _History, keys: Sequence[str] | None = None, ax: Axes | None = None) -> Figure:
    """Learning curves of ``keys`` (default: everything logged) against the epoch, on ``ax`` or a new figure.

    All keys share one y axis: give it keys on one scale (a loss beside a metric in [0, 1] flattens the metric);
    :func:`plot_history_panels` draws quantities on different scales side by side."""
    import matplotlib.pyplot as plt  # a new figure in a notebook is a pyplot figure, so plt.show() draws it

    keys = list(keys or [k for k in (history.epochs[0] if history.epochs else {}) if k != "epoch"])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    xs = history["epoch"]
    for k in keys:
        ax.plot(xs[: len(history[k])], history[k], marker="o", label=k)
    epoch_axis(ax)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure


def plot_history_panels(history: _History, panels: Sequence[Sequence[str]], best_epoch: int | None = None,
                        title: str | None = None, panel_width: float = 3.4) -> Figure:
    """One panel per group of keys, side by side, each on its own y axis labelled with its keys (e.g.
    ``[("loss",), ("val_gap",)]``), and a dotted line at ``best_epoch`` (the epoch whose weights were kept) in
    every panel.

    Why panels and not one axis: a summed loss near 4 and a validation metric in [0, 1] on one y axis leave the
    metric a flat line at the bottom, and a twin axis makes the reader match curves to axes by colour."""
    import matplotlib.pyplot as plt

    if not panels or any(isinstance(g, str) or not g for g in panels):
        raise ValueError(f"panels must be a list of non-empty groups of keys, e.g. [('loss',), ('val_acc',)], "
                         f"got {panels!r}")
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_width * len(panels), 3.0), squeeze=False,
                             layout="constrained")
    for ax, group in zip(axes[0], panels, strict=True):
        plot_history(history, keys=group, ax=ax)
        ax.set_ylabel(", ".join(group))
        if best_epoch is not None:
            ax.axvline(best_epoch, color="k", ls=":", lw=1, label=f"epoch kept ({best_epoch})")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def distributions_figure(key: str, runs: Mapping[str, Sequence[float]]) -> Figure:
    """One histogram per run of a recorded list (e.g. ``predictions``), overlaid so the runs compare."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for name, values in runs.items():
        ax.hist(values, bins=30, histtype="step", density=True, label=name, linewidth=1.5)
    ax.set_title(f"{key}: distribution per run")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    return fig


def draw_histograms(ax: Axes, parts: Mapping[str, Sequence[float]], threshold: float | None = None,
                    bins: int = 20) -> Axes:
    """One translucent density histogram per named list on ``ax``, on shared bins (e.g. one run's test scores per
    class), with an optional dashed threshold line; empty lists are left out of the plot but named in the legend."""
    filled = [np.asarray(v, dtype=float) for v in parts.values() if len(v)]
    edges = np.histogram_bin_edges(np.concatenate(filled), bins) if filled else bins
    for name, values in parts.items():
        if len(values):
            ax.hist(values, bins=edges, alpha=0.5, density=True, label=f"{name} (n={len(values)})")
        else:
            ax.plot([], [], label=f"{name} (n=0)")
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=0.8, label=f"threshold {threshold:g}")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    return ax


def per_run_figure(key: str, runs: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    """Small multiples for a recorded dict of lists (e.g. ``predictions_by_class``): one panel per run, its lists as
    overlaid histograms (:func:`draw_histograms`), every panel on the same x-axis so the runs compare."""
    cols = min(3, int(np.ceil(np.sqrt(len(runs)))))  # 4 runs: 2×2, 6: 3×2, 9 or more: 3 wide
    rows = -(-len(runs) // cols)
    fig = Figure(figsize=(3.6 * cols, 2.7 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for ax, (name, parts) in zip(axes.flat, runs.items(), strict=False):
        draw_histograms(ax, parts)
        ax.set_title(name, fontsize=8)
    for ax in axes.flat[len(runs):]:
        ax.set_axis_off()
    fig.suptitle(f"{key}: per run")
    return fig


def save_distributions(series: Mapping[str, Mapping[str, Sequence[float]]], out: Path,
                       per_run: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]] | None = None) -> list[Path]:
    """``out/sweep_<key>.png`` for every recorded list in ``series`` (key → run → values), overlaid, and for every
    recorded dict of lists in ``per_run`` (key → run → name → values), one panel per run."""
    paths = []
    figures = [(k, distributions_figure(k, runs)) for k, runs in series.items()]
    figures += [(k, per_run_figure(k, runs)) for k, runs in (per_run or {}).items()]
    for key, fig in figures:
        path = Path(out) / f"sweep_{key}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths
