"""The shipped data/resmem files: registered, labelled as pseudo-labels, and reproducible by the script."""

from __future__ import annotations

import csv
import json

import numpy as np
import torch
from helpers import ROOT, load_tool

from labkit import asset_path
from labkit.data.images import bundled_images


def _script():
    return load_tool("make_resmem_assets")


def _rows() -> list[dict]:
    with open(asset_path("resmem/pseudo_labels.csv"), newline="") as f:
        return list(csv.DictReader(f))


def test_manifest_says_pseudo_labels_and_how_to_restore():
    manifest = json.loads((ROOT / "data" / "resmem" / "MANIFEST.json").read_text())
    entry = manifest["resmem/pseudo_labels.csv"]
    assert "PSEUDO-LABELS" in entry["source"] and "not human memorability" in entry["source"]
    assert "non-commercial" in entry["license"]
    assert entry["restore"].endswith("tools/make_resmem_assets.py")
    assert "resmem/features.npz" in manifest


def test_files_cover_the_bundled_set_in_order():
    rows = _rows()
    ims = bundled_images()
    assert [r["name"] for r in rows] == [im.name for im in ims]
    assert [tuple(int(r[k]) for k in ("left", "top", "right", "bottom")) for r in rows] == [im.box for im in ims]
    scores = np.array([float(r["resmem_pseudo_label"]) for r in rows])
    assert ((scores > 0) & (scores < 1)).all() and scores.std() > 0.01
    with np.load(asset_path("resmem/features.npz")) as z:
        assert z["alex"].shape == (len(ims), 9216) and z["resnet"].shape == (len(ims), 1000)
        assert z["alex"].dtype == np.float16
        assert list(z["names"]) == [im.name for im in ims]


def test_head_on_cached_features_gives_the_cached_pseudo_labels(resmem_model):
    scores = np.array([float(r["resmem_pseudo_label"]) for r in _rows()], dtype=np.float32)
    with np.load(asset_path("resmem/features.npz")) as z:
        feats = torch.from_numpy(np.concatenate([z["alex"], z["resnet"]], 1).astype(np.float32))
    with torch.inference_mode():
        from_cache = resmem_model.head(feats).numpy()
    assert np.abs(from_cache - scores).max() < 5e-3  # float16 storage of the features, nothing more


def test_script_recomputes_shipped_rows(resmem_model):
    script = _script()
    ims = bundled_images()
    pick = [0, 7, len(ims) - 1]  # a full photo, a crop, the last crop
    scores, alex, res = script.compute(resmem_model, [ims[i] for i in pick], batch_size=3, progress=False)
    rows = _rows()
    np.testing.assert_allclose(scores, [float(rows[i]["resmem_pseudo_label"]) for i in pick], atol=2e-6)
    with np.load(asset_path("resmem/features.npz")) as z:
        np.testing.assert_allclose(alex.astype(np.float32), z["alex"][pick].astype(np.float32), rtol=2e-3, atol=2e-3)
        np.testing.assert_allclose(res.astype(np.float32), z["resnet"][pick].astype(np.float32), rtol=2e-3, atol=2e-3)
