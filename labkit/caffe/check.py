"""Compare a converted net with reference blobs (e.g. what real Caffe left in ``net.blobs``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from labkit.caffe.convert import CaffeNet


def compare_blobs(model: CaffeNet, reference: Mapping[str, np.ndarray], input_key: str = "input") -> dict[str, float]:
    """Blob name → ``max |ours − reference| / max |reference|`` for every reference blob the net also produces.

    Caffe's automatic ``*_split_*`` copies are skipped; a shape disagreement is an error, not a large number.
    """
    with torch.inference_mode():
        ours = model.forward_blobs(torch.from_numpy(np.asarray(reference[input_key])))
    errors = {}
    for name in reference:
        if name == input_key or "_split_" in name:
            continue
        ref, got = np.asarray(reference[name]), ours[name].numpy()
        if ref.shape != got.shape:
            raise ValueError(f"blob {name!r}: ours {got.shape} vs reference {ref.shape}")
        errors[name] = float(np.abs(ref - got).max() / max(float(np.abs(ref).max()), 1e-12))
    return errors
