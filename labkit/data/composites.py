"""A **constructed** memorability task in which semantic layout decides the score: TripleMem's test bench.

Why constructed: ranking ResMem against TripleMem needs labels that neither model produced (ResMem's pseudo-labels
would crown ResMem), and no human-rated data ships offline. So each 227×227 scene is built from the bundled photos —
a backdrop that is landscape or texture (grass, gravel, brick, moon, the Hubble deep field) with one to three square
tiles pasted on it, each a crop of a photo whose content is known (the astronaut and the cameraman: people; Chelsea:
an animal; coffee: food; the motorcycle and the rocket: vehicles; the Chinese temple: a building; coins, a printed
page, cells, a stained tissue, a retina: other things) — and scored by a formula of what is *visible where*,
following what memorability research found (Isola et al., CVPR 2011: people and close-up objects are memorable,
landscapes are not)::

    constructed score = 0.15 + Σ_c w_c × (share of the scene that category c covers),
    w = people 0.9, animals 0.7, food 0.5, vehicles 0.5, buildings 0.3, other things 0.2, backdrop 0

so a large (close-up) person scores high and a scene that is mostly backdrop scores low. A tile pasted over another
hides it, and only what stays visible counts. The numbers this task gives are **constructed** and named so wherever
they appear; they test whether a model can read semantic layout, not how memorable a photo is.

Held-out scenes are new arrangements (other crops, sizes, places and backdrops) of the same 18 source photos: the task
measures reading *layout*, not recognising unseen objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from labkit.data.images import bundled_images

SIDE = 227  # ResMem's input: scenes are made at the size the models read, so no resize blurs the layout
CATEGORIES: tuple[str, ...] = ("backdrop", "people", "animals", "food", "vehicles", "buildings", "other things")
WEIGHTS: dict[str, float] = {"backdrop": 0.0, "people": 0.9, "animals": 0.7, "food": 0.5, "vehicles": 0.5,
                             "buildings": 0.3, "other things": 0.2}
BASE = 0.15
BACKDROPS = ("grass", "gravel", "brick", "moon", "hubble_deep_field")
TILES: dict[str, str] = {"astronaut": "people", "camera": "people", "chelsea": "animals", "coffee": "food",
                         "motorcycle": "vehicles", "rocket": "vehicles", "china": "buildings", "coins": "other things",
                         "page": "other things", "cell": "other things", "ihc": "other things",
                         "retina": "other things"}
TILE_SIDES = (48, 168)  # smallest and largest tile side in pixels: from a far object to a close-up
SPLIT_SEEDS = {"train": 11, "val": 12, "test": 13}


@dataclass(frozen=True)
class Composites:
    """``images`` (N, 227, 227, 3) uint8, ``masks`` (N, 227, 227) index into :data:`CATEGORIES` of what is visible,
    ``shares`` (N, C) the share of the scene each category covers, ``targets`` (N,) the constructed score."""

    images: np.ndarray
    masks: np.ndarray
    shares: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)


@lru_cache(maxsize=1)
def _sources() -> dict[str, np.ndarray]:
    return {im.name: np.asarray(im.load().convert("RGB")) for im in bundled_images(crops=False)}


def _crop(rng: np.random.Generator, photo: np.ndarray, side: int, min_fraction: float) -> np.ndarray:
    """A random square crop covering at least ``min_fraction`` of the photo's shorter side, resized to ``side``."""
    h, w = photo.shape[:2]
    s = int(rng.integers(int(min(h, w) * min_fraction), min(h, w) + 1))
    y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
    return np.asarray(Image.fromarray(photo[y:y + s, x:x + s]).resize((side, side), Image.BILINEAR))


def layout_maps(masks: np.ndarray, grid: int = 8) -> np.ndarray:
    """The ground-truth layout on a ``grid``×``grid`` map: (N, C, grid, grid), each cell the share of its pixels that
    each category covers (channels in :data:`CATEGORIES` order) — a *perfect* segmentation at the resolution of the
    class-activation maps, for the oracle control that asks what TripleMem would gain if its segmentation were right."""
    onehot = F.one_hot(torch.from_numpy(masks.astype(np.int64)), len(CATEGORIES)).permute(0, 3, 1, 2).float()
    return F.adaptive_avg_pool2d(onehot, grid).numpy()  # (N, C, grid, grid)


def constructed_score(shares: np.ndarray) -> np.ndarray:
    """The constructed score of scenes from their category shares (N, C): ``BASE + shares @ w``."""
    w = np.array([WEIGHTS[c] for c in CATEGORIES], dtype=np.float64)
    return (BASE + shares @ w).astype(np.float32)


def make_composites(n: int, seed: int) -> Composites:
    """``n`` scenes from one seeded stream (the same ``n`` and ``seed`` give the same scenes, byte for byte)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    photos = _sources()
    names = sorted(TILES)
    images = np.empty((n, SIDE, SIDE, 3), np.uint8)
    masks = np.zeros((n, SIDE, SIDE), np.uint8)
    for i in range(n):
        images[i] = _crop(rng, photos[BACKDROPS[int(rng.integers(len(BACKDROPS)))]], SIDE, 0.5)
        for _ in range(int(rng.integers(1, 4))):
            name = names[int(rng.integers(len(names)))]
            side = int(rng.integers(TILE_SIDES[0], TILE_SIDES[1] + 1))
            y, x = (int(v) for v in rng.integers(0, SIDE - side + 1, size=2))
            images[i, y:y + side, x:x + side] = _crop(rng, photos[name], side, 0.6)
            masks[i, y:y + side, x:x + side] = CATEGORIES.index(TILES[name])
    counts = np.stack([(masks == c).mean((1, 2)) for c in range(len(CATEGORIES))], 1)  # (N, C)
    return Composites(images, masks, counts.astype(np.float32), constructed_score(counts))


def composite_split(split: str, n: int) -> Composites:
    """The ``train``/``val``/``test`` scenes: one seed per split, so the splits never share a scene."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {', '.join(SPLIT_SEEDS)}, got {split!r}")
    return make_composites(n, SPLIT_SEEDS[split])
