"""The five porting traps of notebook 01, as switches on a converted net — so their damage can be measured.

Why: "ceil pooling", "α divided by n", "BGR 0–255" are easy to nod along to and hard to believe until a port
that makes the mistake is compared with real Caffe blob by blob. :func:`with_traps` returns a copy of a correctly
converted :class:`~labkit.caffe.convert.CaffeNet` that makes the chosen mistakes; :func:`trap_errors` scores it
against Caffe's own recorded blobs. Some traps are silent at some sizes (AlexNet's pools at 227×227 come out the
same with floor or ceil), which is exactly why a port must be checked, not argued.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

import numpy as np
import torch
from torch import nn

from labkit.caffe.convert import CaffeNet
from labkit.caffe.layers import CaffeLRN, CaffePool2d, InnerProduct

TRAPS: dict[str, str] = {
    "floor_pooling": "pool with floor (PyTorch's default) instead of Caffe's ceil",
    "alpha_not_divided": "LRN with α used as is, not divided by the window size n",
    "rgb_input": "feed RGB where Caffe read BGR",
    "unit_scale_input": "feed 0–1 pixels where Caffe read 0–255",
    "hwc_flatten": "flatten pool5 as H·W·C (TensorFlow's order) before the first fully connected layer",
}
CAFFE_MEAN_BGR = (104.0, 117.0, 123.0)


class _HWCInnerProduct(nn.Module):
    """The first fully connected layer fed a channels-last flatten: the classic TensorFlow-port mistake."""

    def __init__(self, inner: InnerProduct) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.permute(0, 2, 3, 1) if x.ndim == 4 else x)


def _check(traps: Iterable[str]) -> set[str]:
    chosen = set(traps)
    unknown = chosen - set(TRAPS)
    if unknown:
        raise ValueError(f"unknown trap(s) {sorted(unknown)}; the traps: {', '.join(TRAPS)}")
    return chosen


def with_traps(model: CaffeNet, traps: Iterable[str]) -> CaffeNet:
    """A deep copy of ``model`` that makes the chosen layer mistakes (the input traps live in :func:`trap_input`)."""
    chosen = _check(traps)
    bad = copy.deepcopy(model)
    first_fc = True
    for key, m in bad.layers.items():
        if isinstance(m, CaffePool2d) and "floor_pooling" in chosen:
            m.ceil = False
        if isinstance(m, CaffeLRN) and "alpha_not_divided" in chosen:
            m.alpha = m.alpha * m.size
        if isinstance(m, InnerProduct) and first_fc:
            first_fc = False
            if "hwc_flatten" in chosen:
                bad.layers[key] = _HWCInnerProduct(m)
    return bad


def trap_input(x: torch.Tensor, traps: Iterable[str], mean_bgr: tuple[float, ...] = CAFFE_MEAN_BGR) -> torch.Tensor:
    """A correct Caffe input blob (BGR, 0–255, mean subtracted) as a port with the chosen input traps builds it."""
    chosen = _check(traps)
    mean = torch.tensor(mean_bgr, dtype=x.dtype).view(1, -1, 1, 1)
    pixels = x + mean  # back to BGR 0–255
    if "rgb_input" in chosen:
        pixels = pixels.flip(1)
    if "unit_scale_input" in chosen:
        return pixels / 255.0 - mean / 255.0
    return pixels - mean


def trap_errors(model: CaffeNet, caffe_blobs: Mapping[str, np.ndarray], traps: Iterable[str],
                input_key: str = "input") -> dict[str, float]:
    """Blob → ``max |port − Caffe| / max |Caffe|`` for a port making ``traps``; ``nan`` where a shape differs."""
    chosen = _check(traps)
    bad = with_traps(model, chosen)
    x = trap_input(torch.from_numpy(np.asarray(caffe_blobs[input_key], dtype=np.float32)), chosen)
    with torch.inference_mode():
        ours = bad.forward_blobs(x)
    out = {}
    for name, ref in caffe_blobs.items():
        if name in (input_key, "data") or "_split_" in name or name not in ours:
            continue
        ref, got = np.asarray(ref), ours[name].numpy()
        out[name] = (float(np.abs(ref - got).max() / max(float(np.abs(ref).max()), 1e-12))
                     if ref.shape == got.shape else float("nan"))
    return out
