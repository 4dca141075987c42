"""The shipped AMNet checkpoints (``data/amnet/``): the constructed pasted-object task's model size, its frozen
features, and loading the weights (the bundled sweep features built from them: ``tools/make_amnet_assets.py
--pasted-features``).

Why a module of its own: ``tools/train_amnet_pasted.py`` trains them, notebook 03 draws their attention and
``tests/test_amnet_checkpoints.py`` recomputes their figures; all three must build the same features — ResNet-152
(ResMem weights) layer3 on the whole 224×224 canvas (resize only, no centre crop, so the target's box stays where
it was pasted) — and the same AMNet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from labkit.core.errors import CheckpointError
from labkit.data.compression import principal_components
from labkit.models import shipped
from labkit.models.amnet import FEATURES, AMNet, checked_model, recipe_features

# quick-profile sizes (D 128, H 256 instead of the paper's 512, 1024), 3 steps, binary constructed target around 0.5
CONFIG = {"in_channels": 1024, "locations": 196, "d": 128, "hidden": 256, "lstm_steps": 3, "target_mean": 0.5}
# the whole canvas, resized only (no centre crop), so each target box stays where it was pasted
RECIPE = {**FEATURES, "resize": 224, "crop": 224, "pool": 1}


def features(images: Sequence[Image.Image], cache: Path | None = None, batch_size: int = 16,
             progress: bool = False) -> torch.Tensor:
    """(N, 1024, 14, 14) layer3 maps, rounded to float16 (how the training script caches them) and returned as float32;
    ``cache`` (a .pt file) keeps them between runs of the training script."""
    key = _fingerprint(images)
    if cache is not None and cache.is_file():
        saved = torch.load(cache, weights_only=True)
        if isinstance(saved, dict) and saved.get("key") == key:
            return saved["maps"].float()
    maps = recipe_features(images, RECIPE, batch_size, progress).half()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"maps": maps, "key": key}, cache)
    return maps.float()  # always through float16, so cached and fresh maps are the same numbers


def _fingerprint(images: Sequence[Image.Image]) -> str:
    """A hash of the images' pixels: a cache of other images (an older version of the task) is never reused."""
    import hashlib

    h = hashlib.sha256()
    for im in images:
        h.update(im.tobytes())
    return h.hexdigest()


def _build(record: dict, contents: dict, path: Path) -> AMNet:
    """AMNet's files carry their configuration and feature recipe (:func:`labkit.models.amnet.save_checkpoint`):
    the model is built from the file's, which must agree with what the MANIFEST recorded and with :data:`RECIPE`."""
    model = checked_model(contents, path)
    drift = {k: v for k, v in record["config"].items() if contents["config"].get(k) != v}
    if drift or contents["features"] != RECIPE:
        raise CheckpointError(f"disagrees with its MANIFEST record (config {drift}) or with the features it was "
                              f"trained on (recipe {contents['features']})", path=path, fix=f"retrain it: {record['command']}")
    return model


# one run trains both kinds and every seed, and registers seed 0
FAMILY = shipped.register(shipped.Family(
    "amnet", "amnet_pasted", "AMNet", _build, lambda kind, seed: "PYTHONPATH=. python tools/train_amnet_pasted.py "
    "--register --threads 1", weights=lambda contents: contents["state_dict"]))


def load_pretrained(kind: str = "attention", seed: int = 0) -> AMNet:
    """``kind``: attention | attoff (the uniform-attention ablation)."""
    if kind not in ("attention", "attoff"):
        raise ValueError(f"kind must be 'attention' or 'attoff', got {kind!r}")
    return FAMILY.load(kind, seed)


def pca_components(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean (C,), components (C, k), explained-variance share (k,)) of the C-channel vectors of every cell of
    ``x`` (N, C, h, w): exact (:func:`~labkit.data.compression.principal_components`, float64), each component's
    sign fixed so that its largest-magnitude weight is positive — the same numbers on every run and machine up to
    rounding."""
    mean, comps, var = principal_components(x.permute(0, 2, 3, 1).reshape(-1, x.shape[1]).numpy(), k, fix_signs=True)
    return (torch.from_numpy(mean).float(), torch.from_numpy(comps.T.copy()).float(),
            torch.from_numpy(var[:k] / var.sum()).float())
