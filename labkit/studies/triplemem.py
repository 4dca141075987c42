"""TripleMem against ResMem on the **constructed** layout task (``labkit.data.composites``): same cached features,
same budget, three seeds, epoch picked on validation, held-out Spearman ρ taken once.

The three variants differ only in what their head reads (:class:`labkit.models.triplemem.FeatureHead`):

* ``resmem`` — ResMem's head retrained: AlexNet branch + ResNet-152 logits;
* ``triplemem`` — the same plus the segmentation CNN on the class-activation maps;
* ``segmentation`` — the segmentation CNN alone (what layout by itself explains);
* ``triplemem_oracle`` and ``segmentation_oracle`` — the same two with the class-activation maps replaced by the
  scenes' *true* layout at the same 8×8 resolution (``labkit.data.composites.layout_maps``): a control that separates
  "the architecture cannot use layout" from "the segmentation does not see it".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import TensorDataset

from labkit.metrics.memorability import spearman
from labkit.models.triplemem import FeatureHead
from labkit.train import History, TrainConfig, fit

#: variant → (what the head reads, which array feeds the segmentation CNN)
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "resmem": (("alex", "res"), "seg"),
    "triplemem": (("alex", "res", "seg"), "seg"),
    "segmentation": (("seg",), "seg"),
    "triplemem_oracle": (("alex", "res", "seg"), "oracle"),
    "segmentation_oracle": (("seg",), "oracle"),
}


@dataclass(frozen=True)
class Budget:
    """What every variant gets: the same epochs, batch, optimiser and learning rate."""

    epochs: int = 60
    batch_size: int = 32
    lr: float = 1e-3


@dataclass
class VariantRun:
    variant: str
    seed: int
    model: FeatureHead
    history: History
    best_epoch: int
    val_rho: float
    test_rho: float
    test_pred: np.ndarray


def _tensors(feats: Mapping[str, np.ndarray], seg: str = "seg") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return tuple(torch.as_tensor(np.asarray(feats[k], dtype=np.float32)) for k in ("alex", "res", seg))


def train_variant(variant: str, train: Mapping[str, np.ndarray], val: Mapping[str, np.ndarray],
                  test: Mapping[str, np.ndarray], seed: int, budget: Budget = Budget(),
                  seg_cnn: type[torch.nn.Module] | None = None) -> VariantRun:
    """Train one variant through ``labkit.train.fit`` (MSE on the constructed score), keep the epoch with the best
    validation ρ, and score the held-out scenes once with it. Each split: ``alex``, ``res``, ``seg`` and ``y`` (and
    ``oracle`` for the oracle variants). ``seg_cnn``: the segmentation CNN's class (a learner's, once it passed its
    check); labkit's by default."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    torch.manual_seed(seed)  # the head's initial weights: one per seed, the same for a rerun
    inputs, seg_key = VARIANTS[variant]
    model = FeatureHead(inputs, seg_cnn=seg_cnn() if seg_cnn is not None and "seg" in inputs else None)
    xs, ys = _tensors(train, seg_key), torch.as_tensor(np.asarray(train["y"], dtype=np.float32))
    xv, yv = _tensors(val, seg_key), np.asarray(val["y"], dtype=np.float32)

    def step(m: FeatureHead, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        *x, y = batch
        return torch.nn.functional.mse_loss(m(*x), y)

    def evaluate(m: FeatureHead) -> dict[str, float]:
        with torch.inference_mode():
            return {"val_spearman": spearman(m(*xv).numpy(), yv)}

    cfg = TrainConfig(epochs=budget.epochs, batch_size=budget.batch_size, lr=budget.lr, seed=seed, device="cpu",
                      monitor="val_spearman", progress=False)
    history = fit(model, TensorDataset(*xs, ys), step, cfg, eval_fn=evaluate)  # best validation epoch restored
    model.eval()
    best = max(range(len(history.epochs)), key=lambda i: history.epochs[i]["val_spearman"])
    with torch.inference_mode():
        pred = model(*_tensors(test, seg_key)).numpy()
    return VariantRun(variant, seed, model, history, best + 1, float(history.epochs[best]["val_spearman"]),
                      spearman(pred, np.asarray(test["y"], dtype=np.float32)), pred)


def compare(train: Mapping[str, np.ndarray], val: Mapping[str, np.ndarray], test: Mapping[str, np.ndarray],
            seeds: Sequence[int] = (0, 1, 2), variants: Sequence[str] = tuple(VARIANTS),
            budget: Budget = Budget(), seg_cnn: type[torch.nn.Module] | None = None) -> list[VariantRun]:
    """Every variant × seed (:func:`train_variant`), in that order."""
    return [train_variant(v, train, val, test, s, budget, seg_cnn) for v in variants for s in seeds]


def summary(runs: Sequence[VariantRun]) -> dict[str, dict[str, float | list[float]]]:
    """Per variant: held-out ρ per seed, their mean and standard deviation, and the best epochs."""
    out: dict[str, dict[str, float | list[float]]] = {}
    for v in dict.fromkeys(r.variant for r in runs):
        rhos = [r.test_rho for r in runs if r.variant == v]
        out[v] = {"test_rho": [round(x, 4) for x in rhos], "mean": float(np.mean(rhos)), "std": float(np.std(rhos)),
                  "best_epochs": [r.best_epoch for r in runs if r.variant == v]}
    return out
