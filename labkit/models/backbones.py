"""The course's ImageNet backbone: the ResNet-152 shipped inside the ``resmem`` wheel, as a feature extractor.

Why this one: it is the only ImageNet ResNet whose weights are installed with the course (torchvision's
would need a download). ResMem's authors kept the ImageNet conv and fc weights but re-fitted the
BatchNorm statistics to *un-normalised* [0, 1] input, so its preprocessing is
``Resize((256, 256)) → CenterCrop(227) → ToTensor`` with **no mean/std normalisation**; feed it
ImageNet-normalised tensors and its predictions are garbage. :class:`Preprocess` declares exactly that.

API (used by notebooks 02, 03, 05, 06)::

    net = resnet152(weights="resmem")                       # torchvision ResNet, eval mode, frozen
    pre = Preprocess(crop=224)                              # 224 → layer3 is 1024×14×14 (AMNet)
    feats = extract(images, stage="pool", batch_size=32)    # (N, 2048) torch.float32, progress bar
    fx = FeatureExtractor(net, "layer3"); fx(pre.batch(images))  # (N, 1024, 14, 14)

Stages and their outputs for a 224×224 input (227 gives 15×15 at layer3, 8×8 at layer4):
``layer1`` 256×56×56, ``layer2`` 512×28×28, ``layer3`` 1024×14×14, ``layer4`` 2048×7×7,
``pool`` 2048 (global average), ``logits`` 1000 (ImageNet classes, no softmax).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn
from torchvision import transforms
from torchvision.models import ResNet
from torchvision.models import resnet152 as _tv_resnet152

from labkit.core.errors import AssetError
from labkit.core.progress import tqdm
from labkit.data.images import ImageLike, load_image

Stage = Literal["layer1", "layer2", "layer3", "layer4", "pool", "logits"]
STAGES: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4", "pool", "logits")


class WeightsNotFoundError(AssetError):
    """The ``resmem`` package (which carries the weights) is not installed, or its weights file is broken."""


def resmem_weights_file() -> Path:
    """``model.pt`` inside the installed ``resmem`` package (located without importing it)."""
    spec = importlib.util.find_spec("resmem")
    if spec is None or spec.origin is None:
        raise WeightsNotFoundError(
            "the `resmem` package is not installed, and it carries the ResMem/ResNet-152 weights; "
            "install it with `pip install resmem==1.1.6` (see environment.yml)"
        )
    path = Path(spec.origin).parent / "model.pt"
    if not path.is_file():
        raise WeightsNotFoundError(f"resmem is installed but its weights file {path} is missing; reinstall resmem==1.1.6")
    return path


def load_resmem_state_dict(path: str | Path | None = None) -> dict[str, Tensor]:
    """The package's state dict (keys ``features.*`` = ResNet-152, ``conv*``/``fc*`` = ResMem's own)."""
    path = Path(path) if path is not None else resmem_weights_file()
    if not path.is_file():
        raise WeightsNotFoundError(f"ResMem weights file {path} does not exist")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a git-lfs pointer, a truncated download, a pickle with code in it
        raise WeightsNotFoundError(
            f"{path} is not a readable weights file ({type(e).__name__}: {str(e)[:120]}); "
            "if it is a git-lfs pointer run `git lfs pull`, else reinstall resmem==1.1.6"
        ) from e
    if not isinstance(sd, dict) or "features.fc.weight" not in sd:
        raise WeightsNotFoundError(f"{path} holds no ResMem state dict (no 'features.fc.weight' key)")
    return sd


def resnet152_from_state_dict(sd: dict[str, Tensor], prefix: str = "features.") -> ResNet:
    """A torchvision ResNet-152 with the entries of ``sd`` under ``prefix``; eval mode, frozen."""
    with torch.device("meta"):  # no random init of 60 M parameters that are overwritten next
        net = _tv_resnet152(weights=None)
    own = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    net.load_state_dict(own, strict=True, assign=True)
    net.requires_grad_(False)
    return net.eval()


def resnet152(weights: Literal["resmem"] | None = "resmem") -> ResNet:
    """ResNet-152; ``weights="resmem"``: the ImageNet weights (BN re-fitted to [0, 1] input) from the
    ``resmem`` wheel, eval mode, frozen; ``None``: random init (for shape tests)."""
    if weights is None:
        return _tv_resnet152(weights=None).eval()
    if weights != "resmem":
        raise ValueError(f"weights must be 'resmem' or None, got {weights!r} (no other weights ship offline)")
    return resnet152_from_state_dict(load_resmem_state_dict())


@dataclass(frozen=True)
class Preprocess:
    """The input the ResMem weights need: ``Resize((resize, resize)) → CenterCrop(crop) → ToTensor``.

    No normalisation (the BN statistics expect [0, 1] RGB). ``crop=227`` is ResMem's own input;
    ``crop=224`` gives the 14×14 layer3 grid AMNet expects. ``min_side`` rejects images that would
    be upsampled from next to nothing (see :func:`labkit.data.images.load_image`).
    """

    resize: int = 256
    crop: int = 227
    min_side: int = 32

    @property
    def transform(self) -> Callable[[object], Tensor]:
        return transforms.Compose(
            [transforms.Resize((self.resize, self.resize)), transforms.CenterCrop(self.crop), transforms.ToTensor()]
        )

    def __call__(self, image: ImageLike) -> Tensor:
        """One image → (3, crop, crop) float32 in [0, 1]."""
        return self.transform(load_image(image, min_side=self.min_side))

    def batch(self, images: Sequence[ImageLike]) -> Tensor:
        """Images → (B, 3, crop, crop)."""
        t = self.transform
        return torch.stack([t(load_image(im, min_side=self.min_side)) for im in images])


RESMEM_PREPROCESS = Preprocess()


class FeatureExtractor(nn.Module):
    """Runs a torchvision ResNet up to ``stage`` and returns that stage's output (see module docstring)."""

    def __init__(self, backbone: ResNet, stage: Stage = "pool") -> None:
        super().__init__()
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        self.backbone = backbone
        self.stage = stage
        self.channels = {"layer1": 256, "layer2": 512, "layer3": 1024, "layer4": 2048, "pool": 2048, "logits": 1000}[
            stage
        ]

    def forward(self, x: Tensor) -> Tensor:  # x: (B, 3, H, W) in [0, 1]
        b = self.backbone
        x = b.maxpool(b.relu(b.bn1(b.conv1(x))))  # (B, 64, H/4, W/4)
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(b, name)(x)  # layer3: (B, 1024, H/16, W/16)
            if name == self.stage:
                return x
        x = torch.flatten(b.avgpool(x), 1)  # (B, 2048)
        return x if self.stage == "pool" else b.fc(x)  # (B, 1000)


