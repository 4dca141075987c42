"""The frame encoder of notebooks 05 and 06: notebook 04's small convnet, frozen, one 32-d vector per frame.

Why this network: YouTube-8M's frame features come from an image CNN trained on ImageNet, not on the videos. Our
videos show MNIST digits, and an ImageNet ResNet at 60×60 barely tells digits apart (a linear probe on its pooled
features stayed near GAP 0.59 on Moving MNIST), so the course's stand-in for "an image CNN trained elsewhere" is the
convnet baseline of notebook 04 (``data/ram/convnet_cluttered_s0.pt``), trained on single cluttered 60×60 digits.
Its 32 max-pooled channels (the layer before its classifier) are the frame features; it never saw a video, nor any
of the held-out test digits (:func:`labkit.data.mnist.course_digit_split`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from labkit.models.ram_pretrained import load_pretrained
from labkit.models.small_convnet import SmallConvNet

SETTING = "cluttered"  # which shipped convnet: data/ram/convnet_cluttered_s0.pt
FEATURE_DIM = 32


def load_frame_encoder() -> SmallConvNet:
    """The shipped convnet, eval mode, gradients off."""
    return load_pretrained(SETTING, "convnet").requires_grad_(False)


@torch.inference_mode()
def frame_features(frames: np.ndarray, encoder: SmallConvNet | None = None, batch: int = 512) -> np.ndarray:
    """(N, H, W) uint8 frames → (N, 32) float32: the convnet's global-max-pooled channels, before its classifier."""
    net = encoder or load_frame_encoder()
    if frames.ndim != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (N, H, W) uint8, got {frames.shape} {frames.dtype}")
    out = []
    for i in range(0, len(frames), batch):
        x = torch.from_numpy(frames[i:i + batch]).float().div_(255.0).unsqueeze(1)  # (b, 1, H, W)
        h = F.relu(net.conv2(F.relu(net.conv1(x))))  # (b, 32, H/4, W/4)
        out.append(h.amax(dim=(2, 3)))
    return torch.cat(out).numpy() if out else np.zeros((0, FEATURE_DIM), np.float32)
