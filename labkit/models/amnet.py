"""AMNet (Fajtl et al., CVPR 2018): soft spatial attention over a frozen CNN map, read by an LSTM.

The original (ok1zjf/AMNet ``amnet_model.py``) in the paper's notation, one class per sub-network:

* :class:`FeatureProjection` — frozen CNN map (C=1024, 14×14) → 1×1 conv → BN → ReLU → dropout 0.8:
  the annotation vectors a = {a_1 … a_L}, a_i ∈ R^D (D=512, L=196);
* :class:`InitState` — h_0, c_0 = tanh(W · mean_i a_i);
* :class:`OriginalAttention` — e_i = drop(ReLU(W_e a_i)) once per image; each step
  α_t = softmax_L(w · drop(ReLU(e_i + [W_h h_{t−1}]_i))), where W_h maps the hidden state to **one
  scalar per location** (H → L), broadcast over the D features. :class:`BahdanauAttention` is the
  common additive form (W_h: H → D, tanh); :class:`UniformAttention` is the ``--att-off`` ablation;
* the core: z_t = Σ_i α_ti a_i → 1-layer LSTM (D → H=1024) → drop → :class:`Regressor` (H → 512 → 1)
  at every step; the prediction is the mean over the T = ``lstm_steps`` steps.

Targets live in a normalised space ŷ = (y − mean)·2 (LaMem mean 0.754); :meth:`AMNet.denormalise`
maps back. The loss (:func:`amnet_loss`) is MSE there plus γ·(1/B)·Σ_b Σ_i (Σ_t (0.2 − α_bti))²,
which pushes each location's attention summed over steps toward 0.2·T (spreads attention over
the steps instead of one location at every step).

Differences from the released code, on purpose: the CNN is not inside the model (features come from
:mod:`labkit.data.feature_cache`); ``nn.LSTMCell`` replaces a 1-step ``nn.LSTM`` (same maths; the
original's LSTM dropout=0.5 has no effect on one layer); the released ``amnet.py`` instantiates
``a_vec_size=1024`` while the paper describes D=512 — ``d`` is a config field, default 512.
Any grid works (L = H·W is ``locations``); the bundled course features are 7×7 (L=49).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from labkit.data.images import ImageLike
from labkit.models.attention_ops import masked_softmax


@dataclass
class AMNetConfig:
    """Model sizes and the loss's constants; the fields are notebook parameters."""

    in_channels: int = 1024  # C of the frozen map (ResNet layer3)
    locations: int = 196  # L = H·W of the frozen map (14×14; 49 for the bundled 7×7 features)
    d: int = 512  # D: annotation vector size after the 1×1 conv
    hidden: int = 1024  # H: LSTM hidden size
    lstm_steps: int = 3  # T
    attention: str = "original"  # original | bahdanau
    att_off: bool = False  # True: uniform α = 1/L (the paper's ablation)
    feat_dropout: float = 0.8
    dropout: float = 0.5
    target_mean: float = 0.754  # LaMem training mean used by the original
    target_scale: float = 2.0
    gamma: float = 1e-5  # weight of the attention regulariser
    att_target: float = 0.2  # per-step target of the regulariser

    def __post_init__(self) -> None:
        if self.attention not in ("original", "bahdanau"):
            raise ValueError(f"attention must be 'original' or 'bahdanau', got {self.attention!r}")
        for name in ("in_channels", "locations", "d", "hidden", "lstm_steps"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"AMNetConfig.{name} must be a positive int, got {v!r}")
        if self.gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {self.gamma}")


class AMNetOutput(NamedTuple):
    y: Tensor  # (B,) prediction in the normalised target space (mean over steps)
    y_steps: Tensor  # (B, T) per-step predictions, normalised space
    alpha: Tensor  # (B, T, L) attention weights, each (b, t) row sums to 1 over valid locations


