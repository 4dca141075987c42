"""ResMem (Needell & Bainbridge): a MemNet-like AlexNet branch beside a frozen ImageNet ResNet-152::

    image (3×227×227, [0, 1], no normalisation)
      ├─ AlexNetBranch: conv1 48@11/4 → pool → LRN → conv2 256@5 g2 → pool → LRN → conv3/4 384 g2
      │                 → conv5 256 g2 → pool → flatten                         (B, 9216)
      └─ ResNet-152 (frozen, ImageNet classifier output, no softmax)          (B, 1000)
    concat (B, 10216) → RegressionHead: fc 4096 → 4096 → 2048 → 1024 → 512 → 256 → 1 → sigmoid

Our own module (the ``resmem`` package's class is only used as the reference in tests): the three
parts are separate sub-modules so notebooks can cache the frozen features and train the head alone.
:func:`load_pretrained` reads the weights shipped inside the installed ``resmem`` wheel; outputs
equal ``resmem.ResMem(pretrained=True)`` to float precision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labkit.data.images import ImageLike
from labkit.models.backbones import (
    RESMEM_PREPROCESS,
    Preprocess,
    batched_forward,
    load_resmem_state_dict,
    resnet152,
    resnet152_from_state_dict,
)

INPUT_SIZE = 227
ALEX_DIM = 9216  # 256 × 6 × 6 after pool5 at 227×227
RESNET_DIM = 1000
PREPROCESS: Preprocess = RESMEM_PREPROCESS


class AlexNetBranch(nn.Module):
    """MemNet-like convolutional branch (CaffeNet order: pool before LRN), 48 filters in conv1."""

    def __init__(self, width: int = 384) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 48, kernel_size=11, stride=4)
        self.pool1 = nn.MaxPool2d(3, 2)
        self.lrn1 = nn.LocalResponseNorm(5)  # α=1e-4, β=0.75, k=1 (Caffe's defaults)
        self.conv2 = nn.Conv2d(48, 256, kernel_size=5, padding=2, groups=2)
        self.pool2 = nn.MaxPool2d(3, 2)
        self.lrn2 = nn.LocalResponseNorm(5)
        self.conv3 = nn.Conv2d(256, width, kernel_size=3, padding=1, groups=2)
        self.conv4 = nn.Conv2d(width, width, kernel_size=3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(width, 256, kernel_size=3, padding=1, groups=2)
        self.pool5 = nn.MaxPool2d(3, 2)

    def conv_maps(self, x: Tensor) -> Tensor:
        """(B, 3, 227, 227) → conv5 maps after ReLU (B, 256, 13, 13), the layer Grad-CAM looks at."""
        x = self.lrn1(self.pool1(F.relu(self.conv1(x))))  # (B, 48, 27, 27)
        x = self.lrn2(self.pool2(F.relu(self.conv2(x))))  # (B, 256, 13, 13)
        x = F.relu(self.conv4(F.relu(self.conv3(x))))  # (B, 384, 13, 13)
        return F.relu(self.conv5(x))  # (B, 256, 13, 13)

    def forward(self, x: Tensor) -> Tensor:
        return torch.flatten(self.pool5(self.conv_maps(x)), 1)  # (B, 9216)


HEAD_WIDTHS = (4096, 4096, 2048, 1024, 512, 256)
#: Same depth, 1/16 of the width (2.7 M instead of 69 M parameters): trains in seconds on a CPU.
COMPACT_WIDTHS = (256, 256, 128, 64, 32, 16)


class RegressionHead(nn.Module):
    """The deep MLP on the concatenated features: 10216 → fc6 … fc11 → fc12 → sigmoid; dropout 0.5 after fc6
    and fc7. ``widths``: the six hidden sizes (ResMem's by default; :data:`COMPACT_WIDTHS` for quick training)."""

    def __init__(
        self, in_features: int = ALEX_DIM + RESNET_DIM, widths: Sequence[int] = HEAD_WIDTHS, dropout: float = 0.5
    ) -> None:
        super().__init__()
        if len(widths) != 6 or any(int(w) < 1 for w in widths):
            raise ValueError(f"widths must be six positive layer sizes (fc6…fc11), got {tuple(widths)}")
        sizes = [in_features, *map(int, widths)]
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            setattr(self, f"fc{6 + i}", nn.Linear(a, b))
        self.fc12 = nn.Linear(sizes[-1], 1)
        self.drop6 = nn.Dropout(dropout)
        self.drop7 = nn.Dropout(dropout)

    @property
    def widths(self) -> tuple[int, ...]:
        """The six hidden sizes (fc6…fc11), as passed to the constructor."""
        return tuple(getattr(self, f"fc{6 + i}").out_features for i in range(6))

    def forward(self, feats: Tensor) -> Tensor:  # feats: (B, 10216)
        h = self.drop6(F.relu(self.fc6(feats)))  # (B, 4096)
        h = self.drop7(F.relu(self.fc7(h)))  # (B, 4096)
        for fc in (self.fc8, self.fc9, self.fc10, self.fc11):
            h = F.relu(fc(h))  # (B, widths[-1]) at the end
        return torch.sigmoid(self.fc12(h)).squeeze(1)  # (B,) memorability in (0, 1)


class ResMem(nn.Module):
    """AlexNet branch + frozen ResNet-152 logits → regression head. Input (B, 3, 227, 227) in [0, 1]."""

    def __init__(self, backbone: nn.Module | None = None) -> None:
        super().__init__()
        self.branch = AlexNetBranch()
        self.backbone = backbone if backbone is not None else resnet152(weights=None)
        self.backbone.requires_grad_(False)
        self.head = RegressionHead()

    def train(self, mode: bool = True) -> ResMem:
        """The backbone stays in eval mode: its BatchNorm statistics are part of the published model."""
        super().train(mode)
        self.backbone.eval()
        return self

    def features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The head's two inputs: AlexNet branch (B, 9216) and ResNet-152 logits (B, 1000)."""
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"ResMem needs (B, 3, 227, 227) input (see PREPROCESS), got {tuple(x.shape)}")
        return self.branch(x), self.backbone(x)

    def forward(self, x: Tensor) -> Tensor:
        alex, res = self.features(x)
        return self.head(torch.cat([alex, res], dim=1))  # (B,)


