"""The shipped AMNet checkpoints (``data/amnet/``): the constructed pasted-object task's model size, its frozen
features, and loading the weights; and the small bundled feature file the notebook's sweep trains on.

Why a module of its own: ``tools/train_amnet_pasted.py`` trains them, notebook 03 draws their attention and
``tests/test_amnet_checkpoints.py`` recomputes their figures; all three must build the same features — ResNet-152
(ResMem weights) layer3 on the whole 224×224 canvas (resize only, no centre crop, so the target's box stays where
it was pasted) — and the same AMNet.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from labkit.core.assets import data_dir, register
from labkit.core.errors import CheckpointError
from labkit.data import pasted_objects as po
from labkit.data.amnet_features import PASTED, PASTED_COMPONENTS, PASTED_SIZES
from labkit.data.compression import principal_components, quantise_u8
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


def build_pasted_features(out: Path | None = None, cache: Path | None = None) -> Path:
    """Write ``data/amnet/pasted_layer3_pca32.npz`` (see :mod:`labkit.data.amnet_features`): the first
    ``PASTED_SIZES`` images of each split of the constructed task through :func:`features` (ResNet-152 layer3,
    14×14), projected on the top ``PASTED_COMPONENTS`` principal components of the *training* cells, stored uint8
    per component (x ≈ lo + q·scale, the range of the training images; held-out values outside it are clipped)."""
    out = out or data_dir() / PASTED
    sets = {s: po.make_split(s) for s in PASTED_SIZES}  # whole splits: their cache is the training script's
    maps = {s: features(sets[s].images, cache / f"layer3_{s}.pt" if cache else None)[:n]
            for s, n in PASTED_SIZES.items()}
    mean, comps, explained = pca_components(maps["train"], PASTED_COMPONENTS)
    proj = {s: torch.einsum("nchw,ck->nkhw", m - mean[None, :, None, None], comps) for s, m in maps.items()}
    lo, hi = proj["train"].amin((0, 2, 3)), proj["train"].amax((0, 2, 3))
    scale = (hi - lo) / 255
    x = torch.cat(list(proj.values()))
    q = quantise_u8(x.numpy(), lo.numpy()[None, :, None, None], scale.numpy()[None, :, None, None])
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, features_u8=q, lo=lo.numpy(), scale=scale.numpy(), mean=mean.numpy(), components=comps.numpy(),
        explained=explained.numpy(), split=np.array([s for s, n in PASTED_SIZES.items() for _ in range(n)]),
        targets=np.concatenate([sets[s].targets[:n] for s, n in PASTED_SIZES.items()]),
        boxes=np.concatenate([sets[s].boxes[:n] for s, n in PASTED_SIZES.items()]).astype(np.int16))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m labkit.models.amnet_pretrained --pasted-features [--register]``: rebuild the bundled sweep features."""
    ap = argparse.ArgumentParser(description="rebuild data/amnet/pasted_layer3_pca32.npz (notebook 03's sweep)")
    ap.add_argument("--pasted-features", action="store_true", required=True)
    ap.add_argument("--cache", default="runs/train_amnet", help="feature cache shared with tools/train_amnet_pasted.py")
    ap.add_argument("--register", action="store_true", help="write its MANIFEST entry")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    cached = all((Path(args.cache) / f"layer3_{s}.pt").is_file() for s in PASTED_SIZES)
    path = build_pasted_features(cache=Path(args.cache))
    with np.load(path) as z:
        shares = z["explained"]
    print(f"{path.name}: {path.stat().st_size / 2**20:.2f} MiB; {PASTED_COMPONENTS} components keep "
          f"{shares.sum():.1%} of the training cells' variance; {time.perf_counter() - t0:.0f} s")
    if args.register:
        sizes = ", ".join(f"{n} {s}" for s, n in PASTED_SIZES.items())
        register(PASTED, f"CONSTRUCTED pasted-object task (labkit.data.pasted_objects; target: 1 when the framed patch is "
                 f"a face): the first {sizes} images' ResNet-152 layer3 maps (ResMem weights, 224×224 canvas, 14×14, "
                 f"as the shipped checkpoints) projected on the top {PASTED_COMPONENTS} principal components of the "
                 f"training cells ({shares.sum():.1%} of their variance), uint8 per component (x ≈ lo + q·scale); "
                 f"with targets, target boxes, the projection (mean, components) and the split of each row; "
                 f"built on {platform.machine()} in {time.perf_counter() - t0:.0f} s "
                 + (f"from the maps cached in {args.cache}/ by tools/train_amnet_pasted.py" if cached
                    else "(the ResNet-152 pass included)"),
                 "ResMem weights: non-commercial licence of the University of Chicago (resmem==1.1.6 on PyPI); images "
                 "constructed from scikit-image's lfw_subset patches pasted on the bundled photos (scikit-image / "
                 "scikit-learn sample-image licences)",
                 restore="PYTHONPATH=. python -m labkit.models.amnet_pretrained --pasted-features --register")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
