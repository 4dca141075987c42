"""A small training job run as a subprocess by tests/test_train.py (kill/resume, torchrun DDP)."""

import argparse
import os
import signal
import time

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from labkit.train import TrainConfig, fit


def make_data(n: int = 256) -> TensorDataset:
    g = torch.Generator().manual_seed(123)
    x = torch.randn(n, 8, generator=g)
    y = (x @ torch.randn(8, 1, generator=g)).squeeze(1) + 0.1 * torch.randn(n, generator=g)
    return TensorDataset(x, y)


def make_model() -> nn.Module:
    torch.manual_seed(7)
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Dropout(0.2), nn.Linear(32, 1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--every", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--die-at", type=int, default=0, help="SIGKILL this process at the start of that step")
    args = ap.parse_args()
    torch.set_num_threads(1)

    calls = 0

    def step(model, batch):
        nonlocal calls
        calls += 1
        if calls == args.die_at:  # a real kill, at a known point: mid-epoch, between two checkpoints
            os.kill(os.getpid(), signal.SIGKILL)
        if args.delay:
            time.sleep(args.delay)
        x, y = batch
        return F.mse_loss(model(x).squeeze(1), y)

    model = make_model()
    if args.dropout == 0:
        model[2].p = 0.0
    cfg = TrainConfig(epochs=args.epochs, batch_size=32, lr=1e-2, optimizer="adam", seed=3,
                      checkpoint_dir=args.ckpt, checkpoint_every=args.every, resume=args.resume, progress=False)
    history = fit(model, make_data(), step, cfg)
    if int(os.environ.get("RANK", "0")) == 0:
        torch.save({"model": model.state_dict(), "loss": history["loss"]}, args.out)


if __name__ == "__main__":
    main()
