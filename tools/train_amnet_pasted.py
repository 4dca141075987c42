"""Train the shipped AMNet checkpoints of notebook 03 on the constructed pasted-object task — and its ablation.

What one CPU minute cannot do is done once here: the frozen ResNet-152 layer3 maps of 880 constructed images
(``labkit.data.pasted_objects``; cached under ``runs/train_amnet/``), then AMNet with attention and AMNet with
uniform attention (``att_off``, the paper's ablation), three seeds each, the epoch picked on the validation images.
Seed 0 of each is shipped in ``data/amnet/`` with a MANIFEST entry holding the command, wall time, machine and the
held-out figures of all six runs; ``tests/test_amnet_checkpoints.py`` recomputes the shipped ones.

    PYTHONPATH=. python tools/train_amnet_pasted.py --register      # about 15 minutes on 2 CPU cores
    PYTHONPATH=. python tools/train_amnet_pasted.py --smoke --out /tmp/x   # seconds (tests run this)
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.core.assets import register  # noqa: E402
from labkit.core.env import seed_everything, set_threads  # noqa: E402
from labkit.data import pasted_objects as po  # noqa: E402
from labkit.eval.amnet import heldout_figures  # noqa: E402
from labkit.metrics.memorability import spearman  # noqa: E402
from labkit.models.amnet import AMNet, AMNetConfig, amnet_loss, save_checkpoint  # noqa: E402
from labkit.models.amnet_pretrained import CONFIG, RECIPE, features  # noqa: E402
from labkit.train import TrainConfig, fit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="a few images and one epoch: checks the script runs")
    ap.add_argument("--out", default=str(ROOT / "data" / "amnet"))
    ap.add_argument("--register", action="store_true", help="write the MANIFEST entries (data/amnet only)")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    limit = 8 if args.smoke else None
    cache = None if args.smoke else ROOT / "runs" / "train_amnet"
    t0 = time.perf_counter()
    sets = {s: po.make_split(s, limit) for s in ("train", "val", "test")}
    maps = {s: features(sets[s].images, cache / f"layer3_{s}.pt" if cache else None) for s in sets}
    feature_seconds = time.perf_counter() - t0
    y = {s: torch.from_numpy(sets[s].targets) for s in sets}
    runs: dict[str, dict] = {}
    for att_off in (False, True):
        for seed in range(1 if args.smoke else args.seeds):
            seed_everything(seed)
            net = AMNet(AMNetConfig(**{**CONFIG, "att_off": att_off}))
            def evaluate(m: AMNet) -> dict[str, float]:
                return {"val_rho": spearman(m.predict(maps["val"])[0].numpy(), sets["val"].targets)}

            t = time.perf_counter()
            fit(net, torch.utils.data.TensorDataset(maps["train"], y["train"]), lambda m, b: amnet_loss(m, m(b[0]), b[1]),
                TrainConfig(epochs=1 if args.smoke else args.epochs, batch_size=32, lr=args.lr, weight_decay=1e-6,
                            seed=seed, device="cpu", monitor="val_rho", progress=False), eval_fn=evaluate)
            name = f"amnet_pasted_{'attoff' if att_off else 'attention'}_s{seed}"
            runs[name] = {"heldout": heldout_figures(net, sets["test"], maps=maps["test"]),
                          "train_seconds": round(time.perf_counter() - t)}
            print(name, json.dumps(runs[name]), flush=True)
            if seed == 0:
                save_checkpoint(net, out / f"{name}.pt", pool=RECIPE["pool"], resize=RECIPE["resize"], crop=RECIPE["crop"])
    mean = lambda kind, k: float(np.mean([r["heldout"][k] for n, r in runs.items() if kind in n]))  # noqa: E731
    summary = {"rho_attention_mean": round(mean("_attention_", "rho"), 4), "rho_att_off_mean": round(mean("_attoff_", "rho"), 4),
               "mass_ratio_attention_mean": round(mean("_attention_", "median_mass_ratio"), 4)}
    summary["ablation_gap_rho"] = round(summary["rho_attention_mean"] - summary["rho_att_off_mean"], 4)
    record = {"config": CONFIG, "epochs": args.epochs, "runs": runs, "summary": summary,
              "wall_seconds": round(time.perf_counter() - t0), "feature_seconds": round(feature_seconds),
              "machine": f"{platform.machine()} {platform.processor() or platform.platform()}, {args.threads} threads",
              "command": "PYTHONPATH=. python tools/train_amnet_pasted.py " + shlex.join(sys.argv[1:] if argv is None else argv)}
    print(json.dumps(summary, indent=2))
    if args.register:
        lic = ("trained here on constructed images: scikit-image's lfw_subset patches pasted on the bundled photos "
               "(scikit-image / scikit-learn sample-image licences)")
        for kind in ("attention", "attoff"):
            name = f"amnet/amnet_pasted_{kind}_s0.pt"
            register(name, f"AMNet ({'uniform attention, the ablation' if kind == 'attoff' else 'attention'}) on the "
                     "constructed pasted-object task, seed 0", lic, restore=record["command"],
                     training={**record, "heldout": runs[f"amnet_pasted_{kind}_s0"]["heldout"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
