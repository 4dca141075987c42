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

from matplotlib.axes import Axes
from matplotlib.figure import Figure


class _History(Protocol):
    epochs: list[dict[str, float]]

    def __getitem__(self, key: str) -> list[float]: ...


def plot_history(history: _History, keys: Sequence[str] | None = None, ax: Axes | None = None) -> Figure:
    """Learning curves of ``keys`` (default: everything logged) against the epoch, on ``ax`` or a new figure."""
    import matplotlib.pyplot as plt  # a new figure in a notebook is a pyplot figure, so plt.show() draws it

    keys = list(keys or [k for k in (history.epochs[0] if history.epochs else {}) if k != "epoch"])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    xs = history["epoch"]
    for k in keys:
        ax.plot(xs[: len(history[k])], history[k], marker="o", label=k)
    ax.set_xlabel("epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure


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


def save_distributions(series: Mapping[str, Mapping[str, Sequence[float]]], out: Path) -> list[Path]:
    """``out/sweep_<key>.png`` for every recorded list in ``series`` (key → run → values)."""
    paths = []
    for key, runs in series.items():
        path = Path(out) / f"sweep_{key}.png"
        distributions_figure(key, runs).savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths
