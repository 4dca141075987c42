"""Notebook 01's trap explorer: each porting mistake damages exactly the blobs it should, against real Caffe."""

import numpy as np
import pytest

import labkit
from labkit.caffe import load_caffe_model
from labkit.caffe.traps import TRAPS, trap_errors, trap_input, with_traps

EQUAL = 1e-5


@pytest.fixture(scope="module")
def tiny():
    net = load_caffe_model(labkit.asset_path("caffe/tiny_memnet.prototxt"), labkit.asset_path("caffe/tiny_memnet.caffemodel"))
    return net, dict(np.load(labkit.asset_path("caffe/tiny_memnet_blobs.npz")))


def _first_damaged(errors):
    return next((k for k, v in errors.items() if not v <= EQUAL), None)


@pytest.mark.parametrize(("traps", "first"), [
    ([], None),  # the correct port equals Caffe everywhere
    (["floor_pooling"], None),  # silent: every pool of AlexNet at 227 has (size - 3) even
    (["alpha_not_divided"], "norm1"),
    (["rgb_input"], "conv1"),
    (["unit_scale_input"], "conv1"),
    (["hwc_flatten"], "fc6"),
    (["hwc_flatten", "alpha_not_divided"], "norm1"),
])
def test_each_trap_first_damages_the_layer_it_belongs_to(tiny, traps, first):
    assert _first_damaged(trap_errors(*tiny, traps)) == first


def test_floor_pooling_changes_a_shape_where_ceil_matters(tiny):
    import torch

    net, _ = tiny
    x = torch.zeros(1, 16, 56, 56)  # (56 - 3) is odd: Caffe's ceil keeps a last, clipped window
    ok, bad = net.layers["pool1"](x), with_traps(net, ["floor_pooling"]).layers["pool1"](x)
    assert (ok.shape[-1], bad.shape[-1]) == (28, 27)


def test_traps_leave_the_original_net_untouched_and_refuse_unknown_names(tiny):
    net, blobs = tiny
    with_traps(net, list(TRAPS))
    assert _first_damaged(trap_errors(net, blobs, [])) is None
    with pytest.raises(ValueError, match="unknown trap"):
        trap_errors(net, blobs, ["ceil"])
    x = np.zeros((1, 3, 2, 2), np.float32)
    import torch
    assert torch.equal(trap_input(torch.from_numpy(x), []), torch.from_numpy(x))
