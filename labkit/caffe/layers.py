"""PyTorch modules that compute exactly what Caffe's layers compute, where PyTorch's defaults differ.

The three traps: Caffe pools with *ceil* rounding (and, when the layer pads on either axis, clips on both
axes a last window that would start in the padding), its AVE pooling divides by the window clipped to the
*padded* input (not by k×k, not by the valid count), and its LRN ``alpha`` is divided by ``local_size``
(ACROSS) or applied to a mean (WITHIN).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def caffe_pool_out(size: int, kernel: int, stride: int, pad: int, ceil: bool = True,
                   any_pad: bool | None = None) -> int:
    """Caffe's pooled size along one axis: ceil((size + 2·pad − kernel) / stride) + 1, minus one if the last
    window would start inside the right padding (``pooling_layer.cpp``). ``ceil=False``: ``round_mode: FLOOR``.

    Caffe clips only when the layer pads (``if (pad_h_ || pad_w_)``), on *either* axis: ``any_pad`` says
    whether it does; None takes this axis's own ``pad``, which is exact for a square pad (the one-axis
    form notebook 01's exercise is checked against). A 2-D layer goes through :func:`caffe_pool_shape`."""
    rnd = math.ceil if ceil else math.floor
    out = int(rnd((size + 2 * pad - kernel) / stride)) + 1
    clip = bool(pad) if any_pad is None else any_pad
    if clip and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def caffe_pool_shape(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                     pad: tuple[int, int], ceil: bool = True) -> tuple[int, int]:
    """(pooled_height, pooled_width) as Caffe's ``PoolingLayer::Reshape``: a pool padded on one axis only
    (pad_h=1, pad_w=0) clips the last window on *both* axes, so it can lose a column that a per-axis rule
    keeps (and that would start outside the image)."""
    any_pad = any(pad)
    oh, ow = (caffe_pool_out(n, k, s, p, ceil, any_pad) for n, k, s, p in zip(size, kernel, stride, pad, strict=True))
    return oh, ow


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
        oh, ow = caffe_pool_shape((h, w), (kh, kw), (sh, sw), (ph, pw), self.ceil)
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


def _check_local_size(size: int) -> None:
    if size < 1 or size % 2 != 1:
        raise ValueError(f"LRN local_size must be odd (Caffe requires it), got {size}")


def lrn_across_channels(x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    """Caffe's ACROSS_CHANNELS LRN of ``x`` (N, C, H, W): x_c / (k + α/n · Σ_{c′} x_{c′}²)^β.

    The sum runs over the n = ``size`` channels centred on c, channels beyond the edges counting as zero
    while the divisor stays n; α is divided by n, which is where ports that pass α unchanged go wrong.
    :class:`CaffeLRN` computes this, and notebook 01's exercise is checked against it.
    """
    _check_local_size(size)
    half = (size - 1) // 2
    sq = F.pad((x * x).unsqueeze(1), (0, 0, 0, 0, half, half))  # (N, 1, C + 2·half, H, W), zero channels at the edges
    mean = F.avg_pool3d(sq, (size, 1, 1), stride=1).squeeze(1)  # (N, C, H, W): Σ over n channels / n
    return x * (k + alpha * mean).pow(-beta)


class CaffeLRN(nn.Module):
    """Local response normalisation, Caffe's convention.

    ACROSS_CHANNELS: y = x / (k + α/n · Σ_{n channels} x²)^β  (:func:`lrn_across_channels`).
    WITHIN_CHANNEL:  y = x / (1 + α · mean_{n×n window, zero padded} x²)^β  (Caffe ignores k here).
    """

    def __init__(self, size: int, alpha: float, beta: float, k: float, region: str):
        super().__init__()
        _check_local_size(size)
        self.size, self.alpha, self.beta, self.k, self.region = size, alpha, beta, k, region

    def extra_repr(self) -> str:
        return f"{self.region}, size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.region == "ACROSS_CHANNELS":
            return lrn_across_channels(x, self.size, self.alpha, self.beta, self.k)
        mean = F.avg_pool2d(x * x, self.size, stride=1, padding=(self.size - 1) // 2, count_include_pad=True)
        return x * (1.0 + self.alpha * mean).pow(-self.beta)


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
