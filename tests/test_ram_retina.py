"""The vectorised retina against a plain per-sample, per-pixel reference written here from the definition."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import map_coordinates

from labkit.models.ram import Retina, retina_patch


def reference_foveate(images: np.ndarray, locations: np.ndarray, g: int, k: int, s: int) -> np.ndarray:
    """Loop over samples, scales and pixels: centre = int(0.5·(l+1)·H); patch rows [c - S//2, c - S//2 + S)."""
    B, C, H, W = images.shape
    out = []
    for b in range(B):
        cx = int(0.5 * (float(locations[b, 0]) + 1.0) * W)
        cy = int(0.5 * (float(locations[b, 1]) + 1.0) * H)
        feats = []
        for i in range(k):
            S = g * s**i
            patch = np.zeros((C, S, S))
            for r in range(S):
                for c in range(S):
                    y, x = cy - S // 2 + r, cx - S // 2 + c
                    if 0 <= y < H and 0 <= x < W:
                        patch[:, r, c] = images[b, :, y, x]
            f = S // g
            feats.append(patch.reshape(C, g, f, g, f).mean(axis=(2, 4)))
        out.append(np.concatenate(feats, axis=0).ravel())
    return np.stack(out)


def reference_bilinear(images: np.ndarray, locations: np.ndarray, g: int, k: int, s: int) -> np.ndarray:
    """Per sample: sample points c - S/2 + j + 0.5 (continuous c), zeros outside, via scipy's map_coordinates."""
    B, C, H, W = images.shape
    out = []
    for b in range(B):
        cx = 0.5 * (float(locations[b, 0]) + 1.0) * W
        cy = 0.5 * (float(locations[b, 1]) + 1.0) * H
        feats = []
        for i in range(k):
            S = g * s**i
            ys = cy - S / 2 + np.arange(S) + 0.5 - 0.5  # map_coordinates puts pixel centres at integers
            xs = cx - S / 2 + np.arange(S) + 0.5 - 0.5
            yy, xx = np.meshgrid(ys, xs, indexing="ij")
            patch = np.stack([map_coordinates(images[b, ch], [yy, xx], order=1, mode="grid-constant", cval=0.0)
                              for ch in range(C)])
            f = S // g
            feats.append(patch.reshape(C, g, f, g, f).mean(axis=(2, 4)))
        out.append(np.concatenate(feats, axis=0).ravel())
    return np.stack(out)


BORDERS = [[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.0, 0.0], [0.999, -0.999], [-0.5, 1.0]]


@pytest.mark.parametrize(("g", "k", "s", "H", "W", "C"), [
    (8, 1, 2, 28, 28, 1),  # paper MNIST
    (12, 3, 2, 60, 60, 1),  # paper translated / cluttered
    (3, 3, 3, 17, 17, 2),  # odd sizes, three scales, two channels
    (4, 2, 2, 20, 12, 3),  # non-square image
    (5, 4, 2, 11, 11, 1),  # largest patch (40) far wider than the image
])
def test_exact_retina_matches_reference_at_borders_and_random_points(g, k, s, H, W, C):
    rng = np.random.default_rng(g * 100 + k)
    images = rng.random((len(BORDERS) + 9, C, H, W)).astype(np.float32)
    locs = np.concatenate([np.array(BORDERS), rng.uniform(-1, 1, (9, 2))]).astype(np.float32)
    got = Retina(g, k, s).foveate(torch.from_numpy(images), torch.from_numpy(locs))
    assert got.shape == (len(locs), k * C * g * g)
    want = reference_foveate(images, locs, g, k, s)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)


