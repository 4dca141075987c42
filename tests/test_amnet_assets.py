"""The shipped data/amnet maps: registered, honest about their pooling, aligned with the pseudo-labels,
and reproducible by the script (a few images recomputed through the real ResNet-152)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import ROOT, load_tool

from labkit import asset_path
from labkit.data.amnet_features import TEST_SOURCES, VAL_SOURCES, load_bundled_features
from labkit.data.images import bundled_images


def _script():
    return load_tool("make_amnet_assets")


def test_manifest_says_what_the_maps_are():
    entry = json.loads((ROOT / "data" / "amnet" / "MANIFEST.json").read_text())["amnet/layer3_7x7.npz"]
    assert "layer3" in entry["source"] and "average-pooled 2×2 to 1024×7×7" in entry["source"]
    assert entry["restore"].endswith("tools/make_amnet_assets.py")
    assert entry["bytes"] < 20e6


def test_bundle_is_aligned_and_split_by_source_photo():
    data = load_bundled_features()
    ims = bundled_images()
    assert data.features.shape == (len(ims), 1024, 7, 7)
    assert data.names == [im.name for im in ims]
    assert (data.features >= 0).all()  # layer3 ends in a ReLU; pooling keeps it non-negative
    tr, te = data.split()
    assert len(set(tr) & set(te)) == 0 and len(tr) + len(te) == len(ims)
    assert {data.sources[i] for i in te} == set(TEST_SOURCES)
    assert not {data.sources[i] for i in tr} & set(TEST_SOURCES)
    with pytest.raises(ValueError, match="unknown test sources"):
        data.split(["nope"])


def test_validation_photos_are_carved_from_training_photos_only():
    """The epoch is picked on whole validation photos, never on a crop of a training or test photo."""
    data = load_bundled_features()
    tr, va, te = data.train_val_test()
    src = np.array(data.sources)
    assert {*src[va]} == set(VAL_SOURCES) and {*src[te]} == set(TEST_SOURCES)
    assert not {*src[tr]} & ({*src[va]} | {*src[te]}) and len(tr) + len(va) + len(te) == len(src)
    with pytest.raises(ValueError, match="both validation and test"):
        data.train_val_test(val_sources=["coins"])


@pytest.mark.slow
def test_script_recomputes_shipped_maps(tmp_path):
    torch.set_num_threads(2)
    script = _script()
    ims = bundled_images()
    pick = [0, len(ims) - 1]
    maps = script.layer3_cache(root=tmp_path)([ims[i] for i in pick], batch_size=2, progress=False)
    assert maps.shape == (2, 1024, 14, 14)
    shipped = load_bundled_features().features[pick].numpy()
    with np.load(asset_path("amnet/layer3_7x7.npz")) as z:
        half_step = z["scale"][None, :, None, None] / 2  # the uint8 quantisation error bound
    gap = np.abs(script.pooled(maps) - shipped)
    assert (gap <= half_step + 2e-3).all(), f"max excess {(gap - half_step).max():.4f}"


@pytest.mark.parametrize("name, builder", [("amnet/layer3_7x7.npz", "make_layer3"),
                                           ("amnet/pasted_layer3_pca32.npz", "make_pasted_features")])
def test_each_manifest_restore_command_is_one_the_script_runs(name, builder, monkeypatch):
    """Both amnet assets are built by this script (its builders stubbed here): the MANIFEST's command reaches the
    builder of that asset, never the other, and registers it."""
    entry = json.loads((ROOT / "data" / "amnet" / "MANIFEST.json").read_text())[name]
    prefix = "PYTHONPATH=. python tools/make_amnet_assets.py"
    assert entry["restore"].startswith(prefix)
    script = _script()
    calls = []
    for fn in ("make_layer3", "make_pasted_features"):
        monkeypatch.setattr(script, fn, lambda *a, fn=fn: calls.append((fn, a)))
    script.main(entry["restore"][len(prefix):].split())
    assert [c[0] for c in calls] == [builder]
    if builder == "make_pasted_features":
        assert calls[0][1][1] is True, "the restore command must register the file it rebuilds"