class FeatureProjection(nn.Module):
    """Frozen map (B, C, h, w) → annotation vectors a (B, L, D): 1×1 conv, BN, ReLU, dropout 0.8."""

    def __init__(self, cfg: AMNetConfig) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cfg.in_channels, cfg.d, kernel_size=1)
        self.bn = nn.BatchNorm2d(cfg.d)
        self.drop = nn.Dropout(cfg.feat_dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.drop(torch.relu(self.bn(self.conv(x))))  # (B, D, h, w)
        return x.flatten(2).transpose(1, 2)  # (B, L, D)


class InitState(nn.Module):
    """h_0, c_0 = tanh(W_h0 ā), tanh(W_c0 ā) with ā the mean annotation vector."""

    def __init__(self, cfg: AMNetConfig) -> None:
        super().__init__()
        self.h = nn.Linear(cfg.d, cfg.hidden)
        self.c = nn.Linear(cfg.d, cfg.hidden)

    def forward(self, a: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        mean = masked_mean(a, mask)  # (B, D)
        return torch.tanh(self.h(mean)), torch.tanh(self.c(mean))  # (B, H) each


def masked_mean(a: Tensor, mask: Tensor | None) -> Tensor:
    """Mean of a (B, L, D) over the valid locations of mask (B, L) (all when None) → (B, D)."""
    if mask is None:
        return a.mean(1)
    m = mask.to(a.dtype).unsqueeze(-1)  # (B, L, 1)
    return (a * m).sum(1) / m.sum(1).clamp_min(1.0)


class OriginalAttention(nn.Module):
    """AMNet's attention: the hidden state gives one scalar per location, added to e (broadcast over D)."""

    def __init__(self, cfg: AMNetConfig) -> None:
        super().__init__()
        self.W_e = nn.Linear(cfg.d, cfg.d, bias=False)
        self.W_h = nn.Linear(cfg.hidden, cfg.locations)  # H → L: a location prior from h
        self.w = nn.Linear(cfg.d, 1, bias=False)
        self.drop = nn.Dropout(cfg.dropout)

    def embed(self, a: Tensor) -> Tensor:
        """e = drop(ReLU(W_e a)), computed once per image: (B, L, D) → (B, L, D)."""
        return self.drop(torch.relu(self.W_e(a)))

    def forward(self, e: Tensor, h: Tensor, mask: Tensor | None = None) -> Tensor:
        return original_attention_step(e, h, self.W_h.weight, self.W_h.bias, self.w.weight[0], mask, self.drop)


def original_attention_step(e: Tensor, h: Tensor, W_h: Tensor, b_h: Tensor, w: Tensor, mask: Tensor | None = None,
                            dropout: Callable[[Tensor], Tensor] | None = None) -> Tensor:
    """One step of AMNet's attention as plain tensor maths: what :class:`OriginalAttention` computes, with
    its weights passed in, so the module and notebook 03's exercise (checked against this) are one code.

    e (B, L, D) embedded features, h (B, H) state, W_h (L, H) and b_h (L,) the H → L map, w (D,)
    the scorer → α (B, L) = softmax_L(w · drop(ReLU(e_i + [W_h h + b_h]_i))), zero where ``mask`` (B, L)
    is False. ``dropout`` (the module's ``nn.Dropout``) is left out at inference and in the exercise.
    """
    prior = F.linear(h, W_h, b_h)  # (B, L): one scalar per location
    eh = torch.relu(e + prior.unsqueeze(-1))  # (B, L, D) + (B, L, 1)
    if dropout is not None:
        eh = dropout(eh)
    scores = F.linear(eh, w.unsqueeze(0)).squeeze(-1)  # (B, L, D) · (D,) → (B, L)
    return masked_softmax(scores, mask)  # (B, L)


class BahdanauAttention(nn.Module):
    """Additive attention (Bahdanau et al. 2015): score_i = w · tanh(W_e a_i + W_h h), W_h: H → D."""

    def __init__(self, cfg: AMNetConfig) -> None:
        super().__init__()
        self.W_e = nn.Linear(cfg.d, cfg.d, bias=False)
        self.W_h = nn.Linear(cfg.hidden, cfg.d)
        self.w = nn.Linear(cfg.d, 1, bias=False)
        self.drop = nn.Dropout(cfg.dropout)

    def embed(self, a: Tensor) -> Tensor:
        return self.W_e(a)  # (B, L, D)

    def forward(self, e: Tensor, h: Tensor, mask: Tensor | None = None) -> Tensor:
        eh = torch.tanh(e + self.W_h(h).unsqueeze(1))  # (B, L, D) + (B, 1, D)
        return masked_softmax(self.w(self.drop(eh)).squeeze(-1), mask)  # (B, L)


class UniformAttention(nn.Module):
    """``att_off``: α_i = 1/L over the valid locations, whatever the state."""

    def embed(self, a: Tensor) -> Tensor:
        return a

    def forward(self, e: Tensor, h: Tensor, mask: Tensor | None = None) -> Tensor:
        return masked_softmax(torch.zeros(e.shape[:2], dtype=e.dtype, device=e.device), mask)  # (B, L)


class Regressor(nn.Module):
    """Per-step memorability from h_t: Linear H→512 → ReLU → dropout → Linear 512→1."""

    def __init__(self, cfg: AMNetConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cfg.hidden, 512), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(512, 1))

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h).squeeze(-1)  # (B,)


