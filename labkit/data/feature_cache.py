"""Frozen-CNN feature maps cached on disk, so a head trains on them without re-running the CNN.

Why: AMNet (and every "frozen backbone + small head" model of the course) spends >95% of an epoch
in the frozen CNN if it recomputes the features each step. They never change while the head
trains, so we compute them once and store them.

Why plain callables: the data layer must not know models. The cache is given ``extract`` (a batch
tensor → features, e.g. a ``FeatureExtractor`` in eval mode), ``preprocess`` (images → the batch
tensor, e.g. ``Preprocess(...).batch``) and an explicit ``identity``: what the caller vouches decides
the numbers besides the image. :func:`weights_fingerprint` turns a ``state_dict()`` into one entry.

What makes an entry valid — its key is built from everything that decides the numbers:

* the **image content**: sha256 of the file bytes (a path) or of the decoded RGB pixels (a PIL
  image / array / :class:`~labkit.data.images.BundledImage`); an edited image gets a new key;
* the **identity**, by convention ``{"weights": weights_fingerprint(...), "stage": "layer3",
  "preprocess": repr(preprocess)}``: changed weights, even one BN statistic, another stage or other
  preprocessing land in a different folder — provided the caller lists them, which is why it is explicit;
* the storage **dtype**.

Layout: ``<root>/<model key>/meta.json`` (what the key stands for) and ``<root>/<model key>/<image key>.npy``.
Stale entries are never read (their key is never asked for); :meth:`FeatureCache.prune` deletes them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from labkit.core.errors import DataError
from labkit.core.hashing import sha256_of
from labkit.data.images import BundledImage, ImageLike, load_image

DEFAULT_ROOT_ENV = "LABKIT_CACHE"


class FeatureCacheError(DataError):
    """A cache entry or a request is unusable (wrong shape, unreadable file, bad argument)."""


def default_root() -> Path:
    """``$LABKIT_CACHE/features`` or ``~/.cache/labkit/features``."""
    base = os.environ.get(DEFAULT_ROOT_ENV)
    return (Path(base) if base else Path.home() / ".cache" / "labkit") / "features"


def _pixels_source(image: ImageLike | BundledImage) -> ImageLike:
    """A bundled image is described by its source and crop box; its content is the cropped pixels."""
    return image.load() if isinstance(image, BundledImage) else image


def image_key(image: ImageLike | BundledImage) -> str:
    """Content hash of one image (see the module docstring for what counts as content)."""
    if isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.is_file():
            raise FeatureCacheError(f"{path}: no such image file")
        return sha256_of(path, prefix=b"file:")
    rgb = np.asarray(load_image(_pixels_source(image)))
    h = hashlib.sha256(b"rgb:" + str(rgb.shape).encode())
    h.update(np.ascontiguousarray(rgb).tobytes())
    return h.hexdigest()


def weights_fingerprint(state: Mapping[str, Tensor]) -> str:
    """sha256 over every entry of a ``state_dict()`` (name, shape, dtype, values), for ``identity``."""
    h = hashlib.sha256()
    for name, t in sorted(state.items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


class FeatureCache:
    """Features ``extract(preprocess(images))`` for images, cached on disk under a key of ``identity``.

    ``extract`` maps a (B, 3, H, W) batch to (B, ...) and must be deterministic (a module in eval
    mode: the cache does not switch modes for you); ``preprocess`` maps a list of images to that
    batch; ``identity`` names everything besides the image that decides the numbers (module
    docstring). ``dtype`` is the storage type (float16 halves the disk use; values come back as float32).
    """

    def __init__(
        self,
        extract: Callable[[Tensor], Tensor],
        preprocess: Callable[[Sequence[ImageLike]], Tensor],
        identity: Mapping[str, str],
        root: str | Path | None = None,
        dtype: str = "float32",
    ) -> None:
        if dtype not in ("float32", "float16"):
            raise FeatureCacheError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
        if not identity or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in identity.items()):
            raise FeatureCacheError(
                f"identity must map names to non-empty strings (e.g. weights, stage, preprocess), got {identity!r}"
            )
        self.extract = extract
        self.preprocess = preprocess
        self.identity = dict(identity)
        self.dtype = dtype
        meta = {**self.identity, "dtype": dtype}
        self.model_key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:24]
        self.folder = Path(root) if root is not None else default_root()
        self.folder = self.folder / self.model_key
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def _load(self, key: str) -> np.ndarray | None:
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            value = np.load(p, allow_pickle=False)
        except (OSError, ValueError):  # a truncated write from a killed run: recompute it
            value = None
        if value is None or not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            p.unlink(missing_ok=True)  # damaged (or NaN, which _store never writes): recompute it
            return None
        return value

    def _store(self, key: str, value: np.ndarray) -> None:
        stored = value.astype(self.dtype)
        if not np.isfinite(stored).all():  # NaN from the extractor, or float16 overflow (|x| > 65504) to inf
            raise FeatureCacheError(
                f"features of image {key[:12]}… hold NaN or inf{' once stored as float16' if np.isfinite(value).all() else ''}",
                fix="check the extractor and its input (or store as dtype='float32'); nothing was cached")
        tmp = self.folder / f".{key}.{os.getpid()}.tmp.npy"
        np.save(tmp, stored)
        os.replace(tmp, self.path(key))  # atomic: readers see the old or the new file, never half

    def __call__(
        self, images: Sequence[ImageLike | BundledImage], batch_size: int = 16, progress: bool = True
    ) -> Tensor:
        """Features of ``images`` in order (float32 CPU tensor), computing only the missing ones."""
        if len(images) == 0:
            raise FeatureCacheError("no images given")
        from labkit.core.progress import tqdm

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
            desc = f"features {self.identity.get('stage', '')}".rstrip()
            for s in tqdm(range(0, len(todo), batch_size), desc=desc, disable=not progress):
                chunk = todo[s:s + batch_size]
                out = self.extract(self.preprocess([_pixels_source(first[k]) for k in chunk])).float().cpu().numpy()
                for k, v in zip(chunk, out, strict=True):
                    self._store(k, v)
                    found[k] = v.astype(self.dtype)
        shapes = {found[k].shape for k in keys}
        if len(shapes) != 1:
            raise FeatureCacheError(f"cached features have different shapes {sorted(shapes)}; clear {self.folder}")
        return torch.from_numpy(np.stack([found[k] for k in keys]).astype(np.float32))

    def prune(self, keep: Sequence[ImageLike | BundledImage]) -> int:
        """Delete entries of this model key whose image is not in ``keep``; returns how many."""
        wanted = {image_key(im) for im in keep}
        gone = 0
        for p in self.folder.glob("*.npy"):
            if p.stem not in wanted:
                p.unlink()
                gone += 1
        return gone
