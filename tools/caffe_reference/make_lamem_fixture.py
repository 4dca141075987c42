"""Write a tiny LaMem-format fixture: synthetic images + pseudo scores in LaMem's exact split format.

The images are synthetic (coloured blobs on gradients) and the scores are PSEUDO memorability: a fixed
formula of image contrast plus noise, clipped to LaMem's typical range. They exist to exercise the
loader, Spearman and the distribution check honestly; they say nothing about real memorability.
usage: python tools/caffe_reference/make_lamem_fixture.py
"""

import numpy as np
from PIL import Image

from labkit.core.assets import data_dir, register

root = data_dir() / "caffe" / "lamem_fixture"
(root / "images").mkdir(parents=True, exist_ok=True)
(root / "splits").mkdir(exist_ok=True)
rng = np.random.RandomState(0)
yy, xx = np.mgrid[0:64, 0:64] / 63.0
lines = []
for i in range(40):
    contrast = rng.uniform(0.1, 1.0)
    base = np.stack([xx * rng.uniform(0, 1), yy * rng.uniform(0, 1), (1 - xx) * rng.uniform(0, 1)], -1)
    cy, cx, r = rng.uniform(0.2, 0.8, 2).tolist() + [rng.uniform(0.1, 0.3)]
    blob = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r)[..., None] * rng.uniform(0, 1, 3)
    img = np.clip(0.5 + contrast * (base + blob - 0.8), 0, 1)
    rel = f"{i // 10:02d}/img_{i:03d}.jpg"
    (root / "images" / rel).parent.mkdir(exist_ok=True)
    Image.fromarray((img * 255).astype(np.uint8)).save(root / "images" / rel, quality=90)
    score = float(np.clip(0.5 + 0.35 * np.asarray(img).std() / 0.3 + rng.normal(0, 0.08), 0.2, 1.0))
    lines.append(f"{rel} {score:.4f}\n")
(root / "splits" / "train_1.txt").write_text("".join(lines[:24]))
(root / "splits" / "test_1.txt").write_text("".join(lines[24:]))
SRC = "synthetic images and PSEUDO scores (LaMem split format) from tools/caffe_reference/make_lamem_fixture.py"
for p in sorted(root.rglob("*")):
    if p.is_file():
        register(str(p.relative_to(data_dir())), SRC, "MIT (this course)",
                 "python tools/caffe_reference/make_lamem_fixture.py")
print("wrote", len(lines), "images")
