"""Notebook 05's attention-over-frames figure: each bar sits under its own thumbnail, informative frames and the
prediction are marked, and no text is smaller than 8 pt at the figure's (notebook) width."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from labkit.viz.style import FULL_WIDTH, WRONG  # noqa: E402
from labkit.viz.video import attention_strip, metric_bars, prediction_title  # noqa: E402


def _texts(fig):
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]


def test_thumbnails_sit_over_their_bars_and_text_is_readable():
    t = 61
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (t, 60, 60), dtype=np.uint8)
    alpha = rng.random(t)
    alpha /= alpha.sum()
    informative = np.zeros(t, bool)
    informative[[20, 21, 50]] = True
    fig = attention_strip(frames, alpha, "classify-test-00001", informative, right=False)
    assert len(fig.row_axes) == 2 and fig.get_size_inches()[0] == FULL_WIDTH
    for ax_f, ax_a in fig.row_axes:
        assert ax_f.get_xlim() == ax_a.get_xlim()
        pf, pa = ax_f.get_position(), ax_a.get_position()
        assert pf.x0 == pytest.approx(pa.x0) and pf.x1 == pytest.approx(pa.x1)
        (im,) = ax_f.get_images()
        x0, x1, _, _ = im.get_extent()
        bars = ax_a.patches
        assert x0 == pytest.approx(bars[0].get_x() + bars[0].get_width() / 2 - 0.5)  # frame k spans [k − ½, k + ½]
        assert (x1 - x0) == len(bars) and im.get_array().shape[1] == 60 * len(bars)
    orange = [p for p in fig.row_axes[0][0].patches if p.get_edgecolor()[:3] == matplotlib.colors.to_rgb("tab:orange")]
    assert len(orange) == 2  # frames 20 and 21 in the first row
    assert fig._suptitle.get_color() == WRONG
    assert min(t.get_fontsize() for t in _texts(fig)) >= 8
    plt.close(fig)


def test_prediction_title_marks_each_class():
    title, right = prediction_title("v", [3, 7], [7, 1])
    assert right and title == "v · labels [3, 7] · top-2 predicted 7 ✓, 1 ✗"
    assert not prediction_title("v", [3], [1, 3])[1]


def test_metric_bars_show_seed_spread_and_readable_text():
    fig = metric_bars({"attention": {"gap": [0.8, 0.9, 0.85]}, "prior": {"gap": 0.2}}, keys=("gap",), title="t")
    ax = fig.axes[0]
    assert [round(b.get_height(), 3) for b in ax.patches] == [0.85, 0.2]
    assert min(t.get_fontsize() for t in _texts(fig)) >= 8
    plt.close(fig)


def test_frames_and_weights_must_match():
    with pytest.raises(ValueError, match="4 frames for 6 attention weights"):
        attention_strip(np.zeros((4, 8, 8), np.uint8), np.full(6, 1 / 6))
