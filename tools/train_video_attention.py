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
import sys
from dataclasses import asdict

import torch
from shipped_run import MNIST_LICENCE, ShippedRun, add_common_arguments

from labkit.data.event_videos import event_dataset, preload  # noqa: E402
from labkit.data.yt8m import collate_frames  # noqa: E402
from labkit.eval.video import heldout_figures, predict_split  # noqa: E402
from labkit.metrics.temporal_attention import median_mass_ratio  # noqa: E402
from labkit.metrics.yt8m import gap  # noqa: E402
from labkit.models.attention_lstm import POOLINGS, AttentionLSTM, bce_step  # noqa: E402
from labkit.models.attention_lstm_pretrained import model_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pooling", choices=POOLINGS)
    add_common_arguments(ap, "video", epochs=30, lr=2e-3, batch_size=32)
    args = ap.parse_args(argv)

    name = f"attention_lstm_{args.pooling}_s{args.seed}"
    run = ShippedRun("train_video_attention", name, args.out, family="attention_lstm", seed=args.seed,
                     threads=args.threads, smoke=bool(args.steps), argv=argv)
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

    run.train_config(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, monitor="val_gap")
    history = run.fit(model, train, bce_step, eval_fn=evaluate, collate_fn=collate_frames)
    figures = heldout_figures(model.eval(), test)  # once, at the best validation epoch
    best = history.epochs[history.best_epoch - 1]
    run.finish(model, history, heldout=figures, config=asdict(config),
               data="CONSTRUCTED event videos (data/video/events_*.tfrecord); held-out = the 500 test videos",
               extra={"pooling": args.pooling,
                      "val": {"gap": round(best["val_gap"], 4), "median_mass_ratio": round(best["val_mass_ratio"], 4)}},
               train_extra={"videos": len(train)},
               what=f"attention-LSTM ({args.pooling} pooling), seed {args.seed}, trained on the constructed event videos",
               licence=MNIST_LICENCE, register=args.register)
    return 0


if __name__ == "__main__":
    sys.exit(main())
