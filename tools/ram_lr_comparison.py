"""The measurement behind notebook 04 §6: how Adam's step size and the policy's σ decide whether RAM's glimpses
drift to the image border in the quick profile (8 epochs on the bundled digits, two scales, seed 0, the epoch picked on validation digits as in the notebook).

    PYTHONPATH=. python tools/ram_lr_comparison.py        # about 4 minutes on 2 CPU cores
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.core.env import seed_everything  # noqa: E402
from labkit.data import mnist  # noqa: E402
from labkit.metrics.gaze import border_share  # noqa: E402
from labkit.models.ram import RAM, RAMConfig, accuracy, ram_step  # noqa: E402
from labkit.train import TrainConfig, fit  # noqa: E402


def main() -> None:
    digits, labels = mnist.quick_digits()
    tr, te = mnist.split_holdout(labels, 0.2, seed=0)
    train_set, test_set = mnist.to_dataset(digits[tr], labels[tr]), mnist.to_dataset(digits[te], labels[te])
    x, y = test_set.tensors
    # exactly notebook 04 §5: a validation tenth of the training digits picks the epoch
    fit_idx, val_idx = (torch.from_numpy(i) for i in mnist.split_holdout(labels[tr], 0.1, seed=0))
    val_x, val_y = (t[val_idx] for t in train_set.tensors)
    fit_set = torch.utils.data.TensorDataset(*(t[fit_idx] for t in train_set.tensors))
    print("| Adam lr | σ | held-out accuracy | glimpses 2…T at the border |\n|---|---|---|---|")
    for lr in (0.002, 1e-3, 3e-4):
        for std in (0.05, 0.1):
            seed_everything(0)
            model = RAM(RAMConfig(glimpses=6, patch_size=8, scales=2, std=std))
            fit(model, fit_set, ram_step(), TrainConfig(epochs=8, batch_size=32, lr=lr, seed=0, progress=False,
                                                        monitor="val_acc"),
                eval_fn=lambda m: {"val_acc": accuracy(m, val_x, val_y)})
            with torch.inference_mode():
                locs = model.eval()(x, stochastic=False).locations
            print(f"| {lr:g} | {std:g} | {accuracy(model, x, y):.3f} | {border_share(locs):.0%} |", flush=True)


if __name__ == "__main__":
    main()