def test_every_scale_sees_its_own_box():
    """A single bright pixel at distance d from the centre appears only in scales whose box contains it."""
    H = W = 64
    img = torch.zeros(1, 1, H, W)
    img[0, 0, 32, 32 + 10] = 1.0  # 10 pixels right of the centre pixel (32, 32)
    r = Retina(4, 4, 2)  # boxes 4, 8, 16, 32: half-widths 2, 4, 8, 16
    phi = r.foveate(img, torch.zeros(1, 2)).view(4, 4, 4)
    seen = [bool(phi[i].sum() > 0) for i in range(4)]
    assert seen == [False, False, False, True]
    assert phi[3].sum().item() == pytest.approx(1.0 / 64)  # one pixel averaged over an 8×8 cell


def test_x_is_column_and_y_is_row():
    img = torch.zeros(1, 1, 28, 28)
    img[0, 0, 3, 20] = 1.0  # row 3, column 20
    r = Retina(1, 1, 1)
    at = lambda x, y: r.foveate(img, torch.tensor([[x, y]])).item()  # noqa: E731
    assert at(20 / 14 - 1, 3 / 14 - 1) == 1.0
    assert at(3 / 14 - 1, 20 / 14 - 1) == 0.0


@pytest.mark.parametrize(("g", "k", "s"), [(8, 1, 2), (6, 3, 2), (3, 2, 3)])
def test_bilinear_retina_matches_subpixel_reference(g, k, s):
    rng = np.random.default_rng(7)
    images = rng.random((10, 2, 30, 30)).astype(np.float32)
    locs = np.concatenate([np.array(BORDERS[:4]), rng.uniform(-1, 1, (6, 2))]).astype(np.float32)
    got = Retina(g, k, s, bilinear=True).foveate(torch.from_numpy(images), torch.from_numpy(locs))
    np.testing.assert_allclose(got.numpy(), reference_bilinear(images, locs, g, k, s), atol=1e-5)


def test_bilinear_equals_exact_where_the_centre_is_a_whole_pixel():
    images = torch.rand(5, 1, 28, 28)
    locs = torch.tensor([[0.0, 0.0], [-1.0, 1.0], [3 / 14 - 1, 17 / 14 - 1], [1.0, -1.0], [0.5, -0.5]])
    exact = Retina(8, 2, 2).foveate(images, locs)
    bil = Retina(8, 2, 2, bilinear=True).foveate(images, locs)
    torch.testing.assert_close(bil, exact, atol=1e-5, rtol=0)


def test_bad_inputs_are_refused_with_a_reason():
    r = Retina(8, 1, 2)
    with pytest.raises(ValueError, match="B, C, H, W"):
        r.foveate(torch.zeros(2, 28, 28), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="locations of shape"):
        r.foveate(torch.zeros(2, 1, 28, 28), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        r.foveate(torch.zeros(1, 1, 28, 28), torch.tensor([[1.5, 0.0]]))
    with pytest.raises(ValueError, match="s must be an int"):
        Retina(8, 2, 1.5)


@pytest.mark.parametrize(("H", "W", "loc", "size"), [
    (28, 28, (0.0, 0.0), 8), (28, 28, (1.0, 1.0), 8), (28, 28, (-1.0, -0.9), 16),
    (28, 28, (0.1, -0.1), 48), (20, 36, (0.9, -0.95), 12), (11, 7, (-0.3, 0.6), 5),
])
def test_one_image_one_scale_patch_is_the_retinas_and_the_definitions(H, W, loc, size):
    """notebook 04's reference: equal to the batched retina's patch and to the per-pixel definition (zeros outside)."""
    image = torch.rand(H, W, generator=torch.Generator().manual_seed(size))
    got = retina_patch(image, torch.tensor(loc), size)
    assert torch.equal(got, Retina(size, 1, 1).patches(image[None, None], torch.tensor([loc]))[0][0, 0])
    want = reference_foveate(image[None, None].numpy(), np.array([loc]), size, 1, 1).reshape(size, size)
    np.testing.assert_array_equal(got.numpy(), want.astype(np.float32))


def test_retina_patch_refuses_a_batch():
    with pytest.raises(ValueError, match="Retina.patches"):
        retina_patch(torch.zeros(1, 28, 28), torch.zeros(2), 8)
