"""Inference-time conversions of the course's ResNet-152 and of ResMem: BatchNorm folding and bfloat16.

Why: ResMem costs 27 GFLOP an image, nearly all of it in the ResNet-152's convolutions, and a batched
float32 forward already runs close to a CPU's float32 peak. What is left is to do less work per image
or cheaper work per multiply-add:

* :func:`fold_batchnorm` merges every BatchNorm into the convolution before it (``w' = w·γ/σ``,
  ``b' = (b − μ)·γ/σ + β``). The same function up to float rounding (ResMem scores move by about 1e-6),
  one pass less over every activation: a few per cent.
* :func:`to_bfloat16` runs ``layer2``–``layer4`` (92 % of the multiply-adds) in bfloat16. CPUs with
  AVX512-BF16 or AMX, and recent GPUs, do twice the bfloat16 multiply-adds per cycle (oneDNN accumulates
  in float32), so the network runs ≈ 1.8× faster. The price is rounding: bfloat16 keeps 8 significant
  bits. The stem and ``layer1`` stay float32 because that is where most of the error came from (pixel
  values k/255 and the first feature maps need more than 8 bits); measured on 64 bundled photos, keeping
  them float32 cut the largest score change from 1.3e-2 to 2.7e-3 for ≈ 5 % of the speed.

:func:`for_inference` applies both to a :class:`~labkit.models.resmem.ResMem` and returns a new model
that shares the AlexNet branch and the head (float32, unchanged) with the original; the backbone is a
converted copy. ``precision="fp32"`` folds only and stays equal to the published model to about 1e-6.
"""

from __future__ import annotations

import copy
import warnings
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models import ResNet

from labkit.models.resmem import ResMem

Precision = Literal["fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")
#: Stages run in bfloat16 by :func:`to_bfloat16`; the stem and layer1 stay float32 (see module docstring).
BF16_STAGES: tuple[str, ...] = ("layer2", "layer3", "layer4")


class CastTo(nn.Module):
    """Casts its input to ``dtype``: marks where a network changes precision."""

    def __init__(self, dtype: torch.dtype) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, x: Tensor) -> Tensor:
        return x.to(self.dtype)

    def extra_repr(self) -> str:
        return str(self.dtype)


def _fold_pairs(module: nn.Module) -> None:
    """Folds ``bnK`` into ``convK`` (K = 1, 2, 3) and ``downsample = (conv, bn)`` in place, children first."""
    for child in module.children():
        _fold_pairs(child)
    for k in (1, 2, 3):
        conv, bn = getattr(module, f"conv{k}", None), getattr(module, f"bn{k}", None)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
            setattr(module, f"conv{k}", fuse_conv_bn_eval(conv, bn))
            setattr(module, f"bn{k}", nn.Identity())
    ds = getattr(module, "downsample", None)
    if isinstance(ds, nn.Sequential) and len(ds) == 2 and isinstance(ds[1], nn.BatchNorm2d):
        module.downsample = nn.Sequential(fuse_conv_bn_eval(ds[0], ds[1]))


def fold_batchnorm(net: ResNet) -> ResNet:
    """A copy of a torchvision ResNet with every BatchNorm folded into its convolution (eval mode, frozen).

    The result computes the same function as ``net.eval()`` up to float rounding; it cannot be trained
    (the BN statistics are baked into the weights), so ``net`` itself is left untouched.
    """
    if not isinstance(net, ResNet):
        raise TypeError(f"fold_batchnorm needs a torchvision ResNet, got {type(net).__name__}")
    if any(isinstance(m, CastTo) for m in net.modules()):
        raise ValueError("this ResNet was already converted for inference; fold the original network")
    out = copy.deepcopy(net).eval()
    _fold_pairs(out)
    left = [n for n, m in out.named_modules() if isinstance(m, nn.BatchNorm2d)]
    if left:  # a layout we do not know: better an error than a half-folded network
        raise ValueError(f"could not fold {len(left)} BatchNorm layers (first: {left[0]}); is this a torchvision ResNet?")
    return out.requires_grad_(False)


def bf16_is_native(device: torch.device | str = "cpu") -> bool:
    """Whether ``device`` has bfloat16 multiply-add instructions (CPU: AVX512-BF16 or AMX via oneDNN)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else False


def to_bfloat16(net: ResNet, stages: tuple[str, ...] = BF16_STAGES) -> ResNet:
    """Converts ``stages`` of a ResNet to bfloat16 **in place**, with casts at their borders; returns ``net``.

    Input and output stay float32 (``net(x)`` takes and returns float32), so the network still drops into
    :class:`ResMem` and :class:`~labkit.models.backbones.FeatureExtractor` (whose stage outputs are then
    bfloat16 inside ``stages``; :func:`~labkit.models.backbones.batched_forward` returns float32).
    """
    order = ("layer1", "layer2", "layer3", "layer4")
    if not stages or any(s not in order for s in stages):
        raise ValueError(f"stages must be a non-empty subset of {order}, got {stages!r}")
    idx = sorted(order.index(s) for s in stages)
    if idx != list(range(idx[0], idx[-1] + 1)):
        raise ValueError(f"stages must be consecutive (one switch to bfloat16 and one back), got {stages!r}")
    for name in stages:
        getattr(net, name).to(torch.bfloat16)
    first, last = order[idx[0]], order[idx[-1]]
    setattr(net, first, nn.Sequential(CastTo(torch.bfloat16), getattr(net, first)))
    setattr(net, last, nn.Sequential(getattr(net, last), CastTo(torch.float32)))
    return net


def for_inference(model: ResMem, precision: Precision = "bf16") -> ResMem:
    """A ResMem for fast prediction: BatchNorm folded, and with ``"bf16"`` layer2–layer4 in bfloat16.

    Shares ``branch`` and ``head`` with ``model`` (so a head you fine-tune later is seen by both);
    ``model`` itself is not changed. Use with :func:`labkit.models.resmem.predict`::

        fast = for_inference(model)            # bf16: ≈ 1.8× faster on CPUs with AVX512-BF16 / AMX
        scores = predict(fast, images)         # differs from predict(model, images) by a few 1e-3

    Warns when the device has no bfloat16 instructions: emulated bfloat16 is slower than float32.
    """
    if not isinstance(model, ResMem):
        raise TypeError(f"for_inference needs a labkit ResMem (see load_pretrained), got {type(model).__name__}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    device = next(model.backbone.parameters()).device
    backbone = fold_batchnorm(model.backbone)
    if precision == "bf16":
        if not bf16_is_native(device):
            warnings.warn(
                f"{device} has no bfloat16 multiply-add instructions (AVX512-BF16/AMX on CPU): bfloat16 runs "
                "emulated there and is usually slower than float32; use precision='fp32'",
                RuntimeWarning,
                stacklevel=2,
            )
        to_bfloat16(backbone)
    with torch.device("meta"):  # skeleton only: its three parts are replaced right below
        fast = ResMem(backbone=nn.Identity())
    fast.branch, fast.backbone, fast.head = model.branch, backbone, model.head
    return fast.eval()
