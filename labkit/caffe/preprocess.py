"""Caffe-style preprocessing as a torchvision-style transform.

Why it matters: a Caffe ImageNet-era net expects exactly what its data layer held: BGR channel order,
0–255 values (not 0–1), the training mean subtracted, a 227 crop of a 256×256 resize. Feeding RGB in
0–1 with ImageNet normalisation (what a PyTorch habit suggests) gives plausible-looking but wrong outputs.
Crop order follows ``caffe.io.oversample``: 4 corners (TL, TR, BL, BR), centre, then their mirrors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image


class CaffeTransform:
    """PIL RGB image (or ``(H, W, 3)`` uint8 RGB array) → Caffe data blob.

    Returns ``(3, crop, crop)``, or ``(10, 3, crop, crop)`` with ``ten_crop=True``. ``mean`` is a mean image
    ``(3, H, W)`` BGR (from ``read_mean_binaryproto``; subtracted at ``resize`` size if it has that size,
    else at crop size) or 3 per-channel BGR values; ``None`` subtracts nothing.
    """

    def __init__(self, mean: np.ndarray | Sequence[float] | None = None, resize: int = 256, crop: int = 227,
                 ten_crop: bool = False):
        if crop > resize:
            raise ValueError(f"crop {crop} is larger than the resized image {resize}")
        self.resize, self.crop, self.ten_crop = resize, crop, ten_crop
        self.mean = None if mean is None else torch.as_tensor(np.asarray(mean, dtype=np.float32))
        if self.mean is not None:
            if self.mean.ndim == 1 and self.mean.numel() == 3:
                self.mean = self.mean.view(3, 1, 1)
            elif self.mean.ndim != 3 or self.mean.shape[0] != 3 or self.mean.shape[1:] not in (
                    (resize, resize), (crop, crop)):
                raise ValueError(
                    f"mean must be 3 per-channel values or a (3, {resize}, {resize}) / (3, {crop}, {crop}) image, "
                    f"got shape {tuple(self.mean.shape)}; reduce it with mean.mean((1, 2)) if sizes differ"
                )

    def __repr__(self) -> str:
        kind = "none" if self.mean is None else tuple(self.mean.shape)
        return f"CaffeTransform(resize={self.resize}, crop={self.crop}, ten_crop={self.ten_crop}, mean={kind})"

    def to_blob(self, img) -> torch.Tensor:
        """Resize to resize×resize (squash, as Caffe's ``resize_image``), RGB→BGR, 0–255 float, ``(3, H, W)``."""
        if isinstance(img, np.ndarray):
            img = Image.fromarray(img)
        img = img.convert("RGB")
        if img.size != (self.resize, self.resize):
            img = img.resize((self.resize, self.resize), Image.BILINEAR)
        x = torch.from_numpy(np.asarray(img, dtype=np.float32).copy())  # (H, W, 3) RGB 0–255
        return x.permute(2, 0, 1).flip(0).contiguous()  # (3, H, W) BGR

    def __call__(self, img) -> torch.Tensor:
        x = self.to_blob(img)
        full_mean = self.mean is not None and self.mean.shape[1:] == x.shape[1:]
        if full_mean:
            x = x - self.mean
        crops = self.crops(x)
        if self.mean is not None and not full_mean:
            crops = crops - self.mean
        return crops if self.ten_crop else crops[0]

    def crops(self, x: torch.Tensor) -> torch.Tensor:
        """``(3, H, W)`` → ``(10, 3, c, c)`` (corners, centre, mirrors) or ``(1, 3, c, c)`` (centre)."""
        h, w, c = x.shape[1], x.shape[2], self.crop
        top, left = (h - c) // 2, (w - c) // 2
        centre = x[:, top: top + c, left: left + c]
        if not self.ten_crop:
            return centre[None]
        corners = [x[:, i: i + c, j: j + c] for i in (0, h - c) for j in (0, w - c)]
        five = torch.stack(corners + [centre])  # (5, 3, c, c)
        return torch.cat([five, five.flip(-1)])  # (10, 3, c, c)


def ten_crop_average(model: torch.nn.Module, crops: torch.Tensor) -> torch.Tensor:
    """Run ``(B, 10, C, H, W)`` crops through ``model`` in one batch and average over the 10 crops."""
    b, n = crops.shape[:2]
    out = model(crops.flatten(0, 1))  # (B·10, ...)
    return out.view(b, n, *out.shape[1:]).mean(1)
