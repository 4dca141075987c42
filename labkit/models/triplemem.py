"""TripleMem (Needell, Brain Bridge Lab, 2020): ResMem plus a frozen semantic-segmentation branch::

    image (3×227×227, [0, 1])
      ├─ AlexNetBranch (ResMem's, published weights)                               (B, 9216)
      ├─ ResNet-152 (frozen, ResMem's) ─ logits                                     (B, 1000)
      │            └─ layer4 maps ─ CAMSegmenter (frozen): class-activation maps of the 1000 ImageNet classes,
      │                             softmax over classes at each location, summed within 7 super-categories
      │                                                                              (B, 7, 8, 8)
      │                             └─ SegmentationCNN (small, trained): 7×8×8 → 32×4×4 → pooled 2×2   (B, 128)
      concat (B, 9216 + 1000 + 128) → RegressionHead → sigmoid

Why class-activation maps (Zhou et al., CVPR 2016) are the segmentation: nothing may be downloaded, and the only
pretrained dense-prediction model that ships offline is the ImageNet ResNet-152 inside ``resmem``. A network that
ends in global average pooling and one linear layer scores class c at every location as Σ_k w_ck f_k(x, y); those
maps, grouped into super-categories (people and what they wear, animals, food, vehicles, buildings, landscape, other
things), are a real, weakly supervised semantic segmentation — coarse (8×8 at ResMem's 227-pixel input), but *where*
each kind of content is, which ResMem's 1000 pooled logits throw away.

Why it costs ResMem plus almost nothing here: the account's TripleMem ran a separate segmentation network (and
trained about 4× slower); the CAMs reuse the ResNet forward pass ResMem already makes, so the extra work is one
1000×2048 matrix product per location and a 5.7 k-parameter CNN.

:func:`load_pretrained` starts from the published ResMem: the head's columns for the segmentation features are zero,
so an untrained TripleMem predicts exactly ResMem's scores (a test checks it); training moves it away from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models import ResNet

from labkit.data.images import ImageLike
from labkit.models.backbones import batched_forward, imagenet_categories, load_resmem_state_dict, resnet152
from labkit.models.resmem import (
    ALEX_DIM,
    COMPACT_WIDTHS,
    INPUT_SIZE,
    PREPROCESS,
    RESNET_DIM,
    AlexNetBranch,
    RegressionHead,
)
from labkit.models.resmem import load_pretrained as load_resmem

#: ImageNet classes that stand for each super-category (names as torchvision spells them); every other class is
#: "other things". ImageNet has almost no class for a person, so people are found through what they wear and do.
SUPER_CATEGORIES: dict[str, tuple[str, ...]] = {
    "people": ("ballplayer", "groom", "scuba diver", "academic gown", "bikini", "bow tie", "jersey", "kimono",
               "lab coat", "lipstick", "mask", "miniskirt", "ski mask", "suit", "sunglass", "sunglasses",
               "sweatshirt", "wig", "Windsor tie", "cardigan", "fur coat", "hoopskirt", "maillot", "overskirt",
               "pajama", "poncho", "sarong", "trench coat", "abaya", "cowboy hat", "bonnet", "sombrero"),
    "vehicles": ("airliner", "ambulance", "beach wagon", "bicycle-built-for-two", "bullet train", "cab", "canoe",
                 "car wheel", "catamaran", "container ship", "convertible", "fireboat", "fire engine",
                 "garbage truck", "gondola", "half track", "horse cart", "jeep", "lifeboat", "limousine", "liner",
                 "minivan", "mobile home", "Model T", "moped", "motor scooter", "mountain bike", "moving van",
                 "passenger car", "pickup", "pirate", "police van", "racer", "recreational vehicle", "school bus",
                 "schooner", "space shuttle", "sports car", "streetcar", "submarine", "tow truck", "trailer truck",
                 "trimaran", "trolleybus", "warplane", "wing", "yawl", "missile", "projectile", "crash helmet",
                 "disk brake", "tricycle", "unicycle", "snowmobile", "tractor"),
    "buildings": ("barn", "beacon", "boathouse", "castle", "church", "cinema", "dam", "dock", "dome", "greenhouse",
                  "library", "monastery", "mosque", "palace", "planetarium", "restaurant", "stupa",
                  "suspension bridge", "steel arch bridge", "viaduct", "water tower", "tile roof", "triumphal arch",
                  "pedestal", "bell cote", "obelisk", "totem pole", "prison", "thatch", "yurt"),
    "landscape": ("alp", "cliff", "coral reef", "geyser", "lakeside", "promontory", "sandbar", "seashore", "valley",
                  "volcano", "breakwater", "stone wall", "worm fence", "maze", "honeycomb"),
}
ANIMALS = range(0, 398)  # ImageNet's first 398 classes are animals
FOOD = range(924, 970)  # dishes, fruit and drinks
GROUPS: tuple[str, ...] = ("people", "animals", "food", "vehicles", "buildings", "landscape", "other things")
SEG_CHANNELS = len(GROUPS)
SEG_DIM = 128  # SegmentationCNN's output: 32 channels × 2 × 2


@lru_cache(maxsize=1)
def group_of_class() -> tuple[int, ...]:
    """The super-category index (into :data:`GROUPS`) of each of the 1000 ImageNet classes."""
    names = imagenet_categories()
    index = {n: i for i, n in enumerate(names)}
    group = [GROUPS.index("other things")] * len(names)
    for i in ANIMALS:
        group[i] = GROUPS.index("animals")
    for i in FOOD:
        group[i] = GROUPS.index("food")
    for name, members in SUPER_CATEGORIES.items():
        for m in members:
            if m not in index:
                raise KeyError(f"{m!r} is not an ImageNet class name (super-category {name!r})")
            group[index[m]] = GROUPS.index(name)
    return tuple(group)


class CAMSegmenter(nn.Module):
    """Frozen: a ResNet's layer4 maps → per-location class scores Σ_k w_ck f_k(x, y) + b_c (the CAMs) → softmax over
    the 1000 classes → summed within each super-category: (B, G, h, w), every location a distribution over
    :data:`GROUPS`. Also returns the ResNet's own logits (the same forward pass), which ResMem's head reads."""

    def __init__(self, backbone: ResNet) -> None:
        super().__init__()
        self.backbone = backbone
        self.backbone.requires_grad_(False)
        assign = torch.zeros(SEG_CHANNELS, 1000)
        assign[torch.tensor(group_of_class()), torch.arange(1000)] = 1.0
        self.register_buffer("assign", assign, persistent=False)  # (G, 1000): class → super-category

    def train(self, mode: bool = True) -> CAMSegmenter:
        """Always eval: frozen means frozen, BatchNorm statistics included."""
        return super().train(False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 3, H, W) → (segmentation (B, G, h, w), logits (B, 1000))."""
        b = self.backbone
        f = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        f = b.layer4(b.layer3(b.layer2(b.layer1(f))))  # (B, 2048, h, w): 8×8 at 227
        logits = b.fc(torch.flatten(b.avgpool(f), 1))  # (B, 1000), exactly the ResNet's output
        cams = torch.einsum("ck,bkhw->bchw", b.fc.weight, f) + b.fc.bias[None, :, None, None]  # (B, 1000, h, w)
        probs = cams.softmax(dim=1)
        return torch.einsum("gc,bchw->bghw", self.assign, probs), logits  # (B, G, h, w)


