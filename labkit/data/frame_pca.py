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

from labkit.core.errors import DataError
from labkit.data.compression import principal_components
from labkit.data.paths import MissingDataError

FIELDS = ("mean", "components", "scale", "explained", "whiten")


class FramePCAError(DataError):
    """A PCA basis file that is missing a field, has fields whose shapes disagree or non-finite numbers,
    or features to fit or project that hold NaN or inf."""


def _check_finite(x: np.ndarray, what: str) -> None:
    """NaN or inf frames would turn every projected feature into NaN, silently; refuse them where they enter."""
    finite = np.isfinite(x)
    if not finite.all():
        row = int(np.argmin(finite.reshape(len(x), -1).all(axis=1))) if x.ndim > 1 else int(np.argmin(finite))
        raise FramePCAError(f"{what} hold {x.size - int(finite.sum())} non-finite values (NaN or inf), the first "
                            f"in row {row}", fix="check the frames or the CNN that produced these features")


class FramePCA:
    """Fit on training frames only; ``transform`` maps (N, D) features to (N, dim) float32."""

    def __init__(self, dim: int = 1024, whiten: bool = True) -> None:
        if dim < 1:
            raise ValueError(f"PCA dimension must be positive, got {dim}")
        self.dim, self.whiten = dim, whiten
        self.source: Path | None = None  # the file it was loaded from, named in errors

    def fit(self, x: np.ndarray) -> FramePCA:
        x = np.asarray(x)
        _check_finite(x, "features to fit the PCA on")
        if len(x) < self.dim:
            raise FramePCAError(f"PCA to {self.dim} needs at least {self.dim} frames, got {len(x)}")
        self.mean, self.components, var = principal_components(x, self.dim)  # components (dim, D)
        self.explained = float(var[: self.dim].sum() / var.sum())
        if self.whiten:
            self.scale = np.sqrt(var[: self.dim] + 1e-4)
        else:
            self.scale = np.full(self.dim, np.sqrt(var[0]))
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.components.shape[1]:
            raise FramePCAError(f"expected features (N, {self.components.shape[1]}), got {x.shape}")
        _check_finite(x, f"features to project{f' with {self.source}' if self.source else ''}")
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
            raise MissingDataError(f"no PCA basis at {path}", fix="tools/make_video_assets.py writes it")
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
            bad = [k for k in ("mean", "components", "scale") if not np.isfinite(getattr(pca, k)).all()]
            if bad or not np.isfinite(pca.explained):
                raise FramePCAError(f"{path}: field(s) {', '.join(bad or ['explained'])} hold NaN or inf; the file "
                                    "is damaged — regenerate it (tools/make_video_assets.py)")
            if (pca.scale <= 0).any():
                raise FramePCAError(f"{path}: scale holds {int((pca.scale <= 0).sum())} value(s) <= 0, so projecting "
                                    "would divide by zero; the file is damaged — regenerate it")
            pca.source = path
        except FramePCAError:
            raise
        except Exception as e:  # zip, zlib, npy header and dtype errors of a damaged file, all the same to a user
            raise FramePCAError(f"{path}: not a readable .npz PCA basis ({type(e).__name__}: {e})") from e
        return pca
