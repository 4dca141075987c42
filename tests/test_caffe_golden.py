"""The converter against outputs of REAL Caffe (golden files from tools/caffe_reference/make_goldens.py)."""

import json

import numpy as np
import pytest
import torch

from labkit import asset_path
from labkit.caffe import load_caffe_model

NETS = ["pool_rules", "conv_rules", "lrn_rules", "graph_rules", "v1_net", "tiny_memnet"]


def _max_rel_err(ref: np.ndarray, got: np.ndarray) -> float:
    return float(np.abs(ref - got).max() / max(np.abs(ref).max(), 1e-12))


@pytest.mark.parametrize("name", NETS)
def test_every_blob_matches_real_caffe(name):
    model = load_caffe_model(asset_path(f"caffe/{name}.prototxt"), asset_path(f"caffe/{name}.caffemodel"))
    gold = np.load(asset_path(f"caffe/{name}_blobs.npz"))
    with torch.inference_mode():
        blobs = model.forward_blobs(torch.from_numpy(gold["input"]))
    compared = 0
    for key in gold.files:
        if key == "input" or "_split_" in key:  # Caffe's automatic Split copies of a blob
            continue
        assert blobs[key].shape == gold[key].shape, key
        assert _max_rel_err(gold[key], blobs[key].numpy()) <= 1e-5, key
        compared += 1
    assert compared >= 3
    last = [k for k in gold.files if "_split_" not in k][-1]
    torch.testing.assert_close(model(torch.from_numpy(gold["input"])), torch.from_numpy(gold[last]), rtol=0, atol=1e-5 * np.abs(gold[last]).max())


def test_ceil_pooling_shapes_are_caffe_not_floor():
    gold = np.load(asset_path("caffe/pool_rules_blobs.npz"))
    assert gold["pool_ceil"].shape[-1] == 4  # floor rounding would give 3
    assert gold["pool_clip"].shape[-1] == 3  # plain ceil would give 4; Caffe clips the last window


def test_lenet_trained_by_caffe_gives_identical_predictions():
    model = load_caffe_model(asset_path("caffe/lenet_deploy.prototxt"), asset_path("caffe/lenet.caffemodel"))
    gold = np.load(asset_path("caffe/lenet_test.npz"))
    x = torch.from_numpy(gold["images"].astype(np.float32) * 0.00390625)[:, None]
    with torch.inference_mode():
        prob = model(x).numpy()
    assert np.abs(prob - gold["caffe_prob"]).max() <= 1e-5
    np.testing.assert_array_equal(prob.argmax(1), gold["caffe_prob"].argmax(1))
    summary = json.loads(asset_path("caffe/summary.json").read_text())
    acc = float((prob.argmax(1) == gold["labels"]).mean())
    assert acc == pytest.approx(summary["lenet"]["caffe_deploy_accuracy"], abs=1e-9)
    assert acc > 0.9  # a trained net, not noise