class SegmentationCNN(nn.Module):
    """The small CNN that turns the segmentation map into features for the head: (B, G, 8, 8) → (B, 128).

    conv1 3×3 G→16 (padding 1) → ReLU → conv2 3×3 16→32 stride 2 (padding 1) → ReLU → average-pool to 2×2 → flatten.
    Why pooling to 2×2 and not to 1×1: *where* each kind of content is (centre or corner, one quadrant or all four)
    is the information the other two branches lack."""

    def __init__(self, in_channels: int = SEG_CHANNELS, width: int = 16) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, kernel_size=3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(2)

    def forward(self, seg: Tensor) -> Tensor:
        x = F.relu(self.conv1(seg))  # (B, 16, 8, 8)
        x = F.relu(self.conv2(x))  # (B, 32, 4, 4)
        return torch.flatten(self.pool(x), 1)  # (B, 128)


INPUTS = ("alex", "res", "seg")


class FeatureHead(nn.Module):
    """What trains on cached frozen features: the segmentation CNN (when ``seg`` is read) and a regression head on
    the chosen inputs. ``inputs=("alex", "res")`` is ResMem's head, ``("alex", "res", "seg")`` TripleMem's,
    ``("seg",)`` the segmentation branch alone — one class, so the comparison changes nothing but what is read.
    Its ``seg_cnn`` and ``head`` have TripleMem's names, so a trained three-input head loads into a TripleMem."""

    def __init__(self, inputs: Sequence[str] = INPUTS, widths: Sequence[int] = COMPACT_WIDTHS,
                 seg_cnn: nn.Module | None = None) -> None:
        super().__init__()
        if not inputs or any(i not in INPUTS for i in inputs) or len(set(inputs)) != len(inputs):
            raise ValueError(f"inputs must be distinct names from {INPUTS}, got {tuple(inputs)!r}")
        self.inputs = tuple(i for i in INPUTS if i in inputs)  # always in the order TripleMem concatenates
        self.seg_cnn = (seg_cnn or SegmentationCNN()) if "seg" in self.inputs else None
        dims = {"alex": ALEX_DIM, "res": RESNET_DIM, "seg": SEG_DIM}
        self.head = RegressionHead(sum(dims[i] for i in self.inputs), widths)

    def forward(self, alex: Tensor, res: Tensor, seg: Tensor) -> Tensor:
        given = {"alex": alex, "res": res, "seg": seg}
        parts = [self.seg_cnn(given[i]) if i == "seg" else given[i] for i in self.inputs]
        return self.head(torch.cat(parts, dim=1))  # (B,)


