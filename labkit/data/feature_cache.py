"""Frozen-CNN feature maps cached on disk, so a head trains on them without re-running the CNN.

Why: AMNet (and every "frozen backbone + small head" model of the course) spends >95% of an epoch
in the frozen CNN if it recomputes the features each step. They never change while the head
trains, so we compute them once and store them.

What makes an entry valid — its key is built from everything that decides the numbers:

* the **image content**: sha256 of the file bytes (a path) or of the decoded RGB pixels (a PIL
  image / array / :class:`~labkit.data.images.BundledImage`); an edited image gets a new key;
* the **backbone identity**: sha256 over every parameter and buffer (names, shapes, dtypes, bytes),
  so changed weights, even one BN statistic, land in a different folder;
* the **stage** (``layer3`` …) and the **preprocessing** (``repr`` of the frozen dataclass).

Layout: ``<root>/<model key>/meta.json`` (what the key stands for) and ``<root>/<model key>/<image key>.npy``.
Stale entries are never read (their key is never asked for); :meth:`FeatureCache.prune` deletes them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from labkit.data.images import ImageLike, load_image

DEFAULT_ROOT_ENV = "LABKIT_CACHE"


class FeatureCacheError(ValueError):
    """A cache entry or a request is unusable (wrong shape, unreadable file, bad argument)."""


def default_root() -> Path:
    """``$LABKIT_CACHE/features`` or ``~/.cache/labkit/features``."""
    base = os.environ.get(DEFAULT_ROOT_ENV)
    return (Path(base) if base else Path.home() / ".cache" / "labkit") / "features"


def image_key(image: Any) -> str:
    """Content hash of one image (see the module docstring for what counts as content)."""
    h = hashlib.sha256()
    if isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.is_file():
            raise FeatureCacheError(f"{path}: no such image file")
        h.update(b"file:")
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    if hasattr(image, "load") and not hasattr(image, "mode"):  # BundledImage and friends
        image = image.load()
    rgb = np.asarray(load_image(image))
    h.update(b"rgb:" + str(rgb.shape).encode())
    h.update(np.ascontiguousarray(rgb).tobytes())
    return h.hexdigest()


def module_fingerprint(module: nn.Module) -> str:
    """sha256 over every parameter and buffer of ``module`` (name, shape, dtype, values)."""
    h = hashlib.sha256(type(module).__name__.encode())
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


class FeatureCache:
    """Features of ``extractor`` (a module mapping (B, 3, H, W) → (B, ...)) for images, cached on disk.

    ``preprocess`` turns a batch of images into the extractor's input (e.g.
    :class:`labkit.models.backbones.Preprocess`); ``stage`` names the output, for the key.
    ``dtype`` is the storage type (float16 halves the disk use; values come back as float32).
    """

    def __init__(
        self,
        extractor: nn.Module,
        preprocess: Any,
        stage: str,
        root: str | Path | None = None,
        dtype: str = "float32",
    ) -> None:
        if dtype not in ("float32", "float16"):
            raise FeatureCacheError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
        self.extractor = extractor.eval()
        self.preprocess = preprocess
        self.stage = stage
        self.dtype = dtype
        self.backbone_id = module_fingerprint(extractor)
        meta = {"backbone": self.backbone_id, "stage": stage, "preprocess": repr(preprocess), "dtype": dtype}
        self.model_key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:24]
        self.folder = Path(root) if root is not None else default_root()
        self.folder = self.folder / self.model_key
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "meta.json").write_text(json.dumps(meta, indent=2))
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def _load(self, key: str) -> np.ndarray | None:
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            return np.load(p, allow_pickle=False)
        except (OSError, ValueError):  # a truncated write from a killed run: recompute it
            p.unlink(missing_ok=True)
            return None

    def _store(self, key: str, value: np.ndarray) -> None:
        tmp = self.folder / f".{key}.{os.getpid()}.tmp.npy"
        np.save(tmp, value.astype(self.dtype))
        os.replace(tmp, self.path(key))  # atomic: readers see the old or the new file, never half

    def __call__(
        self, images: Sequence[ImageLike], batch_size: int = 16, progress: bool = True
    ) -> Tensor:
        """Features of ``images`` in order (float32 CPU tensor), computing only the missing ones."""
        if len(images) == 0:
            raise FeatureCacheError("no images given")
        from tqdm.auto import tqdm

        keys = [image_key(im) for im in images]
        found: dict[str, np.ndarray] = {}
        for k in set(keys):
            v = self._load(k)
            if v is not None:
                found[k] = v
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        self.hits += sum(k in found for k in keys)
        self.misses += len(todo)
        first = {k: images[keys.index(k)] for k in todo}
        with torch.inference_mode():
            for s in tqdm(range(0, len(todo), batch_size), desc=f"features {self.stage}", disable=not progress):
                chunk = todo[s:s + batch_size]
                ims = [first[k].load() if hasattr(first[k], "load") and not hasattr(first[k], "mode") else first[k]
                       for k in chunk]
                out = self.extractor(self.preprocess.batch(ims)).float().cpu().numpy()
                for k, v in zip(chunk, out, strict=True):
                    self._store(k, v)
                    found[k] = v.astype(self.dtype)
        shapes = {found[k].shape for k in keys}
        if len(shapes) != 1:
            raise FeatureCacheError(f"cached features have different shapes {sorted(shapes)}; clear {self.folder}")
        return torch.from_numpy(np.stack([found[k] for k in keys]).astype(np.float32))

    def prune(self, keep: Sequence[ImageLike]) -> int:
        """Delete entries of this model key whose image is not in ``keep``; returns how many."""
        wanted = {image_key(im) for im in keep}
        gone = 0
        for p in self.folder.glob("*.npy"):
            if p.stem not in wanted:
                p.unlink()
                gone += 1
        return gone