def batched_forward(
    fn: Callable[[Tensor], Tensor | tuple[Tensor, ...]],
    images: Sequence[ImageLike] | Tensor,
    preprocess: Preprocess = RESMEM_PREPROCESS,
    batch_size: int = 32,
    progress: bool = True,
    desc: str = "forward",
    channels_last: bool = True,
) -> Tensor | tuple[Tensor, ...]:
    """``fn`` over ``images`` in batches under ``torch.inference_mode``, outputs concatenated on CPU.

    Images are decoded one batch at a time (memory stays flat for thousands of files); a tensor
    input (B, 3, H, W) is taken as already preprocessed. ``channels_last`` lets oneDNN pick its
    fast NHWC convolutions on CPU.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = len(images)
    if n == 0:
        raise ValueError("no images given")
    outs: list = []
    with torch.inference_mode():
        for start in tqdm(range(0, n, batch_size), desc=desc, disable=not progress, unit="batch"):
            chunk = images[start:start + batch_size]
            x = chunk if isinstance(chunk, Tensor) else preprocess.batch(chunk)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = fn(x)
            outs.append(tuple(t.float().cpu() for t in y) if isinstance(y, tuple) else y.float().cpu())
    if isinstance(outs[0], tuple):
        return tuple(torch.cat([o[i] for o in outs]).contiguous() for i in range(len(outs[0])))
    return torch.cat(outs).contiguous()


@lru_cache(maxsize=1)
def shared_resnet152() -> ResNet:
    """One ``resnet152("resmem")`` per process (eval, frozen use only): loading it costs seconds, so it is shared."""
    return resnet152("resmem").to(memory_format=torch.channels_last)


def extract(
    images: Sequence[ImageLike] | Tensor,
    stage: Stage = "pool",
    batch_size: int = 32,
    backbone: ResNet | None = None,
    preprocess: Preprocess = RESMEM_PREPROCESS,
    progress: bool = True,
    channels_last: bool = True,
) -> Tensor:
    """Features of ``images`` at ``stage`` (float32, CPU), batched, no gradients.

    ``backbone=None`` uses one shared ``resnet152("resmem")`` (loaded once per process).
    For AMNet's 14×14 grid pass ``preprocess=Preprocess(crop=224)``.
    """
    net = backbone if backbone is not None else shared_resnet152()
    fx = FeatureExtractor(net, stage).eval()
    return batched_forward(fx, images, preprocess, batch_size, progress, f"resnet152 {stage}", channels_last)


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet class names, from torchvision's weights metadata (no download involved)."""
    from torchvision.models import ResNet152_Weights

    return list(ResNet152_Weights.IMAGENET1K_V1.meta["categories"])
