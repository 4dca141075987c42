"""Build TripleMem's shipped assets: the frozen features of the constructed layout scenes, and the 3-seed comparison.

    PYTHONPATH=. python tools/make_triplemem_assets.py [--register]

1. Makes the **constructed** scenes of ``labkit.data.composites`` (train 240 / val 80 / test 80, one seed per split)
   and runs TripleMem's frozen parts on them once — ResMem's AlexNet branch (published weights), the ResNet-152
   logits and the class-activation segmentation — into ``data/triplemem/features.npz`` (float16, compressed),
   with the scenes' category shares and constructed scores. The ResNet forward pass is the expensive part (about
   6 images/s on 2 CPU cores), which is why a notebook reads this file instead.
2. Trains the three variants of ``labkit.studies.triplemem`` (ResMem's head retrained, TripleMem, the segmentation
   branch alone) on those features with the same budget, seeds 0, 1, 2, epoch picked on validation, and writes the
   held-out Spearman ρ of each to ``data/triplemem/comparison.csv``; ``tests/test_triplemem.py`` recomputes them.
3. Measures the cost: images/s of ResMem and of TripleMem on the same batch, and their parameters.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from labkit.core.assets import register  # noqa: E402
from labkit.data.composites import CATEGORIES, composite_split, layout_maps  # noqa: E402
from labkit.metrics.segmentation import share_agreement  # noqa: E402
from labkit.models import resmem, triplemem  # noqa: E402
from labkit.studies.triplemem import Budget, compare, summary  # noqa: E402

SIZES = {"train": 240, "val": 80, "test": 80}
LICENCE = ("ResMem weights: non-commercial licence of the University of Chicago (resmem==1.1.6 on PyPI); images: "
           "scikit-image sample photos (public domain, CC0 or CC-BY, see each skimage.data function) and scikit-learn "
           "sample images (CC-BY 2.0)")


def features(out: Path) -> dict[str, dict[str, np.ndarray]]:
    model = triplemem.load_pretrained()
    arrays = {}
    for split, n in SIZES.items():
        scenes = composite_split(split, n)
        x = torch.from_numpy(scenes.images).permute(0, 3, 1, 2).float().div(255)  # the scenes are made at 227
        alex, res, seg = triplemem.extract_features(model, x, batch_size=16)
        oracle = layout_maps(scenes.masks)[:, [CATEGORIES.index(_category(g)) for g in triplemem.GROUPS]]
        arrays |= {f"{split}_alex": alex.astype(np.float16), f"{split}_res": res.astype(np.float16),
                   f"{split}_seg": seg.astype(np.float16), f"{split}_oracle": oracle.astype(np.float16),
                   f"{split}_y": scenes.targets, f"{split}_shares": scenes.shares}
    tmp = out / ".features.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    tmp.replace(out / "features.npz")
    # what the notebook and the tests read: the float16 values, exactly as shipped
    return load_split_features(out / "features.npz")


def _category(group: str) -> str:
    """The scene category a segmentation group stands for (the backdrops are landscape and texture)."""
    return "backdrop" if group == "landscape" else group


def load_split_features(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """The shipped arrays per split as float32: exactly what the notebook and the tests train on."""
    cache = np.load(path)
    return {s: {k: cache[f"{s}_{k}"].astype(np.float32) for k in ("alex", "res", "seg", "oracle", "y", "shares")}
            for s in SIZES}


def cost(n: int = 32, rounds: int = 3) -> dict[str, float]:
    """Images/s of ResMem and TripleMem on the same preprocessed batch, alternated, best of ``rounds``."""
    x = torch.from_numpy(composite_split("test", n).images).permute(0, 3, 1, 2).float().div(255)
    models = {"resmem": resmem.load_pretrained(), "triplemem": triplemem.load_pretrained()}
    best = dict.fromkeys(models, 0.0)
    with torch.inference_mode():
        for _ in range(rounds):
            for name, m in models.items():
                t = time.perf_counter()
                for i in range(0, n, 16):
                    m(x[i:i + 16])
                best[name] = max(best[name], n / (time.perf_counter() - t))
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
    return {"resmem_images_per_s": round(best["resmem"], 2), "triplemem_images_per_s": round(best["triplemem"], 2),
            "slowdown": round(best["resmem"] / best["triplemem"], 3), "resmem_parameters": params["resmem"],
            "triplemem_parameters": params["triplemem"],
            "triplemem_trained_on_features": sum(p.numel() for p in triplemem.FeatureHead().parameters())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--register", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = ROOT / "data" / "triplemem"
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = features(out)
    t_feat = time.perf_counter() - t0
    budget = Budget()
    runs = compare(data["train"], data["val"], data["test"], budget=budget)
    t_train = time.perf_counter() - t0 - t_feat
    table = summary(runs)
    test = data["test"]
    agreement = share_agreement(test["seg"], test["shares"][:, [CATEGORIES.index(_category(g)) for g in triplemem.GROUPS]],
                                triplemem.GROUPS)
    tmp = out / ".comparison.tmp.csv"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["variant", "seed", "best_epoch", "val_rho", "test_rho"])
        for r in runs:
            w.writerow([r.variant, r.seed, r.best_epoch, f"{r.val_rho:.6f}", f"{r.test_rho:.6f}"])
    tmp.replace(out / "comparison.csv")
    measured = cost()
    report = {"summary": table, "segmentation_agreement_test": {k: round(v, 4) for k, v in agreement.items()},
              "cost": measured, "budget": budget.__dict__, "sizes": SIZES,
              "wall_seconds": {"features": round(t_feat, 1), "training": round(t_train, 1)},
              "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads"}
    print(json.dumps(report, indent=2))
    if args.register:
        command = "PYTHONPATH=. python tools/make_triplemem_assets.py --register"
        register("triplemem/features.npz",
                 "CONSTRUCTED scenes (labkit.data.composites: bundled photos pasted on landscape backdrops, scored by "
                 "a formula of visible category areas) and their frozen TripleMem inputs: ResMem AlexNet branch "
                 "(9216), ResNet-152 logits (1000), class-activation segmentation (7×8×8), float16",
                 LICENCE, command, training={"command": command, "wall_seconds": round(t_feat, 1), **report})
        register("triplemem/comparison.csv",
                 "held-out Spearman rho on the CONSTRUCTED layout scores: ResMem head retrained vs TripleMem vs the "
                 "segmentation branch alone, seeds 0-2, epoch picked on validation", LICENCE, command,
                 training={"command": command, "wall_seconds": round(t_train, 1), **report})


if __name__ == "__main__":
    main()