class AMNet(nn.Module):
    """AMNet head on cached frozen feature maps (B, C, h, w); see the module docstring."""

    def __init__(self, cfg: AMNetConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or AMNetConfig()
        self.project = FeatureProjection(cfg)
        self.init_state = InitState(cfg)
        if cfg.att_off:
            self.attend: nn.Module = UniformAttention()
        elif cfg.attention == "bahdanau":
            self.attend = BahdanauAttention(cfg)
        else:
            self.attend = OriginalAttention(cfg)
        self.lstm = nn.LSTMCell(cfg.d, cfg.hidden)
        self.drop = nn.Dropout(cfg.dropout)
        self.regress = Regressor(cfg)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> AMNetOutput:
        """x: (B, C, h, w) frozen features; mask: optional (B, L) bool, True = a location to attend."""
        if x.dim() != 4 or x.shape[1] != self.cfg.in_channels or x.shape[2] * x.shape[3] != self.cfg.locations:
            raise ValueError(
                f"AMNet expects features (B, {self.cfg.in_channels}, h, w) with h·w = {self.cfg.locations}, "
                f"got {tuple(x.shape)}; set AMNetConfig.in_channels/locations to your feature map"
            )
        if mask is not None and (mask.shape != (x.shape[0], self.cfg.locations) or mask.dtype != torch.bool):
            raise ValueError(f"mask must be a bool tensor of shape (B, L) = {(x.shape[0], self.cfg.locations)}")
        if mask is not None and not mask.any(1).all():
            raise ValueError("mask leaves an image with no location to attend")
        a = self.project(x)  # (B, L, D)
        h, c = self.init_state(a, mask)  # (B, H), (B, H)
        e = self.attend.embed(a)  # (B, L, D)
        h_att = h  # the state attention reads: h_0, then the dropped-out h_t (as the original)
        ys, alphas = [], []
        for _ in range(self.cfg.lstm_steps):
            alpha = self.attend(e, h_att, mask)  # (B, L)
            z = torch.bmm(alpha.unsqueeze(1), a).squeeze(1)  # (B, 1, L) @ (B, L, D) → (B, D)
            h, c = self.lstm(z, (h, c))  # (B, H)
            h_att = self.drop(h)
            ys.append(self.regress(h_att))  # (B,)
            alphas.append(alpha)
        y_steps = torch.stack(ys, 1)  # (B, T)
        return AMNetOutput(y_steps.mean(1), y_steps, torch.stack(alphas, 1))  # (B,), (B, T), (B, T, L)

    def normalise(self, target: Tensor) -> Tensor:
        """y → (y − mean)·scale, the space the regressor works in."""
        return (target - self.cfg.target_mean) * self.cfg.target_scale

    def denormalise(self, y: Tensor) -> Tensor:
        """Regressor output → memorability units: y/scale + mean."""
        return y / self.cfg.target_scale + self.cfg.target_mean

    @torch.inference_mode()
    def predict(self, x: Tensor, batch_size: int = 128) -> tuple[Tensor, Tensor]:
        """(predictions (N,) in target units, attention (N, T, L)) in eval mode, batched."""
        was = self.training
        self.eval()
        preds, alphas = [], []
        for s in range(0, len(x), batch_size):
            out = self(x[s:s + batch_size])
            preds.append(self.denormalise(out.y))
            alphas.append(out.alpha)
        self.train(was)
        return torch.cat(preds), torch.cat(alphas)


def attention_regulariser(alpha: Tensor, target: float = 0.2, mask: Tensor | None = None) -> Tensor:
    """(1/B)·Σ_b Σ_i (Σ_t (target − α_bti))² for alpha (B, T, L); masked-out locations excluded."""
    per_loc = (target - alpha).sum(1) ** 2  # (B, L)
    if mask is not None:
        per_loc = per_loc * mask.to(per_loc.dtype)
    return per_loc.sum() / alpha.shape[0]


def amnet_loss(model: AMNet, out: AMNetOutput, target: Tensor, mask: Tensor | None = None) -> dict[str, Tensor]:
    """The original objective: MSE in the normalised space + γ · attention regulariser."""
    mse = torch.mean((out.y - model.normalise(target)) ** 2)
    att = attention_regulariser(out.alpha, model.cfg.att_target, mask)
    return {"loss": mse + model.cfg.gamma * att, "mse": mse.detach(), "att_reg": att.detach()}


def config_dict(cfg: AMNetConfig) -> dict:
    return asdict(cfg)


# The features an AMNet checkpoint was trained on: ResNet-152 (ResMem weights) layer3 after Resize(resize) →
# CenterCrop(crop), optionally average-pooled (the bundled maps are pooled 2×2 to 7×7). Saved with the weights so a
# prediction builds exactly the features the model learnt from.
FEATURES = {"backbone": "resnet152 (resmem weights)", "stage": "layer3", "resize": 256, "crop": 224}

# What a recipe may say. The spatial stages of the backbone, their channels (the model's ``in_channels``) and their
# stride: every stride-2 step of a torchvision ResNet rounds up, so a crop of c px gives a ceil(c / stride) map
# (227 → 15×15 at layer3), and ``avg_pool2d(pool)`` then rounds down: side = ceil(crop / stride) // pool, and the
# model's ``locations`` must be side².
STAGE_CHANNELS = {"layer1": 256, "layer2": 512, "layer3": 1024, "layer4": 2048}
STAGE_STRIDE = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}
# Memory bound on resize and crop: at 1024 px a ResNet-152 forward pass needs about 0.3 GiB of activations per image
# (about 2.5 GiB for `labkit predict`'s default batch of 8); an edited crop of 100000 would need terabytes.
MIN_SIDE, MAX_SIDE = 32, 1024
RECIPE_FIELDS = ("backbone", "stage", "resize", "crop", "pool")


