"""How the shipped features are made small: a PCA basis, then 8-bit codes.

Both are *data*: records projected and quantised when the assets were built are compared with frames
projected and quantised now (a test recomputing a few from pixels), so each step has one implementation,
used by every builder (:mod:`labkit.data.frame_pca`, AMNet's feature bundles; :func:`labkit.data.yt8m.quantize`
keeps the YouTube-8M extractor's own multiply-by-255/range form, which rounds 0 to 128 where dividing by the
step gives 127).
"""

from __future__ import annotations

import numpy as np


def principal_components(x: np.ndarray, k: int, *, fix_signs: bool = False
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (D,), top-``k`` components (k, D), variance along every component (min(N, D),), descending) of the
    rows of ``x`` (N, D), in float64 by SVD of the centred rows.

    A component's sign is arbitrary (LAPACK's choice); ``fix_signs=True`` makes each one's largest-magnitude
    weight positive, so a refit gives the same numbers on every machine up to rounding."""
    x64 = np.asarray(x).astype(np.float64)
    mean = x64.mean(0)
    _, s, vt = np.linalg.svd(x64 - mean, full_matrices=False)
    components = vt[:k]
    if fix_signs:
        components = components * np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])[:, None]
    return mean, components, s**2 / (len(x64) - 1)


def quantise_u8(x: np.ndarray, lo: np.ndarray | float, step: np.ndarray | float) -> np.ndarray:
    """Floats → uint8 codes ``q`` with ``x ≈ lo + q·step``, rounded half to even; values outside the 256 steps
    are clipped to 0 or 255. ``lo`` and ``step`` broadcast against ``x`` (one per channel, or one for all); the
    arithmetic stays in ``x``'s dtype for scalar or same-dtype ``lo``/``step``, so float32 features give the
    same codes as float32 arithmetic anywhere else."""
    return np.clip(np.rint((x - lo) / step), 0, 255).astype(np.uint8)