class TripleMem(nn.Module):
    """ResMem's AlexNet branch and frozen ResNet-152, the frozen CAM segmenter on the same ResNet, the small
    segmentation CNN, and one regression head on all three. Input (B, 3, 227, 227) in [0, 1]."""

    def __init__(self, backbone: ResNet | None = None, widths: Sequence[int] = COMPACT_WIDTHS) -> None:
        super().__init__()
        self.branch = AlexNetBranch()
        self.segmenter = CAMSegmenter(backbone if backbone is not None else resnet152(weights=None))
        self.seg_cnn = SegmentationCNN()
        self.head = RegressionHead(ALEX_DIM + RESNET_DIM + SEG_DIM, widths)

    def train(self, mode: bool = True) -> TripleMem:
        super().train(mode)
        self.segmenter.eval()  # frozen: BatchNorm statistics are part of the pretrained model
        return self

    def features(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The frozen inputs: AlexNet branch (B, 9216), ResNet logits (B, 1000), segmentation (B, G, 8, 8)."""
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"TripleMem needs (B, 3, 227, 227) input (see resmem.PREPROCESS), got {tuple(x.shape)}")
        seg, logits = self.segmenter(x)
        return self.branch(x), logits, seg

    def score(self, alex: Tensor, res: Tensor, seg: Tensor) -> Tensor:
        """The head on cached features: what training on frozen features calls. (B,) in (0, 1)."""
        return self.head(torch.cat([alex, res, self.seg_cnn(seg)], dim=1))

    def forward(self, x: Tensor) -> Tensor:
        return self.score(*self.features(x))


def load_pretrained(widths: Sequence[int] | None = None, seed: int = 0) -> TripleMem:
    """An eval-mode TripleMem that starts as the published ResMem (``resmem`` wheel weights, nothing downloaded).

    ``widths=None`` keeps ResMem's full head, with its published weights and **zero** weights on the 128 segmentation
    features, so it predicts exactly ResMem's scores until trained; other ``widths`` give a fresh head (seeded), as
    for training on cached features. The segmentation CNN is initialised from ``seed``.
    """
    resmem = load_resmem()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = TripleMem(backbone=resmem.backbone, widths=widths or resmem.head.widths)
    model.branch.load_state_dict(resmem.branch.state_dict())
    if widths is None:
        sd = resmem.head.state_dict()
        first = next(k for k in sd if k.endswith("weight"))  # fc6: (4096, 10216) → (4096, 10216 + 128)
        sd[first] = torch.cat([sd[first], torch.zeros(sd[first].shape[0], SEG_DIM)], dim=1)
        model.head.load_state_dict(sd)
    model.segmenter.requires_grad_(False)
    return model.eval()


def extract_features(model: TripleMem, images: Sequence[ImageLike] | Tensor, batch_size: int = 16,
                     progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frozen inputs of the head for ``images``: (N, 9216), (N, 1000), (N, G, 8, 8) float32 — computed once,
    so the segmentation CNN and the head train on them in seconds (:meth:`TripleMem.score`)."""
    model.eval()
    alex, res, seg = batched_forward(model.features, images, PREPROCESS, batch_size, progress, "TripleMem features")
    return alex.numpy(), res.numpy(), seg.numpy()


def predict(model: TripleMem, images: Sequence[ImageLike] | Tensor, batch_size: int = 16,
            progress: bool = True) -> np.ndarray:
    """Scores (N,) float32, batched under ``torch.inference_mode`` (see :func:`labkit.models.resmem.predict`)."""
    was_training = model.training
    model.eval()
    try:
        return batched_forward(model, images, PREPROCESS, batch_size, progress, "TripleMem").numpy()
    finally:
        model.train(was_training)


def save_checkpoint(model: TripleMem, path: str | Path) -> Path:
    """The trained parts only (AlexNet branch, segmentation CNN, head and its widths): the frozen ResNet comes from
    the ``resmem`` wheel on load. A ``weights_only``-loadable file, written to a temporary name and renamed."""
    from labkit.core.files import replace_atomically

    state = {"widths": list(model.head.widths), "branch": model.branch.state_dict(),
             "seg_cnn": model.seg_cnn.state_dict(), "head": model.head.state_dict()}
    return replace_atomically(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path) -> TripleMem:
    """A TripleMem saved by :func:`save_checkpoint`; a file that is not one names what is wrong."""
    from labkit.core.errors import CheckpointError
    from labkit.core.files import load_model_file

    state = load_model_file(path, "TripleMem checkpoint", "save one with labkit.models.triplemem.save_checkpoint")
    missing = [k for k in ("widths", "branch", "seg_cnn", "head") if k not in state]
    if missing:
        raise CheckpointError(f"not a TripleMem checkpoint: it lacks {', '.join(missing)}", path=path,
                              fix="save one with labkit.models.triplemem.save_checkpoint")
    widths = state["widths"]
    if not (isinstance(widths, list | tuple) and len(widths) == 6 and all(isinstance(w, int) and 1 <= w <= 8192
                                                                         for w in widths)):
        raise CheckpointError(f"its widths {widths!r} are not six layer sizes from 1 to 8192", path=path)
    model = load_pretrained(widths=tuple(widths))
    for part in ("branch", "seg_cnn", "head"):
        tensors = state[part]
        if not isinstance(tensors, dict):
            raise CheckpointError(f"its {part} is not a state dict", path=path)
        bad = [k for k, v in tensors.items() if not torch.isfinite(v).all()]
        if bad:
            raise CheckpointError(f"weight '{part}.{bad[0]}' holds non-finite values", path=path)
        try:
            getattr(model, part).load_state_dict(tensors)
        except RuntimeError as e:
            raise CheckpointError(f"its {part} weights do not fit TripleMem ({str(e).splitlines()[0]})",
                                  path=path) from None
    return model.eval()


__all__ = ["GROUPS", "INPUTS", "CAMSegmenter", "FeatureHead", "SegmentationCNN", "TripleMem", "extract_features", "load_checkpoint",
           "load_pretrained", "load_resmem_state_dict", "predict", "save_checkpoint"]