def feature_side(crop: int, stage: str, pool: int = 1) -> int:
    """Side of the square map :func:`recipe_features` builds from a ``crop``-px input at ``stage``, pooled by ``pool``."""
    return -(-crop // STAGE_STRIDE[stage]) // pool


def check_recipe(recipe: object, cfg: AMNetConfig, path: str | Path | None = None) -> dict:
    """``recipe`` if it builds the feature maps ``cfg`` reads — (in_channels, √locations, √locations) — within the
    memory bound; else a :class:`CheckpointError` naming the field, its value and what is allowed. Checked before any
    backbone loads, so an edited recipe costs nothing."""
    from labkit.core.errors import CheckpointError

    def bad(problem: str, fix: str) -> CheckpointError:
        return CheckpointError(problem, path=path, fix=fix)

    if not isinstance(recipe, dict):
        raise bad(f"its features recipe must be a dict, got {type(recipe).__name__} {_short(recipe)}",
                  f"save the checkpoint with labkit.models.amnet.save_checkpoint (a dict with {', '.join(RECIPE_FIELDS)})")
    unknown = sorted(str(k) for k in recipe if k not in RECIPE_FIELDS)
    if unknown:
        raise bad(f"its features recipe has unknown field(s) {', '.join(map(repr, unknown))}",
                  f"the fields are {', '.join(RECIPE_FIELDS)}")
    wants = {"stage": f"one of {', '.join(STAGE_CHANNELS)}", "crop": f"a whole number of pixels from {MIN_SIDE} to {MAX_SIDE}"}
    for key, allowed in wants.items():
        if key not in recipe:
            raise bad(f"its features recipe has no {key!r}", f"features.{key} must be {allowed}; re-save the checkpoint "
                      "with labkit.models.amnet.save_checkpoint")
    if "backbone" in recipe and recipe["backbone"] != FEATURES["backbone"]:
        raise bad(f"features.backbone={_short(recipe['backbone'])} is not a backbone labkit has",
                  f"the only one is {FEATURES['backbone']!r}")
    stage = recipe["stage"]
    if stage not in STAGE_CHANNELS:
        raise bad(f"features.stage={_short(stage)} is not a spatial stage of the backbone",
                  f"use one of {', '.join(STAGE_CHANNELS)} (layer3 for AMNet)")
    if STAGE_CHANNELS[stage] != cfg.in_channels:
        fits = [s for s, c in STAGE_CHANNELS.items() if c == cfg.in_channels]
        raise bad(f"features.stage={stage!r} gives {STAGE_CHANNELS[stage]}-channel maps but the model reads "
                  f"in_channels={cfg.in_channels}", f"use stage {' or '.join(map(repr, fits))}" if fits else
                  f"in_channels must be one of {sorted(STAGE_CHANNELS.values())}")
    sizes = {}
    for key, default in (("resize", 256), ("crop", None)):
        v = recipe.get(key, default)
        if not _whole(v) or not MIN_SIDE <= v <= MAX_SIDE:
            raise bad(f"features.{key}={_short(v)} is not allowed",
                      f"{key} must be a whole number of pixels from {MIN_SIDE} to {MAX_SIDE} (the memory bound)")
        sizes[key] = v
    if sizes["crop"] > sizes["resize"]:
        raise bad(f"features.crop={sizes['crop']} is larger than features.resize={sizes['resize']}: the centre crop "
                  "would pad the image with black", f"crop must be at most resize ({sizes['resize']})")
    side = feature_side(sizes["crop"], stage)
    pool = recipe.get("pool", 1)
    if not _whole(pool) or not 1 <= pool <= side:
        raise bad(f"features.pool={_short(pool)} is not allowed",
                  f"pool must be a whole number from 1 to {side} (the {side}×{side} map of {stage} at crop {sizes['crop']})")
    got = feature_side(sizes["crop"], stage, pool)
    if got * got != cfg.locations:
        pools = [p for p in range(1, side + 1) if feature_side(sizes["crop"], stage, p) ** 2 == cfg.locations]
        fit = (f"pool {' or '.join(map(str, pools))} fits crop {sizes['crop']}" if pools else
               f"no pool fits crop {sizes['crop']}; crop, stage and pool must give {cfg.locations} locations")
        raise bad(f"features crop={sizes['crop']}, stage={stage!r}, pool={pool} give a {got}×{got} map "
                  f"({got * got} locations) but the model was built for locations={cfg.locations}", fit)
    return recipe


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _finite_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _short(v: object) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def save_checkpoint(model: AMNet, path: str | Path, pool: int = 1, resize: int = 256, crop: int = 224) -> Path:
    """``{"config", "state_dict", "features"}`` in one file that loads with ``weights_only=True``; the recipe is
    checked against the model first (:func:`check_recipe`), and the file is replaced whole (temporary file, rename),
    so a failed save leaves an earlier checkpoint as it was."""
    from labkit.core.files import replace_atomically

    recipe = check_recipe({**FEATURES, "resize": resize, "crop": crop, "pool": pool}, model.cfg)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"config": config_dict(model.cfg), "state_dict": model.state_dict(), "features": recipe}
    return replace_atomically(path, lambda tmp: torch.save(state, tmp))


