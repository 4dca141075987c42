"""Glimpse figures draw their boxes where the retina actually cuts, number glimpses 1…T, and plot gaze per glimpse."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from labkit.models.ram import Retina  # noqa: E402
from labkit.viz.glimpses import (  # noqa: E402
    draw_glimpse_path,
    draw_retina,
    gaze_by_glimpse_figure,
    retina_figure,
)


def test_retina_boxes_cover_the_pixels_the_retina_reads():
    r = Retina(4, 3, 2)
    loc = (-0.5, 0.25)  # centre pixel: col int(0.25·28) = 7, row int(0.625·28) = 17
    fig, ax = plt.subplots()
    draw_retina(ax, torch.zeros(28, 28), loc, r)
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [(b.get_x(), b.get_y(), b.get_width()) for b in boxes] == [
        (7 - S // 2 - 0.5, 17 - S // 2 - 0.5, S) for S in (4, 8, 16)
    ]
    # the same region, read by the retina: a marker pixel at the box's top-left corner is its first value
    img = torch.zeros(1, 1, 28, 28)
    img[0, 0, 17 - 2, 7 - 2] = 1.0
    assert r.patches(img, torch.tensor([loc]))[0][0, 0, 0, 0] == 1.0
    plt.close(fig)
    plt.close(retina_figure(torch.rand(28, 28), loc, r))




def test_glimpse_path_is_numbered_one_to_t_and_draws_the_digits_box():
    fig, ax = plt.subplots()
    locs = torch.tensor([[0.0, 0.0], [0.2, -0.1], [0.3, 0.4]])
    draw_glimpse_path(ax, torch.rand(60, 60), locs, Retina(12, 2, 2), box=(10, 20, 30, 40))
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3"]
    dashed = [p for p in ax.patches if p.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_width() == 20 and dashed[0].get_height() == 20
    plt.close(fig)


def test_gaze_by_glimpse_figure_draws_one_line_per_policy_at_the_seed_means():
    recs = {"learned": [{"in_box_by_glimpse": [0.2, 0.8, 0.6], "distance_by_glimpse": [12, 3, 5]},
                        {"in_box_by_glimpse": [0.2, 0.6, 0.4], "distance_by_glimpse": [12, 5, 7]}],
            "centre": [{"in_box_by_glimpse": [0.2, 0.2, 0.2], "distance_by_glimpse": [12, 12, 12]}]}
    fig = gaze_by_glimpse_figure(recs)
    line = fig.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == pytest.approx([0.2, 0.7, 0.5])
    assert len(fig.axes[1].get_lines()) == 2
    plt.close(fig)
