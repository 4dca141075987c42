"""Write notebook 03's bundled asset data/amnet/layer3_7x7.npz and register it in data/amnet/MANIFEST.json.

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
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from labkit.core.assets import data_dir, register
from labkit.data.compression import quantise_u8
from labkit.data.feature_cache import FeatureCache, weights_fingerprint
from labkit.data.images import SOURCE_LICENSE, bundled_images
from labkit.models.backbones import FeatureExtractor, Preprocess, resnet152

GROUP = "amnet"
FEATURES = f"{GROUP}/layer3_7x7.npz"
RESTORE = "PYTHONPATH=. python tools/make_amnet_assets.py"
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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    images = bundled_images()
    maps = layer3_cache()(images, batch_size=args.batch_size)  # (N, 1024, 14, 14)
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


if __name__ == "__main__":
    main()
