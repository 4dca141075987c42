"""RAM training throughput: our batch-vectorised retina vs the same model with a per-sample-loop retina.

Both models share weights; the only difference is how glimpses are cut out. The loop retina is written
the way the common reproductions do it (pad, then slice each sample in a Python loop, then pool).
Measured in one run, on the same machine and threads, so the printed ratios compare like with like.

    PYTHONPATH=. python benchmarks/ram_speed.py [--batch 128] [--steps 20] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn.functional as F
from torch import Tensor

import labkit
from labkit.models.ram import RAM, RAMConfig, Retina, ram_loss


class LoopRetina(Retina):
    """Per-sample extraction: one Python-level slice per image per scale (the baseline we compare against)."""

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


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def train_rate(model: RAM, x: Tensor, y: Tensor, steps: int) -> float:
    """Images per second of forward + backward + Adam step."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()
    for i in range(steps + 3):  # 3 warm-up steps
        if i == 3:
            sync(x.device)
            t0 = time.perf_counter()
        loss = ram_loss(model(x), y)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
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
    setups = {  # the paper's MNIST and translated/cluttered 60×60 configurations
        "mnist 28x28, 6 glimpses 8x8, 1 scale": (28, RAMConfig(glimpses=6, patch_size=8, scales=1)),
        "60x60, 6 glimpses 12x12, 3 scales": (60, RAMConfig(glimpses=6, patch_size=12, scales=3)),
    }
    for name, (size, cfg) in setups.items():
        labkit.seed_everything(0)
        x = torch.rand(args.batch, 1, size, size, device=dev)
        y = torch.randint(0, 10, (args.batch,), device=dev)
        ours = RAM(cfg).to(dev)
        loop = copy.deepcopy(ours)
        loop.glimpse.retina = LoopRetina(cfg.patch_size, cfg.scales, cfg.scale_factor)
        locs = torch.rand(args.batch, 2, device=dev) * 2 - 1
        assert torch.equal(ours.retina.foveate(x, locs), loop.glimpse.retina.foveate(x, locs)), "retinas disagree"
        g_ours, g_loop = glimpse_rate(ours.retina, x, 5 * args.steps), glimpse_rate(loop.glimpse.retina, x, 5 * args.steps)
        t_ours, t_loop = train_rate(ours, x, y, args.steps), train_rate(loop, x, y, args.steps)
        print(f"\n{name}")
        print(f"  glimpse extraction: ours {g_ours:10.0f} img/s | per-sample loop {g_loop:10.0f} img/s | "
              f"ratio {g_ours / g_loop:5.1f}x")
        print(f"  training step:      ours {t_ours:10.0f} img/s | per-sample loop {t_loop:10.0f} img/s | "
              f"ratio {t_ours / t_loop:5.1f}x")


if __name__ == "__main__":
    main()
