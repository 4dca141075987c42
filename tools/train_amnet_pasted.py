"""Train the shipped AMNet checkpoints of notebook 03 on the constructed pasted-object task — and its ablation.

What one CPU minute cannot do is done once here: the frozen ResNet-152 layer3 maps of 880 constructed images
(``labkit.data.pasted_objects``; cached under ``runs/train_amnet/``), then AMNet with attention and AMNet with
uniform attention (``att_off``, the paper's ablation), three seeds each, the epoch picked on the validation images.
Seed 0 of each is shipped in ``data/amnet/`` (with its curve) and its MANIFEST entry is :class:`ShippedRun`'s record
of that run (``heldout``: its own figures; ``wall_seconds``: its own training) plus ``runs`` (every run's held-out
figures), ``summary`` (their means, which notebook 03 quotes) and ``feature_seconds``;
``tests/test_amnet_checkpoints.py`` recomputes the shipped ones. Every run has its own resumable folder
(``runs/train_amnet_pasted/<name>/``), so a cut invocation re-run continues where it stopped and a finished run only
re-scores.

    PYTHONPATH=. python tools/train_amnet_pasted.py --register      # about 15 minutes on 2 CPU cores
    PYTHONPATH=. python tools/train_amnet_pasted.py --smoke --out /tmp/x   # seconds (tests run this)
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
from shipped_run import PASTED_OBJECTS_LICENCE, ROOT, ShippedRun

from labkit.core.env import set_threads  # noqa: E402
from labkit.data import pasted_objects as po  # noqa: E402
from labkit.eval.amnet import heldout_figures  # noqa: E402
from labkit.metrics.memorability import spearman  # noqa: E402
from labkit.models.amnet import AMNet, AMNetConfig, amnet_loss, config_dict, save_checkpoint  # noqa: E402
from labkit.models.amnet_pretrained import CONFIG, RECIPE, features  # noqa: E402

KINDS = {"attention": "attention", "attoff": "uniform attention, the ablation"}


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
    limit = 8 if args.smoke else None
    cache = None if args.smoke else ROOT / "runs" / "train_amnet"
    t0 = time.perf_counter()
    sets = {s: po.make_split(s, limit) for s in ("train", "val", "test")}
    maps = {s: features(sets[s].images, cache / f"layer3_{s}.pt" if cache else None) for s in sets}
    feature_seconds = time.perf_counter() - t0
    y = {s: torch.from_numpy(sets[s].targets) for s in sets}
    train = torch.utils.data.TensorDataset(maps["train"], y["train"])
    data = (f"CONSTRUCTED pasted-object images (labkit.data.pasted_objects: a face patch pasted on a photo, boxed): "
            f"{len(y['train'])} train, {len(y['val'])} val, {len(y['test'])} held-out; frozen ResNet-152 layer3 maps")

    def evaluate(m: AMNet) -> dict[str, float]:
        return {"val_rho": spearman(m.predict(maps["val"])[0].numpy(), sets["val"].targets)}

    runs: dict[str, dict] = {}
    shipped: dict[str, tuple[ShippedRun, dict]] = {}
    for kind in KINDS:
        for seed in range(1 if args.smoke else args.seeds):
            # one resumable run folder per (kind, seed); seed 0 of each kind is the shipped checkpoint
            run = ShippedRun("train_amnet_pasted", f"amnet_pasted_{kind}_s{seed}", args.out, family="amnet",
                             seed=seed, threads=args.threads, smoke=args.smoke, argv=argv)
            net = AMNet(AMNetConfig(**{**CONFIG, "att_off": kind == "attoff"}))
            run.train_config(epochs=args.epochs, batch_size=32, lr=args.lr, weight_decay=1e-6, monitor="val_rho",
                             progress=False)
            history = run.fit(net, train, lambda m, b: amnet_loss(m, m(b[0]), b[1]), eval_fn=evaluate)
            report = run.finish(net, history, heldout=heldout_figures(net, sets["test"], maps=maps["test"]),
                                config=config_dict(net.cfg), data=data, ship=seed == 0, show=False,
                                save=lambda tmp, net=net: save_checkpoint(net, tmp, pool=RECIPE["pool"],
                                                                          resize=RECIPE["resize"], crop=RECIPE["crop"]))
            runs[run.name] = {"heldout": report["heldout"], "best_epoch": report["best_epoch"],
                              "train_seconds": report["wall_seconds"]}
            print(run.name, json.dumps(runs[run.name]), flush=True)
            if seed == 0:
                shipped[kind] = (run, report)
    mean = lambda kind, k: float(np.mean([r["heldout"][k] for n, r in runs.items() if kind in n]))  # noqa: E731
    summary = {"rho_attention_mean": round(mean("_attention_", "rho"), 4), "rho_att_off_mean": round(mean("_attoff_", "rho"), 4),
               "mass_ratio_attention_mean": round(mean("_attention_", "median_mass_ratio"), 4)}
    summary["ablation_gap_rho"] = round(summary["rho_attention_mean"] - summary["rho_att_off_mean"], 4)
    print(json.dumps(summary, indent=2))
    for kind, (run, report) in shipped.items():
        # each shipped checkpoint's record: its own run (heldout = its figures), plus every seed's and their means
        record = {**report, "runs": runs, "summary": summary, "feature_seconds": round(feature_seconds)}
        run.write_report(record)
        if args.register:
            run.register(record, f"AMNet ({KINDS[kind]}) on the constructed pasted-object task, seed 0",
                         PASTED_OBJECTS_LICENCE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