def recipe_features(images: Sequence[ImageLike], recipe: dict, batch_size: int = 16,
                    progress: bool = False) -> Tensor:
    """The feature maps a checkpoint's ``recipe`` describes, for ``images``: (N, 1024, h, w) float32, frozen CNN."""
    from labkit.models import backbones

    pre = backbones.Preprocess(resize=int(recipe.get("resize", 256)), crop=int(recipe["crop"]))
    maps = backbones.extract(images, recipe["stage"], batch_size=batch_size, preprocess=pre, progress=progress)
    pool = int(recipe.get("pool", 1))
    return F.avg_pool2d(maps, pool) if pool > 1 else maps


def load_checkpoint(path: str | Path) -> tuple[AMNet, dict]:
    """(AMNet in eval mode, its feature recipe) from :func:`save_checkpoint`'s file; a clear error otherwise
    (the checks: :func:`checked_model`)."""
    from labkit.core.files import load_model_file
    from labkit.models.shipped import load_weights

    path = Path(path)
    state = load_model_file(path, "AMNet checkpoint", "save one with labkit.models.amnet.save_checkpoint")
    model = load_weights(checked_model(state, path), state["state_dict"], path)
    return model.eval(), dict(state["features"])


def checked_model(state: dict, path: str | Path) -> AMNet:
    """The AMNet a checkpoint's contents describe, weights not loaded; a CheckpointError naming ``path`` otherwise.

    Everything is checked here, before any backbone loads: the configuration (``target_scale`` finite and > 0,
    ``target_mean`` finite), every weight finite, and the recipe (:func:`check_recipe`); whether the weights'
    shapes fit is checked when they are loaded."""
    from labkit.core.errors import CheckpointError

    path = Path(path)
    if not {"config", "state_dict", "features"} <= set(state):
        raise CheckpointError("is not an AMNet checkpoint (needs config, state_dict and features)", path=path,
                              fix="save one with labkit.models.amnet.save_checkpoint")
    config, weights = state["config"], state["state_dict"]
    if not isinstance(config, dict):
        raise CheckpointError(f"its config must be a dict, got {type(config).__name__}", path=path,
                              fix="save one with labkit.models.amnet.save_checkpoint")
    for key, positive in (("target_mean", False), ("target_scale", True)):
        v = config.get(key, getattr(AMNetConfig, key))
        if not _finite_number(v) or (positive and v <= 0):
            raise CheckpointError(f"config.{key}={_short(v)} is not allowed", path=path,
                                  fix=f"{key} must be a finite number{' > 0' if positive else ''} "
                                      "(predictions are y/target_scale + target_mean)")
    if not isinstance(weights, dict) or not all(isinstance(t, Tensor) for t in weights.values()):
        raise CheckpointError("its state_dict must map names to tensors", path=path,
                              fix="save one with labkit.models.amnet.save_checkpoint")
    for name, t in weights.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            n = int((~torch.isfinite(t)).sum())
            raise CheckpointError(f"weight {name!r} holds {n} non-finite value(s) (nan or inf)", path=path,
                                  fix="the training diverged or the file was damaged; save a checkpoint of a good model")
        if name.endswith("running_var") and t.is_floating_point() and bool((t < 0).any()):
            raise CheckpointError(f"weight {name!r} holds a negative variance", path=path,
                                  fix="the file was damaged or edited; save a checkpoint of a good model")
    try:
        model = AMNet(AMNetConfig(**config))
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"its config builds no AMNet ({str(e).splitlines()[0][:200]})", path=path) from None
    check_recipe(state["features"], model.cfg, path)
    return model
