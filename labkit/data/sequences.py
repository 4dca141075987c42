"""Variable-length feature sequences → one padded batch and the mask of real frames.

Why one function: video features (YouTube-8M frames, caption-model frame features) come as
(T_i, D) arrays of different lengths, and every temporal model of the course needs the same two
things from them — a (B, T, D) batch zero-padded after each sequence's end (and cut to the first T
frames when a limit is set) plus a (B, T) mask saying which steps are real, so attention and pooling
never read padding. Padding in one place keeps "where the mask is False the features are zero" true
for every loader.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from labkit.core.errors import DataError


def pad_or_trim(seqs: Sequence[np.ndarray | Tensor], length: int | None = None) -> tuple[Tensor, Tensor]:
    """(T_i, D) sequences → ((B, T, D) float32 batch, (B, T) bool mask of real frames).

    ``length``: T, the frames kept per sequence (the first ones; shorter sequences are zero-padded);
    ``None`` pads to the longest sequence. Every sequence must be 2-D with the same D; anything else is a
    :class:`~labkit.core.errors.DataError` (a ``ValueError``), because it means the features were read wrong.
    """
    if len(seqs) == 0:
        raise DataError("no sequences to pad (got an empty list)")
    if length is not None and length < 1:
        raise DataError(f"length must be >= 1 frame (or None for the longest sequence), got {length}")
    xs = [torch.as_tensor(s, dtype=torch.float32) for s in seqs]
    dims = {x.shape[1] if x.ndim == 2 else None for x in xs}
    if len(dims) != 1 or None in dims:
        raise DataError(f"sequences must all be (T, D) with one D, got shapes {[tuple(x.shape) for x in xs][:4]}")
    t = length if length is not None else max(len(x) for x in xs)
    out = torch.zeros(len(xs), t, dims.pop())  # (B, T, D)
    mask = torch.zeros(len(xs), t, dtype=torch.bool)  # (B, T)
    for i, x in enumerate(xs):
        n = min(len(x), t)
        out[i, :n] = x[:n]
        mask[i, :n] = True
    return out, mask
