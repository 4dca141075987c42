"""Notebook 03's inputs: cached layer3 maps of the bundled photos with their ResMem pseudo-labels,
split by *source photo* so no crop of a test photo is seen in training.

The maps are ``data/amnet/layer3_7x7.npz`` (see ``tools/make_amnet_assets.py``: ResNet-152 layer3
at 224×224, 2×2 average-pooled to 7×7, uint8 per channel: x ≈ features_u8 · scale[c]). The targets are ``data/resmem/pseudo_labels.csv``:
**ResMem's predictions, not human memorability** — a stand-in that lets the notebook train offline.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from labkit.core.assets import asset_path
from labkit.data.images import BundledImage, bundled_images

FEATURES = "amnet/layer3_7x7.npz"
LABELS = "resmem/pseudo_labels.csv"
#: Source photos held out for testing (all their crops); chosen to mix textures, objects and scenes.
TEST_SOURCES: tuple[str, ...] = ("chelsea", "coins", "grass", "rocket", "china")


@dataclass
class BundledFeatures:
    names: list[str]
    sources: list[str]
    features: torch.Tensor  # (N, 1024, 7, 7) float32
    pseudo_labels: np.ndarray  # (N,) ResMem pseudo-memorability
    images: list[BundledImage]

    def split(self, test_sources: Sequence[str] = TEST_SOURCES) -> tuple[np.ndarray, np.ndarray]:
        """Index arrays (train, test): every crop of a test source photo goes to test."""
        unknown = set(test_sources) - set(self.sources)
        if unknown:
            raise ValueError(f"unknown test sources {sorted(unknown)}; choose from {sorted(set(self.sources))}")
        is_test = np.isin(self.sources, list(test_sources))
        return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def load_bundled_features() -> BundledFeatures:
    """The bundled maps and pseudo-labels, checked to describe the same images in the same order."""
    with np.load(asset_path(FEATURES)) as z:
        feats = torch.from_numpy(z["features_u8"].astype(np.float32) * z["scale"][None, :, None, None])
        names = [str(n) for n in z["names"]]
    with open(asset_path(LABELS), newline="") as f:
        rows = {r["name"]: r for r in csv.DictReader(f)}
    missing = [n for n in names if n not in rows]
    if missing:
        raise ValueError(f"{len(missing)} feature rows have no pseudo-label (e.g. {missing[0]}); rerun the tools")
    images = {im.name: im for im in bundled_images()}
    return BundledFeatures(
        names=names,
        sources=[rows[n]["source"] for n in names],
        features=feats,
        pseudo_labels=np.array([float(rows[n]["resmem_pseudo_label"]) for n in names], dtype=np.float32),
        images=[images[n] for n in names],
    )
