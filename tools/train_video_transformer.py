"""Train one shipped transformer checkpoint (notebook 07) — seeded, resumable, scored once on held-out videos.

Why a script: what one CPU minute cannot train is trained once here and shipped small in ``data/video/``
(``state_dict`` only, loads with ``weights_only=True``), with a MANIFEST entry holding the sha256, this exact
command, wall time, machine, the held-out figures and the training curve (``<name>_curve.csv``). Notebook 07 loads
the checkpoints and draws its figures from them; ``tests/test_transformer_checkpoints.py`` reloads each one and
recomputes every held-out figure recorded here.

Two **constructed** tasks (``labkit.data.event_videos``):

* ``events``: notebook 05's event videos (2,000 training, 300 validation, 500 test; 10 digit labels, multi-label),
  the same data, frame features, epochs, batch and seeds as 05's shipped BiLSTM + attention, and a similar
  parameter count (86,410 against 86,603). Validation GAP picks the epoch. Held out: GAP, Hit@1, PERR, the mass of
  the last layer's [CLS] attention on the frames that show a digit, and every head's median mass ratio.
* ``order``: notebook 06's sequence videos (2,500 / 200 / 300; two distinct digits one after the other), label =
  the digit shown first; validation accuracy picks the epoch. Run with ``--positions sinusoidal|learned|none``: the
  positional-encoding ablation (without positions self-attention cannot tell which digit came first).

    PYTHONPATH=. python tools/train_video_transformer.py events --seed 0 --register
    PYTHONPATH=. python tools/train_video_transformer.py order --positions none --seed 0 --register
    PYTHONPATH=. python tools/train_video_transformer.py events --steps 3 --out /tmp/x   # smoke test (tests run this)
    for s in 0 1 2; do PYTHONPATH=. python tools/train_video_transformer.py events --seed $s --register;      # the
      for p in sinusoidal learned none; do                                                                   # 12
        PYTHONPATH=. python tools/train_video_transformer.py order --positions $p --seed $s --register; done; done

Budget: 30 epochs, batch 32, Adam 1e-3 with a 2-epoch linear warm-up, 1 thread: about 3 CPU-minutes an ``events``
run and 1 an ``order`` run. A finished run re-invoked resumes at its end and only re-scores.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from shipped_run import MNIST_LICENCE, ShippedRun, add_common_arguments

from labkit.data import event_videos  # noqa: E402
from labkit.data.yt8m import collate_frames  # noqa: E402
from labkit.eval.transformer import heldout_figures, validation_row  # noqa: E402
from labkit.models.attention_lstm import bce_step  # noqa: E402
from labkit.models.transformer import POSITIONS, VideoTransformer, ce_step  # noqa: E402
from labkit.models.transformer_pretrained import TASKS, checkpoint_name, model_config  # noqa: E402

DATA = {"events": "CONSTRUCTED event videos (data/video/events_*.tfrecord); held-out = the 500 test videos",
        "order": "CONSTRUCTED sequence videos of notebook 06 (data/captions/digit_event_captions.npz), label = the "
                 "first digit; held-out = the 300 test videos"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", choices=TASKS)
    ap.add_argument("--positions", choices=POSITIONS, default="sinusoidal")
    ap.add_argument("--warmup", type=int, default=2, help="epochs of linear learning-rate warm-up")
    ap.add_argument("--dropout", type=float, default=None, help="dropout (default: the shipped configuration's)")
    add_common_arguments(ap, "video", epochs=30, lr=1e-3, batch_size=32)
    args = ap.parse_args(argv)

    name = Path(checkpoint_name(args.task, args.positions, args.seed)).stem
    run = ShippedRun("train_video_transformer", name, args.out, family="transformer", seed=args.seed,
                     threads=args.threads, smoke=bool(args.steps), argv=argv)
    limit = args.steps * args.batch_size if args.steps else None
    if args.task == "events":
        train = event_videos.preload(event_videos.event_dataset("train"), limit)
        val, test = (event_videos.preload(event_videos.event_dataset(s)) for s in ("val", "test"))
    else:
        train = event_videos.order_items("train", limit)
        val, test = event_videos.order_items("val"), event_videos.order_items("test")
    torch.manual_seed(args.seed)
    config = model_config(args.positions, **({} if args.dropout is None else {"dropout": args.dropout}))
    model = VideoTransformer(config)

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # warm-up: a transformer's first Adam steps at full lr can push the softmax logits into saturation
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: min(1.0, (e + 1) / max(args.warmup, 1)))
    run.train_config(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                     monitor="val_gap" if args.task == "events" else "val_acc")
    history = run.fit(model, train, bce_step if args.task == "events" else ce_step,
                      eval_fn=lambda m: validation_row(m, args.task, val), collate_fn=collate_frames,
                      optimizer=opt, scheduler=scheduler)
    figures = heldout_figures(model.eval(), test, task=args.task)  # once, at the best validation epoch
    best = history.epochs[history.best_epoch - 1]
    run.finish(model, history, heldout=figures, config=asdict(config), data=DATA[args.task],
               extra={"task": args.task, "positions": args.positions,
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "val": {k: round(v, 4) for k, v in best.items() if k.startswith("val_")}},
               train_extra={"videos": len(train), "warmup_epochs": args.warmup},
               what=(f"transformer encoder ({args.positions} positions), seed {args.seed}, trained on the constructed "
                     + ("event videos" if args.task == "events" else "order task (which digit came first)")),
               licence=MNIST_LICENCE, register=args.register)
    return 0


if __name__ == "__main__":
    sys.exit(main())
