"""A deliberately tiny convnet: the baseline RAM is compared with on translated / cluttered MNIST.

Two strided convolutions and a global max-pool (so the digit may sit anywhere on the canvas),
then a linear classifier. It sees every pixel, which is what RAM's glimpses avoid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SmallConvNet(nn.Module):
    """conv 5×5/2 → ReLU → conv 5×5/2 → ReLU → global max-pool → linear; returns log-probabilities."""

    def __init__(self, channels: int = 1, width: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 5, stride=2, padding=2)
        self.conv2 = nn.Conv2d(width, 2 * width, 5, stride=2, padding=2)
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.conv2(F.relu(self.conv1(x))))  # (B, 2w, H/4, W/4)
        return F.log_softmax(self.fc(x.amax(dim=(2, 3))), dim=1)  # (B, classes)

    @torch.inference_mode()
    def predict(self, images: Tensor, samples: int = 1) -> Tensor:
        """Class log-probabilities in eval mode; the same call as ``RAM.predict`` so one ``accuracy`` serves both
        (``samples`` is accepted for that reason: a convnet is deterministic)."""
        return self.eval()(images)


def convnet_step(model: nn.Module, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
    """The ``step`` for ``labkit.train.fit``: NLL and accuracy on one batch."""
    images, labels = batch
    log_probs = model(images)
    return {"loss": F.nll_loss(log_probs, labels), "acc": (log_probs.argmax(1) == labels).float().mean()}
