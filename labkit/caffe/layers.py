"""PyTorch modules that compute exactly what Caffe's layers compute, where PyTorch's defaults differ.

The three traps: Caffe pools with *ceil* rounding (and clips a last window that would start in the
padding), its AVE pooling divides by the window clipped to the *padded* input (not by k×k, not by the
valid count), and its LRN ``alpha`` is divided by ``local_size`` (ACROSS) or applied to a mean (WITHIN).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def caffe_pool_out(size: int, kernel: int, stride: int, pad: int, ceil: bool = True) -> int:
    """Caffe's pooled size: ceil((size + 2·pad − kernel) / stride) + 1, minus one if the last window
    would start inside the right padding (``pooling_layer.cpp``). ``ceil=False``: ``round_mode: FLOOR``."""
    rnd = math.ceil if ceil else math.floor
    out = int(rnd((size + 2 * pad - kernel) / stride)) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class CaffePool2d(nn.Module):
    """MAX or AVE pooling with Caffe's output size and divisor."""

    def __init__(self, method: str, kernel: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int],
                 global_pooling: bool = False, ceil: bool = True):
        super().__init__()
        self.ceil = ceil
        if method not in ("MAX", "AVE"):
            raise ValueError(f"pooling method {method} is not supported (only MAX and AVE)")
        self.method, self.kernel, self.stride, self.pad, self.global_pooling = method, kernel, stride, pad, global_pooling

    def extra_repr(self) -> str:
        return f"{self.method}, kernel={self.kernel}, stride={self.stride}, pad={self.pad}, global={self.global_pooling}, ceil={self.ceil}"

    def _geometry(self, h: int, w: int):
        if self.global_pooling:
            return (h, w), (1, 1), (0, 0)
        return self.kernel, self.stride, self.pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        (kh, kw), (sh, sw), (ph, pw) = self._geometry(h, w)
        oh, ow = caffe_pool_out(h, kh, sh, ph, self.ceil), caffe_pool_out(w, kw, sw, pw, self.ceil)
        # right/bottom padding so that exactly oh × ow windows fit (may be negative: a crop)
        rh, rw = (oh - 1) * sh + kh - h - ph, (ow - 1) * sw + kw - w - pw
        if self.method == "MAX":
            xp = F.pad(x, (pw, rw, ph, rh), value=float("-inf"))
            return F.max_pool2d(xp, (kh, kw), (sh, sw))
        xp = F.pad(x, (pw, rw, ph, rh), value=0.0)
        sums = F.avg_pool2d(xp, (kh, kw), (sh, sw), divisor_override=1)  # (N, C, oh, ow) window sums
        # Caffe's divisor: the window clipped to [−pad, size + pad), counted in padded coordinates
        return sums / (self._counts(oh, h, kh, sh, ph, x)[:, None] * self._counts(ow, w, kw, sw, pw, x)[None, :])

    @staticmethod
    def _counts(out: int, size: int, k: int, s: int, p: int, like: torch.Tensor) -> torch.Tensor:
        start = torch.arange(out, device=like.device) * s - p
        end = torch.clamp(start + k, max=size + p)
        return (end - start).to(like.dtype)


class CaffeLRN(nn.Module):
    """Local response normalisation, Caffe's convention.

    ACROSS_CHANNELS: y = x / (k + α/n · Σ_{n channels} x²)^β.
    WITHIN_CHANNEL:  y = x / (1 + α · mean_{n×n window, zero padded} x²)^β  (Caffe ignores k here).
    """

    def __init__(self, size: int, alpha: float, beta: float, k: float, region: str):
        super().__init__()
        if size % 2 != 1:
            raise ValueError(f"LRN local_size must be odd (Caffe requires it), got {size}")
        self.size, self.alpha, self.beta, self.k, self.region = size, alpha, beta, k, region

    def extra_repr(self) -> str:
        return f"{self.region}, size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = (self.size - 1) // 2
        sq = x * x
        if self.region == "ACROSS_CHANNELS":
            sq = F.pad(sq.unsqueeze(1), (0, 0, 0, 0, half, half))  # (N, 1, C + 2·half, H, W)
            mean = F.avg_pool3d(sq, (self.size, 1, 1), stride=1).squeeze(1)  # (N, C, H, W) Σ/n
            scale = self.k + self.alpha * mean
        else:
            mean = F.avg_pool2d(sq, self.size, stride=1, padding=half, count_include_pad=True)
            scale = 1.0 + self.alpha * mean
        return x * scale.pow(-self.beta)


class Flatten(nn.Module):
    """Caffe Flatten / InnerProduct input rule: merge axes ``axis..end_axis`` (C, H, W order)."""

    def __init__(self, axis: int = 1, end_axis: int = -1):
        super().__init__()
        self.axis, self.end_axis = axis, end_axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(x, self.axis, self.end_axis)


class InnerProduct(nn.Module):
    """Caffe InnerProduct: flatten from ``axis`` then ``y = x Wᵀ + b`` (W stored (out, in) like nn.Linear)."""

    def __init__(self, in_features: int, out_features: int, bias: bool, axis: int = 1):
        super().__init__()
        self.axis = axis
        # skip_init: the weights are overwritten from the caffemodel (initialising fc6's 37 M takes seconds)
        self.linear = nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(x, self.axis))


class Softmax(nn.Module):
    def __init__(self, axis: int = 1):
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.axis)


class Concat(nn.Module):
    def __init__(self, axis: int = 1):
        super().__init__()
        self.axis = axis

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.axis)


class Eltwise(nn.Module):
    """Element-wise PROD, SUM (with optional per-input coefficients) or MAX of several blobs."""

    def __init__(self, operation: str, coeff: list[float]):
        super().__init__()
        self.operation, self.coeff = operation, list(coeff)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        if self.operation == "SUM":
            coeff = self.coeff or [1.0] * len(xs)
            return sum(c * x for c, x in zip(coeff, xs, strict=True))
        if self.operation == "PROD":
            return math.prod(xs[1:], start=xs[0])
        return torch.stack(xs).amax(0)


class Identity(nn.Module):
    """Dropout at inference (Caffe scales at train time, so test time is the identity) and Split."""

    def forward(self, *xs: torch.Tensor):
        return xs if len(xs) > 1 else xs[0]
