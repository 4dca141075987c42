"""Glimpse figures draw their boxes where the retina actually cuts, and the animation stays small."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from labkit.models.ram import Retina  # noqa: E402
from labkit.viz.glimpses import animate_glimpses, draw_retina, retina_figure  # noqa: E402


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


def test_animation_has_one_frame_per_glimpse_and_small_html():
    r = Retina(6, 2, 2)
    locs = torch.rand(2, 4, 2) * 2 - 1
    anim = animate_glimpses([torch.rand(28, 28), torch.rand(28, 28)], locs, r, titles=["a", "b"])
    html = anim.to_jshtml()
    assert html.count("frames[") >= 4
    assert len(html) < 400_000
