"""Learning curves (labkit.viz.curves): whole-epoch ticks on every curve over epochs, and quantities on different
scales in panels of their own."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from labkit.train import History  # noqa: E402
from labkit.viz.curves import epoch_axis, plot_history, plot_history_panels  # noqa: E402


def _history(n: int = 4) -> History:
    return History(epochs=[{"epoch": e, "loss": 4.0 / e, "val_gap": 0.2 * e} for e in range(1, n + 1)], best_epoch=3)


def _ticks(ax) -> list[float]:
    lo, hi = ax.get_xlim()
    return [t for t in ax.get_xticks() if lo <= t <= hi]


@pytest.mark.parametrize("n", [2, 4, 6, 20])
def test_epoch_ticks_are_whole_numbers(n):
    fig = plot_history(_history(n))
    ax = fig.axes[0]
    fig.canvas.draw()
    assert ax.get_xlabel() == "epoch" and _ticks(ax) and all(float(t).is_integer() for t in _ticks(ax))
    plt.close(fig)
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.1, 0.2, 0.3])
    epoch_axis(ax)
    fig.canvas.draw()
    assert all(float(t).is_integer() for t in _ticks(ax))
    plt.close(fig)


def test_panels_give_each_scale_its_own_axis_and_mark_the_epoch_kept():
    h = _history()
    fig = plot_history_panels(h, [("loss",), ("val_gap",)], best_epoch=h.best_epoch, title="t")
    loss_ax, gap_ax = fig.axes
    assert [loss_ax.get_ylabel(), gap_ax.get_ylabel()] == ["loss", "val_gap"]
    assert [ln.get_label() for ln in loss_ax.get_lines()][0] == "loss"
    assert gap_ax.get_ylim()[1] < 1.5  # the metric is not squashed under the loss's scale
    for ax in fig.axes:
        kept = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
        assert len(kept) == 1 and kept[0].get_xdata()[0] == 3
    plt.close(fig)


@pytest.mark.parametrize("panels", [[], ["loss"], [("loss",), ()], "loss"])
def test_panels_must_be_groups_of_keys(panels):
    with pytest.raises(ValueError, match="groups of keys"):
        plot_history_panels(_history(), panels)
