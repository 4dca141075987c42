"""Write notebook 02's bundled assets under data/resmem/ and register them in its MANIFEST.json.

- ``pseudo_labels.csv``: ResMem's score for every image of the bundled set
  (``labkit.data.images.bundled_images()``: name, source photo, crop box). These are
  **PSEUDO-LABELS produced by the ResMem model, not human memorability scores**: they let the
  notebook train and check heads offline, and say nothing about how memorable people find the photos.
- ``features.npz``: the frozen inputs of ResMem's regression head for the same images, float16:
  ``alex`` (N, 9216) AlexNet-branch features, ``resnet`` (N, 1000) ResNet-152 outputs, ``names``.

Reproducible: same package versions, same images, same code → same files (up to float16 rounding
of CPU kernels). ``tests/test_resmem_assets.py`` recomputes a few rows and compares.

    PYTHONPATH=. python tools/make_resmem_assets.py            # ~5 min on 2 cores
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from labkit.core.assets import data_dir, register
from labkit.data.images import SOURCE_LICENSE, BundledImage, bundled_images
from labkit.models import resmem

GROUP = "resmem"
LABELS = f"{GROUP}/pseudo_labels.csv"
FEATURES = f"{GROUP}/features.npz"
RESTORE = "PYTHONPATH=. python tools/make_resmem_assets.py"
RESMEM_LICENSE = "ResMem weights: non-commercial licence of the University of Chicago (resmem==1.1.6 on PyPI)"
CSV_COLUMNS = ["name", "source", "left", "top", "right", "bottom", "resmem_pseudo_label"]


def compute(
    model: resmem.ResMem, images: Sequence[BundledImage], batch_size: int = 16, progress: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores (N,) float32 from the full-precision features, alex (N, 9216) float16, resnet (N, 1000) float16)."""
    alex, res = resmem.extract_features(model, [im.load() for im in images], batch_size, progress)
    with torch.inference_mode():
        scores = model.head(torch.cat([torch.from_numpy(alex), torch.from_numpy(res)], 1)).numpy()
    return scores.astype(np.float32), alex.astype(np.float16), res.astype(np.float16)


def labels_csv(images: Sequence[BundledImage], scores: np.ndarray) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for im, s in zip(images, scores, strict=True):
        w.writerow([im.name, im.source, *im.box, f"{float(s):.6f}"])
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--register-only", action="store_true", help="refresh the manifest entries of existing files")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    images = bundled_images()
    out = data_dir() / GROUP
    if not args.register_only:
        model = resmem.load_pretrained()
        scores, alex, res = compute(model, images, args.batch_size)
        out.mkdir(parents=True, exist_ok=True)
        Path(data_dir() / LABELS).write_text(labels_csv(images, scores))
        np.savez_compressed(data_dir() / FEATURES, names=np.array([im.name for im in images]), alex=alex, resnet=res)
    src = "ResMem (resmem==1.1.6) on labkit.data.images.bundled_images()"
    register(LABELS, f"PSEUDO-LABELS, not human memorability: scores predicted by {src}",
             f"{RESMEM_LICENSE}; images: {SOURCE_LICENSE}", RESTORE)
    register(FEATURES, f"frozen ResMem head inputs (alex 9216-d, resnet 1000-d, float16) from {src}",
             f"{RESMEM_LICENSE}; images: {SOURCE_LICENSE}", RESTORE)
    print(f"{'registered' if args.register_only else 'wrote'} {len(images)} pseudo-labels and features in {out}")


if __name__ == "__main__":
    main()
