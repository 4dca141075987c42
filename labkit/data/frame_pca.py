"""PCA of per-frame CNN features, as YouTube-8M compresses its frame features (2048 → 1024, whitened).

The basis is *data*: the bundled video records were projected with one, and anything you want to compare
with them (your own clips through ``tools/make_video_assets.py --clips``, a test recomputing a few
frames) must be projected with the same one. So it is fitted once, saved next to the records
(``frame_pca.npz``) and loaded, never refitted behind the user's back.

``whiten=True`` divides each component by ``sqrt(eigenvalue + 1e-4)`` (YouTube-8M's choice);
``whiten=False`` divides every component by one global scale, the first component's standard deviation,
which keeps their relative sizes (notebook 06's caption features).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FIELDS = ("mean", "components", "scale", "explained", "whiten")


class FramePCAError(ValueError):
    """A PCA basis file that is missing a field, or has fields whose shapes disagree."""


class FramePCA:
    """Fit on training frames only; ``transform`` maps (N, D) features to (N, dim) float32."""

    def __init__(self, dim: int = 1024, whiten: bool = True) -> None:
        if dim < 1:
            raise ValueError(f"PCA dimension must be positive, got {dim}")
        self.dim, self.whiten = dim, whiten

    def fit(self, x: np.ndarray) -> FramePCA:
        if len(x) < self.dim:
            raise ValueError(f"PCA to {self.dim} needs at least {self.dim} frames, got {len(x)}")
        x64 = x.astype(np.float64)
        self.mean = x64.mean(0)
        _, s, vt = np.linalg.svd(x64 - self.mean, full_matrices=False)
        self.components = vt[: self.dim]  # (dim, D)
        var = s**2 / (len(x) - 1)
        self.explained = float(var[: self.dim].sum() / var.sum())
        if self.whiten:
            self.scale = np.sqrt(var[: self.dim] + 1e-4)
        else:
            self.scale = np.full(self.dim, np.sqrt(var[0]))
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.components.shape[1]:
            raise ValueError(f"expected features (N, {self.components.shape[1]}), got {x.shape}")
        return ((x - self.mean) @ self.components.T / self.scale).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        """Mean and scale in float32, components in float16 (half the bytes; the error is far below 8-bit
        quantisation, so records projected before saving and frames projected after loading agree)."""
        path = Path(path)
        np.savez_compressed(path, mean=self.mean.astype(np.float32), components=self.components.astype(np.float16),
                            scale=self.scale.astype(np.float32), explained=np.float32(self.explained),
                            whiten=np.bool_(self.whiten))
        return path

    @classmethod
    def load(cls, path: str | Path) -> FramePCA:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no PCA basis at {path} (tools/make_video_assets.py writes it)")
        try:
            with np.load(path) as z:
                lacking = [k for k in FIELDS if k not in z.files]
                if lacking:
                    raise FramePCAError(f"{path}: PCA basis has no field {', '.join(map(repr, lacking))}")
                fields = {k: z[k] for k in FIELDS}
            comp = fields["components"]
            if comp.ndim != 2 or fields["mean"].shape != (comp.shape[1],) or fields["scale"].shape != (comp.shape[0],):
                raise FramePCAError(f"{path}: shapes disagree: mean {fields['mean'].shape}, components {comp.shape}, "
                                    f"scale {fields['scale'].shape}")
            pca = cls(comp.shape[0], bool(fields["whiten"].item()))
            pca.mean, pca.components, pca.scale = (fields[k].astype(np.float64) for k in ("mean", "components", "scale"))
            pca.explained = float(fields["explained"].item())
        except FramePCAError:
            raise
        except Exception as e:  # zip, zlib, npy header and dtype errors of a damaged file, all the same to a user
            raise FramePCAError(f"{path}: not a readable .npz PCA basis ({type(e).__name__}: {e})") from e
        return pca
