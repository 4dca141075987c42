"""Attention overlays: per-map normalisation, image-sized output, one file per image, shape errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from PIL import Image

from labkit.viz.attention import attention_steps, save_attention_maps, upsample_map


def test_upsample_map_is_normalised_and_image_sized():
    alpha = np.zeros(9)
    alpha[4] = 0.5
    alpha[0] = 0.1
    m = upsample_map(alpha, (3, 3), (60, 30))
    assert m.shape == (30, 60)
    assert m.max() == pytest.approx(1.0, abs=0.02) and m.min() == pytest.approx(0.0, abs=0.05)
    assert m[15, 30] > m[2, 50]  # the peak sits in the centre cell
    assert (upsample_map(np.full(9, 1 / 9), (3, 3), (6, 6)) == 0).all()  # uniform: flat, no division by 0


def test_figure_and_files(tmp_path):
    ims = [Image.new("RGB", (40, 30), c) for c in ("red", "blue")]
    alphas = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))  # (N=2, T=3, L=4)
    fig = attention_steps(ims, alphas, (2, 2), titles=["a", "b"])
    assert len(fig.axes) == 2 * 4 + 1  # and one colourbar for all maps
    paths = save_attention_maps(tmp_path, ["x/one.jpg", "two.png"], ims, alphas, (2, 2))
    assert [p.name for p in paths] == ["one_att.png", "two_att.png"] and all(p.stat().st_size > 0 for p in paths)
    with pytest.raises(ValueError, match="alphas must be"):
        attention_steps(ims, alphas[:, :, :3], (2, 2))


def test_maps_share_one_colour_scale():
    """A flat map stays dim next to a sharp one: the figure must not make flat attention look dramatic."""
    flat, sharp = np.full(4, 0.25), np.array([0.85, 0.05, 0.05, 0.05])
    vmax = sharp.max()
    assert upsample_map(flat, (2, 2), (8, 8), vmax=vmax).max() == pytest.approx(0.25 / 0.85, abs=0.02)
    assert upsample_map(sharp, (2, 2), (8, 8), vmax=vmax).max() == pytest.approx(1.0, abs=0.02)


def test_row_scale_gives_each_row_its_own_scale_and_colourbar():
    """Per-row scaling: a dim row is drawn to its own maximum (its shape shows), with one colourbar per row."""
    ims = [Image.new("RGB", (40, 30), c) for c in ("red", "blue")]
    alphas = np.array([[[0.85, 0.05, 0.05, 0.05]] * 2, [[0.3, 0.25, 0.25, 0.2]] * 2])  # (N=2, T=2, L=4)
    shared = attention_steps(ims, alphas, (2, 2))
    row = attention_steps(ims, alphas, (2, 2), scale="row")
    assert len(shared.axes) == 2 * 3 + 1 and len(row.axes) == 2 * 3 + 2
    contrast = [np.ptp(np.asarray(f.axes[4].images[0].get_array()).reshape(-1, 3), axis=0).max() for f in (shared, row)]
    assert contrast[1] > 4 * contrast[0]  # the dim row's map spans the colours on its own scale, not a sliver
    assert [bar.get_ylim()[1] for bar in row.axes[6:]] == pytest.approx([0.85, 0.3])
    with pytest.raises(ValueError, match="scale must be one of shared, row"):
        attention_steps(ims, alphas, (2, 2), scale="per-map")
