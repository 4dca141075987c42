"""A **constructed** task where what matters sits in one region: notebook 03's test of AMNet's attention.

Each 224×224 image is a crop of one of the bundled photos with four 64×64 grayscale patches pasted on it, all from
scikit-image's ``lfw_subset`` (100 face crops, 100 non-face crops, 25×25, upsampled): one **target**, framed in red,
and three unframed **distractors**. The constructed memorability score is 1 when the target is a face and 0 when it
is not ("pictures of people are memorable"): nothing but the framed patch decides it, while the distractors — faces
as often as not, and as large as the target — and the photo behind them do not. So a model that averages the whole
feature map mixes the answer with three distractors' worth of noise, and one that attends to the framed region does
not. (A first version with small distractors let plain averaging score as well as attention: the target's larger
area dominated the mean.) Named as constructed wherever its numbers appear.

Objects are split by identity, so no target (or distractor) patch of a held-out image was seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from labkit.data.images import bundled_images

CANVAS, TARGET, DISTRACTOR, DISTRACTORS, FRAME = 224, 64, 64, 3, 4  # FRAME: width of the target's red border
# lfw_subset: indices 0–99 are faces, 100–199 non-faces; the same slices of each go to each split.
SPLITS = {"train": (range(0, 60), range(100, 160)), "val": (range(60, 70), range(160, 170)),
          "test": (range(70, 100), range(170, 200))}
REPEATS = {"train": 5, "val": 5, "test": 3}  # images per target object: 600 / 100 / 180 images
SEEDS = {"train": 1, "val": 3, "test": 2}


@dataclass
class PastedSet:
    images: list[Image.Image]
    targets: np.ndarray  # (N,) float32: 1.0 face, 0.0 not a face (constructed)
    boxes: np.ndarray  # (N, 4) the target's (top, left, bottom, right) in canvas pixels


@lru_cache(maxsize=1)
def _objects() -> np.ndarray:
    from skimage.data import lfw_subset

    return (lfw_subset() * 255).round().astype(np.uint8)  # (200, 25, 25)


@lru_cache(maxsize=1)
def _photos() -> tuple[Image.Image, ...]:
    return tuple(im.load().convert("RGB") for im in bundled_images(crops=False))


def _patch(index: int, side: int) -> Image.Image:
    return Image.fromarray(_objects()[index]).resize((side, side), Image.BICUBIC).convert("RGB")


def _framed(index: int) -> Image.Image:
    """The target: its patch inside a red border (drawn within the 64×64 box, so the box is still the target's)."""
    img = np.array(_patch(index, TARGET))
    img[:FRAME], img[-FRAME:], img[:, :FRAME], img[:, -FRAME:] = (220, 30, 30), (220, 30, 30), (220, 30, 30), (220, 30, 30)
    return Image.fromarray(img)


def make_split(split: str, limit: int | None = None) -> PastedSet:
    """The images of one split (deterministic); ``limit`` keeps the first N (the same N on every call)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    faces, others = SPLITS[split]
    pool = np.column_stack([list(faces), list(others)]).ravel()  # face, non-face, …: any prefix is balanced
    # targets and distractors come from this split's objects only
    rng = np.random.default_rng(SEEDS[split])
    photos = _photos()
    images, targets, boxes = [], [], []
    for obj in pool:
        for _ in range(REPEATS[split]):
            photo = photos[rng.integers(len(photos))]
            scale = CANVAS * 1.3 / min(photo.size)
            big = photo.resize((int(photo.size[0] * scale) + 1, int(photo.size[1] * scale) + 1))
            x0, y0 = rng.integers(0, big.size[0] - CANVAS + 1), rng.integers(0, big.size[1] - CANVAS + 1)
            canvas = big.crop((int(x0), int(y0), int(x0) + CANVAS, int(y0) + CANVAS))
            for d in rng.choice(pool, DISTRACTORS):
                pos = rng.integers(0, CANVAS - DISTRACTOR + 1, 2)
                canvas.paste(_patch(int(d), DISTRACTOR), (int(pos[0]), int(pos[1])))
            left, top = (int(v) for v in rng.integers(0, CANVAS - TARGET + 1, 2))
            canvas.paste(_framed(int(obj)), (left, top))  # the target last: never covered
            images.append(canvas)
            targets.append(1.0 if obj < 100 else 0.0)
            boxes.append((top, left, top + TARGET, left + TARGET))
            if limit is not None and len(images) >= limit:
                return PastedSet(images, np.array(targets, np.float32), np.array(boxes))
    return PastedSet(images, np.array(targets, np.float32), np.array(boxes))


def box_cells(boxes: np.ndarray, grid: int = 14, canvas: int = CANVAS) -> torch.Tensor:
    """(N, L) bool: the feature-map cells whose centre lies inside each box — the target's region on the grid."""
    cell = canvas / grid
    centres = np.arange(grid) * cell + cell / 2
    rows = (centres[None] >= boxes[:, :1]) & (centres[None] < boxes[:, 2:3])  # (N, grid)
    cols = (centres[None] >= boxes[:, 1:2]) & (centres[None] < boxes[:, 3:4])
    return torch.from_numpy((rows[:, :, None] & cols[:, None, :]).reshape(len(boxes), -1))


def mass_in_box(alpha: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """Attention mass on the target's cells, averaged over the steps: alpha (N, T, L), cells (N, L) → (N,)."""
    return (alpha * cells[:, None].to(alpha.dtype)).sum(-1).mean(1)
