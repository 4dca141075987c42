"""Write notebook 03's bundled assets in data/amnet/ and register them in data/amnet/MANIFEST.json.

**layer3_7x7.npz** (the default):

What it holds: the frozen ResNet-152 (ResMem weights) **layer3** feature maps of the bundled image set
(``labkit.data.images.bundled_images()``, 324 images) at a 224×224 input — 1024×14×14, the shape AMNet
took from ResNet-50 — **average-pooled 2×2 to 1024×7×7** and **quantised to uint8 per channel**
(``features_u8`` × ``scale[c]``, scale = the channel's maximum over the set / 255; the error is at most
0.2% of that channel's maximum), zip-compressed: about 10 MB.

Why: 324 × 1024 × 14 × 14 float16 is 130 MB and even 7×7 float16 is 22 MB, far over what a topic may
bundle; 2×2 average pooling keeps every image and every channel (what the LSTM attends over) at
a quarter of the locations (L = 49 instead of 196). The model is the same code for any L;
``data_root`` (your own images) runs it at the original 14×14. The attention maps in the notebook
are therefore 7×7, coarser than the paper's.

The CNN runs through :class:`labkit.data.feature_cache.FeatureCache` (``.cache/`` in the repo), so a
second run of this script only re-packs. ``tests/test_amnet_assets.py`` recomputes a few images.

    PYTHONPATH=. python tools/make_amnet_assets.py          # ~3-6 min on 2 cores the first time

**pasted_layer3_pca32.npz** (``--pasted-features``; see :mod:`labkit.data.amnet_features`): the constructed
pasted-object task's layer3 maps as the shipped AMNet checkpoints see them (:func:`labkit.models.amnet_pretrained.
features`), projected on the top principal components of the training cells, uint8 per component — what notebook
03's sweep trains on. It reuses the maps ``tools/train_amnet_pasted.py`` cached (``--cache``).

    PYTHONPATH=. python tools/make_amnet_assets.py --pasted-features --register
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from labkit.core.assets import data_dir, register
from labkit.data import pasted_objects as po
from labkit.data.amnet_features import PASTED, PASTED_COMPONENTS, PASTED_SIZES
from labkit.data.compression import quantise_u8
from labkit.data.feature_cache import FeatureCache, weights_fingerprint
from labkit.data.images import SOURCE_LICENSE, bundled_images
from labkit.models.amnet_pretrained import features, pca_components
from labkit.models.backbones import FeatureExtractor, Preprocess, resnet152

GROUP = "amnet"
FEATURES = f"{GROUP}/layer3_7x7.npz"
RESTORE = "PYTHONPATH=. python tools/make_amnet_assets.py"
PASTED_RESTORE = f"{RESTORE} --pasted-features --register"
PREPROCESS = Preprocess(resize=256, crop=224)
POOL = 2  # 14×14 → 7×7
RESMEM_LICENSE = "ResMem weights: non-commercial licence of the University of Chicago (resmem==1.1.6 on PyPI)"


def pooled(maps: torch.Tensor, pool: int = POOL) -> np.ndarray:
    """(N, 1024, 14, 14) float32 → (N, 1024, 7, 7) float32."""
    return F.avg_pool2d(maps, pool).numpy()


def quantise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, h, w) non-negative floats → (uint8 codes, per-channel scale (C,) float32); x ≈ codes · scale."""
    if (x < 0).any():
        raise ValueError("quantise expects non-negative maps (layer3 ends in a ReLU)")
    scale = (x.max(axis=(0, 2, 3)) / 255.0).astype(np.float32)
    scale[scale == 0] = 1.0
    return quantise_u8(x, np.float32(0), scale[None, :, None, None]), scale


def layer3_cache(root: Path | None = None) -> FeatureCache:
    """The cache the script (and the asset test) computes layer3 maps through."""
    fx = FeatureExtractor(resnet152("resmem"), "layer3").eval()
    identity = {"weights": weights_fingerprint(fx.state_dict()), "stage": "layer3", "preprocess": repr(PREPROCESS)}
    return FeatureCache(fx, PREPROCESS.batch, identity, root=root or Path(__file__).resolve().parents[1] / ".cache")


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


def make_pasted_features(cache: Path, registering: bool) -> None:
    """Rebuild the bundled sweep features (with ``registering``, write their MANIFEST entry)."""
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    cached = all((cache / f"layer3_{s}.pt").is_file() for s in PASTED_SIZES)
    path = build_pasted_features(cache=cache)
    with np.load(path) as z:
        shares = z["explained"]
    print(f"{path.name}: {path.stat().st_size / 2**20:.2f} MiB; {PASTED_COMPONENTS} components keep "
          f"{shares.sum():.1%} of the training cells' variance; {time.perf_counter() - t0:.0f} s")
    if not registering:
        return
    sizes = ", ".join(f"{n} {s}" for s, n in PASTED_SIZES.items())
    register(PASTED, f"CONSTRUCTED pasted-object task (labkit.data.pasted_objects; target: 1 when the framed patch is "
             f"a face): the first {sizes} images' ResNet-152 layer3 maps (ResMem weights, 224×224 canvas, 14×14, "
             f"as the shipped checkpoints) projected on the top {PASTED_COMPONENTS} principal components of the "
             f"training cells ({shares.sum():.1%} of their variance), uint8 per component (x ≈ lo + q·scale); "
             f"with targets, target boxes, the projection (mean, components) and the split of each row; "
             f"built on {platform.machine()} in {time.perf_counter() - t0:.0f} s "
             + (f"from the maps cached in {cache}/ by tools/train_amnet_pasted.py" if cached
                else "(the ResNet-152 pass included)"),
             f"{RESMEM_LICENSE}; images constructed from scikit-image's lfw_subset patches pasted on the bundled "
             "photos (scikit-image / scikit-learn sample-image licences)",
             restore=PASTED_RESTORE)


def make_layer3(batch_size: int) -> None:
    """Rebuild and register the bundled photos' pooled layer3 maps."""
    torch.set_num_threads(2)
    images = bundled_images()
    maps = layer3_cache()(images, batch_size=batch_size)  # (N, 1024, 14, 14)
    out = data_dir() / FEATURES
    out.parent.mkdir(parents=True, exist_ok=True)
    codes, scale = quantise(pooled(maps))
    np.savez_compressed(out, features_u8=codes, scale=scale, names=np.array([im.name for im in images]))
    register(
        FEATURES,
        source=(
            "frozen ResNet-152 (ResMem weights, resmem==1.1.6) layer3 maps at 224×224 input "
            "(Resize 256 → CenterCrop 224, no normalisation), average-pooled 2×2 to 1024×7×7, uint8 per-channel "
            "quantised (x ≈ features_u8 · scale[c]), "
            "on labkit.data.images.bundled_images()"
        ),
        license=f"{RESMEM_LICENSE}; images: {SOURCE_LICENSE}",
        restore=RESTORE,
    )
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(images)} images)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--pasted-features", action="store_true",
                    help="build pasted_layer3_pca32.npz (notebook 03's sweep) instead of layer3_7x7.npz")
    ap.add_argument("--cache", default="runs/train_amnet", help="--pasted-features: the feature cache shared with "
                    "tools/train_amnet_pasted.py")
    ap.add_argument("--register", action="store_true", help="--pasted-features: write its MANIFEST entry")
    args = ap.parse_args(argv)
    if args.pasted_features:
        make_pasted_features(Path(args.cache), args.register)
    else:
        make_layer3(args.batch_size)


if __name__ == "__main__":
    main()
