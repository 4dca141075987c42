"""The Recurrent Attention Model (RAM; Mnih, Heess, Graves & Kavukcuoglu, NIPS 2014, arXiv 1406.6247).

RAM never sees the whole image. At each step t it takes a *glimpse* ρ(x_t, l_{t-1}) — k concentric
patches around location l_{t-1}, each s× wider than the last and averaged down to g×g — updates a
recurrent state h_t, and a stochastic policy π(l_t | h_t) picks where to look next. After T glimpses
the action network classifies. Where-to-look is not differentiable (the sampled location indexes
pixels), so the location network learns by REINFORCE with a learned baseline; the rest by backprop.

One small class per sub-network, as in kevinzakka/recurrent-visual-attention ``modules.py``, but the
retina is vectorised over the batch (one ``gather`` or one ``grid_sample`` for every patch of every
image) instead of looping over samples in Python.

Notation: x image, l_t ∈ [-1, 1]² location (x = column first, then y = row), ρ retina output,
g_t glimpse feature, h_t core state, μ_t policy mean, σ fixed policy std, b_t baseline, R reward.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Retina:
    """ρ(x, l): k square patches centred at l, patch i of side g·sⁱ, each average-pooled to g×g.

    Exact mode (default) follows the standard PyTorch reproduction: the centre pixel is
    ``int(0.5·(l+1)·H)`` (truncated) and patch i covers pixels ``[c - S_i//2, c - S_i//2 + S_i)``
    with zeros outside the image. ``bilinear=True`` instead centres the patches at the continuous
    point ``0.5·(l+1)·H`` and samples sub-pixel positions bilinearly (identical to exact mode where
    that point is an integer). Images are expected in [0, 1] so that the zero padding is background.
    """

    def __init__(self, g: int, k: int, s: int, bilinear: bool = False) -> None:
        for name, v, lo in (("g", g, 1), ("k", k, 1), ("s", s, 1)):
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"Retina {name} must be an int >= {lo}, got {v!r}")
        self.g, self.k, self.s, self.bilinear = g, k, s, bilinear
        self.sizes = [g * s**i for i in range(k)]  # S_i, side of patch i in pixels

    def __repr__(self) -> str:
        return f"Retina(g={self.g}, k={self.k}, s={self.s}, bilinear={self.bilinear})"

    @property
    def out_features(self) -> int:
        """Length of ρ per channel: k·g·g."""
        return self.k * self.g * self.g

    def centres(self, locations: Tensor, height: int, width: int) -> Tensor:
        """Pixel centre (col, row) of each location, truncated as in the reference: (B, 2) long."""
        # float64 where the device has it, so truncation matches the formula evaluated in doubles
        dtype = torch.float32 if locations.device.type == "mps" else torch.float64
        scale = torch.tensor([width, height], device=locations.device, dtype=dtype)
        return (0.5 * (locations.to(dtype) + 1.0) * scale).long()

    def _check(self, images: Tensor, locations: Tensor) -> None:
        if images.dim() != 4:
            raise ValueError(f"foveate expects images of shape (B, C, H, W), got {tuple(images.shape)}")
        if locations.shape != (images.shape[0], 2):
            raise ValueError(
                f"foveate expects locations of shape (B, 2) = ({images.shape[0]}, 2), got {tuple(locations.shape)}"
            )
        if not bool(torch.isfinite(locations).all()) or bool((locations.abs() > 1).any()):
            raise ValueError("foveate expects locations in [-1, 1]² (clamp them first); got values outside")

    def patches(self, images: Tensor, locations: Tensor) -> list[Tensor]:
        """The k patches before pooling, [(B, C, S_i, S_i)], for figures and tests."""
        self._check(images, locations)
        if self.bilinear:
            return self._bilinear_patches(images, locations)
        return self._exact_patches(images, locations)

    def foveate(self, images: Tensor, locations: Tensor) -> Tensor:
        """ρ(x, l): (B, C, H, W), (B, 2) → (B, k·C·g·g), patch-major then channel then row/col."""
        pooled = [F.avg_pool2d(p, p.shape[-1] // self.g) if p.shape[-1] != self.g else p
                  for p in self.patches(images, locations)]  # k × (B, C, g, g)
        return torch.cat(pooled, dim=1).flatten(1)  # (B, k·C·g·g)

    def _exact_patches(self, images: Tensor, locations: Tensor) -> list[Tensor]:
        B, C, H, W = images.shape
        pad = self.sizes[-1] // 2 + 1  # one zero border wide enough for the largest patch
        padded = F.pad(images, (pad, pad, pad, pad)).flatten(2)  # (B, C, Hp·Wp)
        Wp = W + 2 * pad
        c = self.centres(locations, H, W) + pad  # (B, 2) in padded coordinates
        index = []
        for S in self.sizes:  # k tiny index tensors; the gather itself is one call for all of them
            off = torch.arange(S, device=images.device) - S // 2  # (S,)
            rows = c[:, 1:2] + off  # (B, S)
            cols = c[:, 0:1] + off  # (B, S)
            index.append((rows[:, :, None] * Wp + cols[:, None, :]).flatten(1))  # (B, S·S)
        flat = torch.cat(index, dim=1)  # (B, ΣS²)
        values = padded.gather(2, flat[:, None, :].expand(B, C, -1))  # (B, C, ΣS²)
        chunks = values.split([S * S for S in self.sizes], dim=2)
        return [v.reshape(B, C, S, S) for v, S in zip(chunks, self.sizes, strict=True)]

    def _bilinear_patches(self, images: Tensor, locations: Tensor) -> list[Tensor]:
        B, C, H, W = images.shape
        # grid_sample with align_corners=False maps pixel centre i to (2i + 1)/W - 1, so a sample j of
        # a patch of side S centred at the continuous point 0.5·(l+1)·W sits at l + (2j + 1 - S)/W.
        size = torch.tensor([W, H], device=images.device, dtype=images.dtype)
        grids = []
        for S in self.sizes:
            off = (2 * torch.arange(S, device=images.device, dtype=images.dtype) + 1 - S)  # (S,)
            gx = locations[:, None, None, 0] + off[None, None, :] / size[0]  # (B, 1, S)
            gy = locations[:, None, None, 1] + off[None, :, None] / size[1]  # (B, S, 1)
            grid = torch.stack(torch.broadcast_tensors(gx, gy), dim=-1)  # (B, S, S, 2)
            grids.append(grid.reshape(B, 1, S * S, 2))
        sampled = F.grid_sample(images, torch.cat(grids, dim=2), mode="bilinear",
                                padding_mode="zeros", align_corners=False)  # (B, C, 1, ΣS²)
        chunks = sampled.flatten(2).split([S * S for S in self.sizes], dim=2)
        return [v.reshape(B, C, S, S) for v, S in zip(chunks, self.sizes, strict=True)]


def retina_patch(image: Tensor, loc: Tensor, size: int) -> Tensor:
    """One scale of ρ on one image, before pooling: the ``size``×``size`` square of ``image`` (H, W) around
    ``loc`` (2,), rows and columns [c − size//2, c − size//2 + size), zeros outside the image.

    The form a reader can picture (and notebook 04's exercise is checked against); it *is* the exact
    retina's patch — one image, one scale, no pooling — so the two cannot disagree.
    """
    if image.dim() != 2 or loc.shape != (2,):
        raise ValueError(f"retina_patch takes one image (H, W) and one location (2,), got shapes "
                         f"{tuple(image.shape)} and {tuple(loc.shape)}; for a batch use Retina.patches")
    return Retina(size, 1, 1).patches(image[None, None], loc[None])[0][0, 0]  # (size, size)


class GlimpseNetwork(nn.Module):
    """g_t = f_g(x, l_{t-1}) = ReLU(W_what·h_ρ + W_where·h_l), h_ρ = ReLU(θ ρ), h_l = ReLU(θ l).

    "What" (the retina's pixels) and "where" (the location itself) are embedded separately and
    summed, so the core knows both what it saw and where it looked.
    """

    def __init__(self, retina: Retina, channels: int = 1, h_g: int = 128, h_l: int = 128, out: int = 256) -> None:
        super().__init__()
        self.retina = retina
        self.fc_phi = nn.Linear(retina.out_features * channels, h_g)
        self.fc_loc = nn.Linear(2, h_l)
        self.what = nn.Linear(h_g, out)
        self.where = nn.Linear(h_l, out)

    def forward(self, images: Tensor, l_prev: Tensor) -> Tensor:
        phi = self.retina.foveate(images, l_prev)  # (B, k·C·g·g)
        what = self.what(F.relu(self.fc_phi(phi)))  # (B, 256)
        where = self.where(F.relu(self.fc_loc(l_prev)))  # (B, 256)
        return F.relu(what + where)  # g_t: (B, 256)


class CoreNetwork(nn.Module):
    """h_t = f_h(h_{t-1}, g_t): ReLU(W g_t + U h_{t-1}) as in the paper, or an LSTM cell (``cell="lstm"``)."""

    def __init__(self, size: int = 256, cell: str = "rnn") -> None:
        super().__init__()
        if cell not in ("rnn", "lstm"):
            raise ValueError(f"core cell must be 'rnn' or 'lstm', got {cell!r}")
        self.size, self.cell = size, cell
        if cell == "lstm":
            self.lstm = nn.LSTMCell(size, size)
        else:
            self.i2h = nn.Linear(size, size)
            self.h2h = nn.Linear(size, size)

    def initial_state(self, batch: int, device: torch.device) -> tuple[Tensor, Tensor]:
        z = torch.zeros(batch, self.size, device=device)
        return z, z.clone()  # (h_0, c_0); c is unused by the plain RNN

    def forward(self, g_t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h_prev, c_prev = state
        if self.cell == "lstm":
            return self.lstm(g_t, (h_prev, c_prev))
        return F.relu(self.i2h(g_t) + self.h2h(h_prev)), c_prev  # h_t: (B, 256)


class LocationNetwork(nn.Module):
    """π(l_t | h_t) = N(μ_t, σ²I), μ_t = tanh(W ReLU(θ h_t)); σ is fixed, not learned.

    By default h_t is detached, as in kevinzakka's reproduction: the location network learns *only* through
    REINFORCE and the REINFORCE term never reaches the core. ``detach=False`` is the paper's and Léonard's
    Torch original: the policy gradient also trains the core and glimpse networks, so h_t learns to carry
    *where the digit is* and not only *what it is*. The sampled l_t is always detached — it indexes pixels,
    so no gradient could flow through it anyway. (Detaching changes gradients only, never the outputs.)
    """

    def __init__(self, size: int = 256, hidden: int = 128, std: float = 0.05, detach: bool = True) -> None:
        super().__init__()
        if not std > 0:
            raise ValueError(f"policy std σ must be > 0, got {std!r}")
        self.std, self.detach = std, detach
        self.fc = nn.Linear(size, hidden)
        self.fc_mu = nn.Linear(hidden, 2)

    def forward(self, h_t: Tensor, stochastic: bool = True) -> tuple[Tensor, Tensor, Tensor]:
        """Returns (l_t, log π(l_t | h_t), μ_t): (B, 2), (B,), (B, 2)."""
        h_t = h_t.detach() if self.detach else h_t
        mu = torch.tanh(self.fc_mu(F.relu(self.fc(h_t))))  # (B, 2)
        l_t = (mu + self.std * torch.randn_like(mu)).detach() if stochastic else mu.detach()
        # log N(l; μ, σ²I), written out: torch.distributions.Normal costs more to build than this costs to compute
        log_pi = (-0.5 * ((l_t - mu) / self.std) ** 2).sum(1) - 2 * (math.log(self.std) + _HALF_LOG_2PI)  # (B,)
        return l_t.clamp(-1.0, 1.0), log_pi, mu


class BaselineNetwork(nn.Module):
    """b_t = W h_t (detached): a learned estimate of the expected reward, subtracted from R to cut variance.

    ``kind="constant"`` is Léonard's Torch original: one learned number b for every image and step (the mean
    reward), so the advantage R − b says only "better than usual", never "better than expected *for this image*".
    """

    def __init__(self, size: int = 256, kind: str = "linear") -> None:
        super().__init__()
        if kind not in ("linear", "constant"):
            raise ValueError(f"baseline kind must be 'linear' or 'constant', got {kind!r}")
        self.kind = kind
        if kind == "linear":
            self.fc = nn.Linear(size, 1)
        else:
            self.b = nn.Parameter(torch.zeros(1))

    def forward(self, h_t: Tensor) -> Tensor:
        if self.kind == "constant":
            return self.b.expand(h_t.shape[0])  # (B,)
        return self.fc(h_t.detach()).squeeze(1)  # (B,)


class ActionNetwork(nn.Module):
    """a_T = log softmax(W h_T): the classification, made once after the last glimpse."""

    def __init__(self, size: int = 256, classes: int = 10) -> None:
        super().__init__()
        self.fc = nn.Linear(size, classes)

    def forward(self, h_t: Tensor) -> Tensor:
        return F.log_softmax(self.fc(h_t), dim=1)  # (B, classes)


@dataclass
class RAMConfig:
    """Model size; the fields are the notebook's parameters (paper: 6 glimpses of 8×8, 1 scale on MNIST)."""

    glimpses: int = 6  # T
    patch_size: int = 8  # g
    scales: int = 1  # k
    scale_factor: int = 2  # s
    std: float = 0.05  # σ of the location policy
    channels: int = 1
    classes: int = 10
    hidden: int = 256
    core: str = "rnn"  # rnn|lstm
    bilinear: bool = False
    # l_0, the first glimpse: "centre" always; "random" ~ U[-1, 1]² while sampling (kevinzakka, amasky), the centre
    # when deterministic; "learned": drawn from the policy at the empty state h_0 = 0 (Léonard), so a learned constant.
    start: str = "centre"  # centre|random|learned
    # How far from the centre a glimpse may go, as a share of the half-canvas: the glimpse centre is loc_range·l.
    # Léonard's ``unitPixels`` (26 of 30 px on 60×60, "very important and not specified in the paper").
    loc_range: float = 1.0  # 0..1
    reinforce_core: bool = False  # True: REINFORCE also trains core and glimpse nets (paper, Léonard); False: detached h
    baseline: str = "linear"  # linear|constant: b_t = W h_t (kevinzakka) or one learned constant (Léonard)
    # The policy controls: "learned" is RAM; "centre" glimpses the centre every time and "random" anywhere at random
    # (l_t ~ U[-1, 1]², also when evaluating). Trained with the same budget, they show what the learned policy adds.
    policy: str = "learned"  # learned|centre|random


@dataclass
class RAMOutput:
    """Everything one pass produces. T = glimpses; the policy acts T-1 times (T with a learned l_0)."""

    log_probs: Tensor  # (B, classes)
    log_pi: Tensor  # (B, P)  log π(l_t | h_t) of the P locations the policy chose: t = 1..T-1 (P = T with a learned l_0)
    baselines: Tensor  # (B, P) b_t
    locations: Tensor  # (B, T, 2) where each glimpse was taken, on the canvas's [-1, 1]² (loc_range·l)
    means: Tensor  # (B, P, 2) μ_t


class RAM(nn.Module):
    """T glimpses, each a few matrix products over the whole batch; classify after the last one."""

    def __init__(self, cfg: RAMConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or RAMConfig()
        if cfg.glimpses < 1:
            raise ValueError(f"RAM needs at least one glimpse, got {cfg.glimpses}")
        if cfg.start not in ("random", "centre", "learned"):
            raise ValueError(f"RAMConfig.start must be 'centre', 'random' or 'learned', got {cfg.start!r}")
        if not 0 < cfg.loc_range <= 1:
            raise ValueError(f"RAMConfig.loc_range must be in (0, 1], got {cfg.loc_range!r}")
        if cfg.policy not in ("learned", "centre", "random"):
            raise ValueError(f"RAMConfig.policy must be 'learned', 'centre' or 'random', got {cfg.policy!r}")
        self.retina = Retina(cfg.patch_size, cfg.scales, cfg.scale_factor, bilinear=cfg.bilinear)
        self.glimpse = GlimpseNetwork(self.retina, cfg.channels, out=cfg.hidden)
        self.core = CoreNetwork(cfg.hidden, cfg.core)
        self.locator = LocationNetwork(cfg.hidden, std=cfg.std, detach=not cfg.reinforce_core)
        self.baseliner = BaselineNetwork(cfg.hidden, cfg.baseline)
        self.classifier = ActionNetwork(cfg.hidden, cfg.classes)

    def forward(self, images: Tensor, stochastic: bool | None = None) -> RAMOutput:
        """``stochastic`` (default: ``self.training``) samples l_t ~ π (and l_0 ~ U[-1,1]² if ``cfg.start`` is
        random); otherwise l_0 is the centre (or μ_0 for a learned start) and l_t = μ_t, so evaluation is
        deterministic."""
        stochastic = self.training if stochastic is None else stochastic
        if self.cfg.policy != "learned":
            return self._fixed_policy(images)
        B, T, reach = images.shape[0], self.cfg.glimpses, self.cfg.loc_range
        state = self.core.initial_state(B, images.device)  # h_0 = 0
        log_pis, bases, mus = [], [], []

        def choose(h: Tensor) -> Tensor:  # one policy decision: l_t ~ π(· | h_t), scaled onto the canvas
            loc, log_pi, mu = self.locator(h, stochastic)
            log_pis.append(log_pi)
            mus.append(mu)
            bases.append(self.baseliner(h))
            return reach * loc

        if self.cfg.start == "learned":
            l_t = choose(state[0])
        elif stochastic and self.cfg.start == "random":
            l_t = reach * (torch.rand(B, 2, device=images.device) * 2 - 1)  # l_0: (B, 2)
        else:
            l_t = torch.zeros(B, 2, device=images.device)
        locs = [l_t]
        for t in range(T):
            state = self.core(self.glimpse(images, l_t), state)  # h_t: (B, 256)
            if t == T - 1:
                break
            l_t = choose(state[0])
            locs.append(l_t)
        empty = images.new_zeros(B, 0)
        return RAMOutput(
            log_probs=self.classifier(state[0]),
            log_pi=torch.stack(log_pis, 1) if log_pis else empty,
            baselines=torch.stack(bases, 1) if bases else empty,
            locations=torch.stack(locs, 1),
            means=torch.stack(mus, 1) if mus else images.new_zeros(B, 0, 2),
        )

    def _fixed_policy(self, images: Tensor) -> RAMOutput:
        """The controls: every l_t at the centre, or every l_t uniform in [-1, 1]²; nothing for REINFORCE to learn."""
        B, T = images.shape[0], self.cfg.glimpses
        if self.cfg.policy == "centre":
            locs = images.new_zeros(B, T, 2)
        else:
            locs = self.cfg.loc_range * (torch.rand(B, T, 2, device=images.device, dtype=images.dtype) * 2 - 1)  # (B, T, 2)
        state = self.core.initial_state(B, images.device)
        for t in range(T):
            state = self.core(self.glimpse(images, locs[:, t]), state)  # h_t: (B, 256)
        empty = images.new_zeros(B, 0)
        return RAMOutput(self.classifier(state[0]), empty, empty, locs, images.new_zeros(B, 0, 2))

    @torch.inference_mode()
    def predict(self, images: Tensor, samples: int = 1) -> Tensor:
        """Class log-probabilities; ``samples`` M > 1 averages M stochastic passes (Monte-Carlo, all at once)."""
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        if samples == 1:
            return self(images, stochastic=False).log_probs
        B = images.shape[0]
        out = self(images.repeat(samples, 1, 1, 1), stochastic=True).log_probs  # (M·B, classes)
        return out.view(samples, B, -1).exp().mean(0).log()  # (B, classes)


def reinforce_term(log_pi: Tensor, reward: Tensor, baselines: Tensor) -> Tensor:
    """REINFORCE with a baseline: mean over the batch of Σ_t −log π(l_t|h_t)·(R_t − b_t).

    Its gradient, −(R − b)·∇log π, raises the probability of locations that did better than
    expected and lowers the others. (R − b) is detached: the baseline is trained by its own MSE.
    """
    advantage = (reward - baselines).detach()  # (B, T-1)
    return (-log_pi * advantage).sum(1).mean()


def reinforce_gradients(log_pi: Tensor, reward: Tensor, baselines: Tensor,
                        loss: Callable[[Tensor, Tensor, Tensor], Tensor] = reinforce_term) -> Tensor:
    """(∂loss/∂log π, ∂loss/∂b) stacked: (2, B, T−1), zeros where ``loss`` sends no gradient.

    Why the gradient and not just the value: a REINFORCE term that forgets to detach the advantage has the
    right value and the wrong gradient (it also pushes the baselines), and only the gradient shows it. With
    the default ``loss`` (:func:`reinforce_term`) this is (−(R − b)/B, 0); pass another ``loss`` with the same
    signature (a learner's) to get its gradients for comparison, as notebook 04's check does.
    """
    log_pi = log_pi.detach().clone().requires_grad_()
    b = baselines.detach().clone().requires_grad_()
    with torch.enable_grad():  # a notebook may have switched autograd off globally
        value = loss(log_pi, reward, b)
        if not value.requires_grad:  # everything detached: no gradient at all
            return torch.zeros(2, *log_pi.shape, dtype=log_pi.dtype, device=log_pi.device)
        return torch.stack(torch.autograd.grad(value, (log_pi, b), allow_unused=True, materialize_grads=True))


def ram_loss(out: RAMOutput, targets: Tensor, reinforce_weight: float = 1.0) -> dict[str, Tensor]:
    """Hybrid loss: NLL (action) + MSE(b_t, R) (baseline) + Σ_t −log π(l_t|h_t)·(R − b_t) (REINFORCE).

    R = 1 if the final classification is right, else 0, given to every step. (R − b_t) is detached:
    the baseline only lowers variance; it must not change the direction of the policy gradient.
    """
    correct = (out.log_probs.argmax(1) == targets).float()  # R: (B,)
    nll = F.nll_loss(out.log_probs, targets)
    if out.log_pi.shape[1] == 0:  # a single glimpse: nothing for the policy to learn
        zero = nll.new_zeros(())
        return {"loss": nll, "nll": nll.detach(), "baseline": zero, "reinforce": zero, "acc": correct.mean()}
    reward = correct[:, None].expand_as(out.baselines)  # (B, T-1)
    baseline = F.mse_loss(out.baselines, reward)
    reinforce = reinforce_term(out.log_pi, reward, out.baselines)
    loss = nll + baseline + reinforce_weight * reinforce
    return {"loss": loss, "nll": nll.detach(), "baseline": baseline.detach(),
            "reinforce": reinforce.detach(), "acc": correct.mean()}


def ram_step(reinforce_weight: float = 1.0):
    """The ``step`` for ``labkit.train.fit``: one batch (images, labels) → the hybrid loss and its parts."""

    def step(model: nn.Module, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        images, labels = batch
        return ram_loss(model(images), labels, reinforce_weight)

    return step

