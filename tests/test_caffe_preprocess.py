"""Caffe preprocessing: BGR, 0–255, mean subtraction, crops in caffe.io.oversample's order."""

import numpy as np
import pytest
import torch

from labkit import asset_path
from labkit.caffe import CaffeTransform, ten_crop_average


def test_ten_crop_matches_caffe_io_oversample_and_transformer():
    gold = np.load(asset_path("caffe/preprocess.npz"))
    t = CaffeTransform(mean=gold["mean_bgr"], resize=64, crop=51, ten_crop=True)
    got = t(gold["image"])
    assert got.shape == (10, 3, 51, 51)
    np.testing.assert_allclose(got.numpy(), gold["ten_crop"], atol=1e-3)


def test_bgr_order_and_scale_by_hand():
    img = np.zeros((4, 4, 3), np.uint8)
    img[..., 0] = 200  # red
    x = CaffeTransform(resize=4, crop=4)(img)
    assert x[2].eq(200).all() and x[0].eq(0).all()  # red lands in channel 2 (BGR), 0–255 kept


def test_mean_image_subtracted_before_crop():
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    mean = np.random.default_rng(1).uniform(0, 255, (3, 8, 8)).astype(np.float32)
    x = CaffeTransform(mean=mean, resize=8, crop=6)(img)
    ref = img[..., ::-1].transpose(2, 0, 1).astype(np.float32) - mean
    np.testing.assert_allclose(x.numpy(), ref[:, 1:7, 1:7])


def test_crop_order_corners_centre_then_mirrors():
    img = np.arange(5 * 5 * 3, dtype=np.uint8).reshape(5, 5, 3)
    crops = CaffeTransform(resize=5, crop=3, ten_crop=True)(img)
    blob = torch.from_numpy(img[..., ::-1].transpose(2, 0, 1).astype(np.float32).copy())
    expect = [blob[:, 0:3, 0:3], blob[:, 0:3, 2:5], blob[:, 2:5, 0:3], blob[:, 2:5, 2:5], blob[:, 1:4, 1:4]]
    for i, e in enumerate(expect):
        torch.testing.assert_close(crops[i], e)
        torch.testing.assert_close(crops[i + 5], e.flip(-1))


def test_ten_crop_average_is_the_mean_of_per_crop_outputs():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    crops = torch.randn(3, 10, 3, 2, 2)
    out = ten_crop_average(model, crops)
    ref = torch.stack([model(crops[b]).mean(0) for b in range(3)])
    torch.testing.assert_close(out, ref)


def test_bad_mean_shape_is_an_error():
    with pytest.raises(ValueError, match="mean must be"):
        CaffeTransform(mean=np.zeros((3, 100, 100)))
