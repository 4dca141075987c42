"""MemNet's full-size topology (written from the paper) converts, with weights generated here."""

import json

import numpy as np
import pytest
import torch

from labkit import asset_path
from labkit.caffe import read_caffemodel
from labkit.caffe.writer import write_caffemodel, write_mean_binaryproto
from labkit.models import memnet


def test_deploy_prototxt_matches_what_real_caffe_built_from_it():
    summary = json.loads(asset_path("caffe/summary.json").read_text())["memnet"]
    assert {k: [tuple(s) for s in v] for k, v in summary["params"].items()} == memnet.PARAM_SHAPES
    assert summary["blobs"]["pool5"] == [10, 256, 6, 6]


@pytest.mark.slow
def test_full_size_memnet_converts_and_runs(tmp_path):
    rng = np.random.default_rng(0)
    weights = {name: [rng.standard_normal(s, dtype=np.float32) * 0.01 for s in shapes]
               for name, shapes in memnet.PARAM_SHAPES.items()}
    write_caffemodel(tmp_path / "memnet.caffemodel", weights, types={"fc6": "InnerProduct"})
    write_mean_binaryproto(tmp_path / "mean.binaryproto", np.full((3, 256, 256), 110, np.float32))
    loaded = read_caffemodel(tmp_path / "memnet.caffemodel")
    assert loaded["fc6"][0].shape == (4096, 9216)
    np.testing.assert_array_equal(loaded["conv2"][0], weights["conv2"][0])
    model, transform = memnet.load_pretrained(tmp_path / "memnet.caffemodel", mean=tmp_path / "mean.binaryproto")
    torch.testing.assert_close(model.layers["fc6"].linear.weight, torch.from_numpy(weights["fc6"][0]))
    assert model.layers["conv2"].groups == 2 and model.layers["conv5"].groups == 2
    x = transform(np.full((300, 400, 3), 120, np.uint8))
    assert x.shape == (3, 227, 227)
    with torch.inference_mode():
        blobs = model.forward_blobs(torch.stack([x, x.flip(-1)]))
    assert blobs["pool5"].shape == (2, 256, 6, 6)
    assert blobs["fc8-euclidean"].shape == (2, 1)
