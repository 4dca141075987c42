"""Notebook 03's inputs: cached layer3 maps of the bundled photos with their ResMem pseudo-labels,
split by *source photo* so no crop of a test photo is seen in training.

The maps are ``data/amnet/layer3_7x7.npz`` (see ``tools/make_amnet_assets.py``: ResNet-152 layer3
at 224×224, 2×2 average-pooled to 7×7, uint8 per channel: x ≈ features_u8 · scale[c]). The targets are ``data/resmem/pseudo_labels.csv``:
**ResMem's predictions, not human memorability** — a stand-in that lets the notebook train offline.

The 0/1 study (AMNet-Rumor's workflow, and ``labkit sweep`` over it) trains on :func:`binary_study`:
``"pasted"``, the **constructed** pasted-object task (``labkit.data.pasted_objects``: 1 when the framed patch is a
face), from ``data/amnet/pasted_layer3_pca32.npz`` — its 14×14 layer3 maps, like the shipped checkpoints', but
projected on 32 principal components so 680 images fit in a few MB (``python tools/make_amnet_assets.py
--pasted-features`` rebuilds it); or ``"photos"``, the bundled photos' median split of the pseudo-labels.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from labkit.core.assets import asset_path
from labkit.data.images import BundledImage, bundled_images
from labkit.data.lamem import median_split

FEATURES = "amnet/layer3_7x7.npz"
LABELS = "resmem/pseudo_labels.csv"
#: Source photos held out for testing (all their crops); chosen to mix textures, objects and scenes.
TEST_SOURCES: tuple[str, ...] = ("chelsea", "coins", "grass", "rocket", "china")
#: Source photos held out for validation (all their crops): they pick the training epoch, so the test photos are
#: scored once and never choose the model. Chosen by pseudo-label alone, never by a model's score: a low, a middle
#: and a high photo among the training ones (mean 0.72, 0.78, 0.90), so that validation, like test, asks for a
#: ranking across the range — three photos of similar score would make its ρ mostly noise.
VAL_SOURCES: tuple[str, ...] = ("hubble_deep_field", "astronaut", "page")
PASTED = "amnet/pasted_layer3_pca32.npz"
PASTED_SIZES = {"train": 400, "val": 100, "test": 180}  # the first N of each split of pasted_objects (test: all)
PASTED_COMPONENTS = 32
DATASETS = {"pasted": "constructed pasted-object task (face = 1)",
            "photos": "bundled photos, stand-in labels (pseudo-label above its median = 1)"}


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

    def train_val_test(self, val_sources: Sequence[str] = VAL_SOURCES,
                       test_sources: Sequence[str] = TEST_SOURCES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Index arrays (train, val, test), split by source photo: validation picks the epoch, test is scored once.

        Why by source photo: crops of one photo share their content, so a crop in validation whose sibling was
        trained on would reward memorising that photo — the overfitting the split is there to catch."""
        if set(val_sources) & set(test_sources):
            raise ValueError(f"a source photo cannot be both validation and test: {sorted(set(val_sources) & set(test_sources))}")
        train, test = self.split(test_sources)
        _, val = self.split(val_sources)
        return np.setdiff1d(train, val), val, test


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


@dataclass
class BinaryStudy:
    """A 0/1 task on cached feature maps, with the name its numbers are shown under."""

    name: str
    features: torch.Tensor  # (N, C, h, w) float32
    labels: np.ndarray  # (N,) int64, 0 or 1
    train: np.ndarray  # index arrays into the rows
    test: np.ndarray
    val: np.ndarray | None = None  # picks the epoch when given
    boxes: np.ndarray | None = None  # (N, 4) the constructed target's (top, left, bottom, right), canvas pixels

    def describe(self) -> str:
        n = lambda idx: f"{len(idx)} ({int(self.labels[idx].sum())} ones)"  # noqa: E731
        val = f", val {n(self.val)}" if self.val is not None else ""
        return f"{self.name}: maps {tuple(self.features.shape[1:])}; train {n(self.train)}{val}, test {n(self.test)}"


def load_pasted_features() -> BinaryStudy:
    """The bundled features of the **constructed** pasted-object task (target 1: the framed patch is a face)."""
    with np.load(asset_path(PASTED)) as z:
        x = z["features_u8"].astype(np.float32) * z["scale"][None, :, None, None] + z["lo"][None, :, None, None]
        split, labels, boxes = z["split"].astype(str), z["targets"].astype(np.int64), z["boxes"].astype(np.int64)
    idx = {s: np.flatnonzero(split == s) for s in PASTED_SIZES}
    return BinaryStudy(DATASETS["pasted"], torch.from_numpy(x), labels, idx["train"], idx["test"], idx["val"], boxes)


def binary_study(dataset: str) -> BinaryStudy:
    """Notebook 03's bundled 0/1 study: ``"pasted"`` (constructed, see the module doc) or ``"photos"``."""
    if dataset == "pasted":
        return load_pasted_features()
    if dataset == "photos":
        data = load_bundled_features()
        labels, _ = median_split(data.pseudo_labels)
        train, val, test = data.train_val_test()
        return BinaryStudy(DATASETS["photos"], data.features, labels, train, test, val)
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}")
