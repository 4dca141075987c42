"""RAM training throughput: the course's RAM against a faithful stand-in for kevinzakka/recurrent-visual-attention.

Why a stand-in and not the reference itself: nothing is downloaded at run time, and its code stays out of this
repository. ``ReferenceRAM`` and ``reference_step`` below re-implement, from its description, what that
reproduction's ``Trainer`` does per batch at its default configuration (6 glimpses of 8×8, 1 scale, batch 128, σ 0.05,
Adam): a retina that pads the batch and slices each sample in a Python loop, then pools each scale with
``F.avg_pool2d``; its modules' layer shapes (the glimpse net's ``fc3``/``fc4`` map to h_g + h_l = 256); the location
and baseline nets run after *every* glimpse (T decisions, the last unused); a uniform random l_0; the loss NLL +
MSE(b, R) + 0.01 · REINFORCE with R repeated over T; ``loss.item()`` and the accuracy read back every step for its
meters. The course's RAM runs the same configuration with the same loss weights. Measured in one run, on the same
machine and threads, so the printed ratios compare like with like; the retina alone is timed too.

    PYTHONPATH=. python benchmarks/ram_speed.py [--batch 128] [--steps 20] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import labkit
from labkit.models.ram import RAM, RAMConfig, Retina, ram_loss


class LoopRetina(Retina):
    """Per-sample extraction: one Python-level slice per image per scale (the reference's way)."""

    def patches(self, images: Tensor, locations: Tensor) -> list[Tensor]:
        B, C, H, W = images.shape
        c = self.centres(locations, H, W)
        out = []
        for S in self.sizes:
            p = S // 2 + 1
            padded = F.pad(images, (p, p, p, p))
            start = c - S // 2 + p
            out.append(torch.stack([padded[b, :, start[b, 1] : start[b, 1] + S, start[b, 0] : start[b, 0] + S]
                                    for b in range(B)]))
        return out


class ReferenceRAM(nn.Module):
    """The reference's network, layer for layer: glimpse (fc1 ρ→h_g, fc2 l→h_l, fc3 h_g→256, fc4 h_l→256), core
    (i2h, h2h), locator (h→128→2, tanh, Normal sample), baseline (h→1), classifier (h→10)."""

    def __init__(self, g: int = 8, k: int = 1, s: int = 2, h_g: int = 128, h_l: int = 128, hidden: int = 256,
                 std: float = 0.05) -> None:
        super().__init__()
        self.retina, self.std = LoopRetina(g, k, s), std
        self.fc1, self.fc2 = nn.Linear(k * g * g, h_g), nn.Linear(2, h_l)
        self.fc3, self.fc4 = nn.Linear(h_g, h_g + h_l), nn.Linear(h_l, h_g + h_l)
        self.i2h, self.h2h = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.loc_fc, self.loc_out = nn.Linear(hidden, hidden // 2), nn.Linear(hidden // 2, 2)
        self.base, self.classifier = nn.Linear(hidden, 1), nn.Linear(hidden, 10)

    def forward(self, x: Tensor, l_prev: Tensor, h_prev: Tensor, last: bool = False):
        phi = self.retina.foveate(x, l_prev)
        g = F.relu(self.fc3(F.relu(self.fc1(phi))) + self.fc4(F.relu(self.fc2(l_prev))))
        h = F.relu(self.i2h(g) + self.h2h(h_prev))
        mu = torch.tanh(self.loc_out(F.relu(self.loc_fc(h.detach()))))
        dist = torch.distributions.Normal(mu, self.std)
        l_t = dist.rsample().detach()
        log_pi = dist.log_prob(l_t).sum(1)
        b = self.base(h.detach()).squeeze()
        logits = F.log_softmax(self.classifier(h), dim=1) if last else None
        return h, l_t.clamp(-1, 1), b, log_pi, logits


def reference_step(model: ReferenceRAM, x: Tensor, y: Tensor, opt: torch.optim.Optimizer, T: int) -> float:
    """One batch as the reference's ``train_one_epoch`` runs it; returns the loss read back for the meters."""
    h, l_t = torch.zeros(len(x), 256, device=x.device), torch.empty(len(x), 2, device=x.device).uniform_(-1, 1)
    log_pis, bases = [], []
    for t in range(T):
        h, l_t, b, lp, logits = model(x, l_t, h, last=t == T - 1)
        log_pis.append(lp)
        bases.append(b)
    baselines, log_pi = torch.stack(bases).transpose(1, 0), torch.stack(log_pis).transpose(1, 0)
    R = (logits.argmax(1) == y).float().unsqueeze(1).repeat(1, T)
    loss = F.nll_loss(logits, y) + F.mse_loss(baselines, R) + 0.01 * torch.mean(
        torch.sum(-log_pi * (R - baselines.detach()), dim=1))
    acc = (logits.argmax(1) == y).float().sum() / len(y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item() + 0 * acc.item()  # both read back every step, as its meters do


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def ours_step(model: RAM, x: Tensor, y: Tensor, opt: torch.optim.Optimizer) -> float:
    """One batch of the course's RAM with the reference's loss weights (REINFORCE × 0.01), as ``labkit.train.fit``
    runs it (which also reads the logged values back once per step)."""
    parts = ram_loss(model(x), y, reinforce_weight=0.01)
    opt.zero_grad(set_to_none=True)
    parts["loss"].backward()
    opt.step()
    return float(parts["loss"].detach())


def rate(step, x: Tensor, steps: int) -> float:
    """Images per second of ``step()`` (forward, backward, Adam), after 3 warm-up steps."""
    for i in range(steps + 3):
        if i == 3:
            sync(x.device)
            t0 = time.perf_counter()
        step()
    sync(x.device)
    return steps * len(x) / (time.perf_counter() - t0)


def glimpse_rate(retina: Retina, x: Tensor, steps: int) -> float:
    """Images per second of one foveate call (no model)."""
    locs = torch.rand(len(x), 2, device=x.device) * 2 - 1
    retina.foveate(x, locs)
    sync(x.device)
    t0 = time.perf_counter()
    for _ in range(steps):
        retina.foveate(x, locs)
    sync(x.device)
    return steps * len(x) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)  # RAM's ops are tiny: more threads only add hand-offs
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    threads = labkit.set_threads(args.threads)
    dev = labkit.device(args.device)
    print(f"batch {args.batch}, {args.steps} timed steps, device {dev}, torch threads {threads}")
    setups = {  # the reference's default (MNIST) and the paper's translated/cluttered 60×60 configuration
        "mnist 28x28, 6 glimpses 8x8, 1 scale (the reference's default)": (28, 8, 1),
        "60x60, 6 glimpses 12x12, 3 scales": (60, 12, 3),
    }
    for name, (size, g, k) in setups.items():
        labkit.seed_everything(0)
        x = torch.rand(args.batch, 1, size, size, device=dev)
        y = torch.randint(0, 10, (args.batch,), device=dev)
        ours = RAM(RAMConfig(glimpses=6, patch_size=g, scales=k, std=0.05, start="random")).to(dev).train()
        ref = ReferenceRAM(g, k).to(dev).train()
        locs = torch.rand(args.batch, 2, device=dev) * 2 - 1
        assert torch.equal(ours.retina.foveate(x, locs), ref.retina.foveate(x, locs)), "retinas disagree"
        g_ours, g_loop = glimpse_rate(ours.retina, x, 5 * args.steps), glimpse_rate(ref.retina, x, 5 * args.steps)
        opt_ours, opt_ref = torch.optim.Adam(ours.parameters(), lr=3e-4), torch.optim.Adam(ref.parameters(), lr=3e-4)
        t_ours = rate(partial(ours_step, ours, x, y, opt_ours), x, args.steps)
        t_ref = rate(partial(reference_step, ref, x, y, opt_ref, 6), x, args.steps)
        print(f"\n{name}")
        print(f"  glimpse extraction: ours {g_ours:10.0f} img/s | per-sample loop {g_loop:10.0f} img/s | "
              f"ratio {g_ours / g_loop:5.1f}x")
        print(f"  training step:      ours {t_ours:10.0f} img/s | reference stand-in {t_ref:10.0f} img/s | "
              f"ratio {t_ours / t_ref:5.1f}x")


if __name__ == "__main__":
    main()