def map_package_keys(sd: dict[str, Tensor]) -> dict[str, Tensor]:
    """The ``resmem`` package's key names → ours (``features.`` → ``backbone.``, conv* → ``branch.``, fc* → ``head.``)."""
    out = {}
    for k, v in sd.items():
        if k.startswith("features."):
            out["backbone." + k[len("features."):]] = v
        elif re.match(r"conv\d\.", k):
            out["branch." + k] = v
        elif re.match(r"fc\d+\.", k):
            out["head." + k] = v
        else:
            raise KeyError(f"unexpected key {k!r} in the ResMem weights file")
    return out


def load_pretrained(path: str | Path | None = None) -> ResMem:
    """ResMem with the published weights (default: ``model.pt`` inside the installed ``resmem`` wheel),
    loaded with ``torch.load(weights_only=True)``, in eval mode, all parameters frozen."""
    sd = load_resmem_state_dict(path)
    backbone = resnet152_from_state_dict(sd)
    with torch.device("meta"):  # skip the random init of 70 M head parameters
        model = ResMem(backbone=backbone)
    ours = map_package_keys({k: v for k, v in sd.items() if not k.startswith("features.")})
    missing, unexpected = model.load_state_dict(ours, strict=False, assign=True)
    if unexpected or any(not k.startswith("backbone.") for k in missing):
        raise KeyError(f"weights do not fit ResMem: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.requires_grad_(False)
    return model.eval()


def predict(
    model: ResMem,
    images: Sequence[ImageLike] | Tensor,
    batch_size: int = 16,
    progress: bool = True,
    channels_last: bool = True,
) -> np.ndarray:
    """Memorability scores (N,) float32 for images (paths, PIL images, arrays, or a preprocessed
    (N, 3, 227, 227) tensor): batched, under ``torch.inference_mode``, NHWC on CPU, progress bar.

    On the published model this equals the ``resmem`` package to 1e-6. For about twice the speed, at a
    score change of a few 1e-3, pass ``labkit.models.inference.for_inference(model)`` instead."""
    was_training = model.training
    model.eval()
    # Weights and input in one layout: a channels-last weight would turn an "NCHW" run into NHWC anyway.
    model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    try:
        out = batched_forward(model, images, PREPROCESS, batch_size, progress, "ResMem", channels_last)
    finally:
        model.train(was_training)
    return out.numpy()


def extract_features(
    model: ResMem, images: Sequence[ImageLike] | Tensor, batch_size: int = 16, progress: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The frozen inputs of the head: (N, 9216) AlexNet-branch and (N, 1000) ResNet-152 features.
    ``model.head(torch.cat([alex, res], 1))`` gives :func:`predict`'s scores."""
    model.eval().to(memory_format=torch.channels_last)
    alex, res = batched_forward(model.features, images, PREPROCESS, batch_size, progress, "ResMem features")
    return alex.numpy(), res.numpy()


def single_branch_input(alex: np.ndarray, res: np.ndarray, keep: str) -> np.ndarray:
    """The head's input with one branch *ablated*: ``[alex; res]`` (B, A + R), the other branch's features
    replaced by their mean over the set, so the head sees only how the kept branch varies between images."""
    if keep not in ("alex", "resnet"):
        raise ValueError(f"keep must be 'alex' or 'resnet', got {keep!r}")
    if alex.ndim != 2 or res.ndim != 2 or len(alex) != len(res):
        raise ValueError(f"need alex (B, A) and res (B, R) with the same B, got {alex.shape} and {res.shape}")
    if keep == "alex":
        res = np.broadcast_to(res.mean(0), res.shape)  # (B, R), every row the set's mean
    else:
        alex = np.broadcast_to(alex.mean(0), alex.shape)  # (B, A)
    return np.concatenate([alex, res], 1)  # (B, A + R): AlexNet first, as the head was trained


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """Parameters per top-level child (for the architecture table)."""
    return {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
