"""Train one shipped SA-LSTM checkpoint (notebook 06) — seeded, resumable, scored once on held-out videos.

Why a script: the decoders notebook 06 compares are trained once here and shipped small in ``data/captions/``
(``state_dict`` only, loads with ``weights_only=True``), with a MANIFEST entry holding the sha256, this exact
command, wall time, machine, the vocabulary, the held-out figures and the training curve (``<name>_curve.csv``).
``tests/test_caption_checkpoints.py`` reloads each one and recomputes every held-out figure recorded here.

Data and settings: ``labkit.models.sa_lstm_pretrained`` (the bundled captions of constructed digit-event videos:
2,500 training videos with 4 captions each, 200 validation videos, 300 test videos). The epoch kept is the one
with the best **validation digit accuracy** of greedy captions (ties: the earlier); test figures are computed once,
at that epoch.

    PYTHONPATH=. python tools/train_sa_lstm.py attention --seed 0 --register
    PYTHONPATH=. python tools/train_sa_lstm.py mean --seed 0 --register      # the ablation: mean-frame context
    PYTHONPATH=. python tools/train_sa_lstm.py attention --steps 3 --out /tmp/x   # smoke test (tests run this)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from shipped_run import MNIST_LICENCE, ShippedRun, add_common_arguments

from labkit.data.captions import CaptionDataset, Vocabulary, load_event_captions  # noqa: E402
from labkit.eval.captions import decode, heldout_figures  # noqa: E402
from labkit.metrics.caption_grounding import digit_accuracy  # noqa: E402
from labkit.metrics.captioning import score  # noqa: E402
from labkit.models.sa_lstm import CONTEXTS, LENGTH_PENALTY, SALSTM, SALSTMConfig  # noqa: E402
from labkit.models.sa_lstm_pretrained import BEAM_WIDTH, MAX_LEN, MIN_COUNT, SETTINGS, checkpoint_name  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("context", choices=CONTEXTS)
    add_common_arguments(ap, "captions", epochs=20, lr=3e-3, batch_size=32)
    args = ap.parse_args(argv)

    name = Path(checkpoint_name(args.context, args.seed)).stem
    run = ShippedRun("train_sa_lstm", name, args.out, family="sa_lstm", seed=args.seed, threads=args.threads,
                     smoke=bool(args.steps), argv=argv)
    data = load_event_captions()
    train = data["train"].take(args.steps * args.batch_size // 4) if args.steps else data["train"]
    val = data["val"].take(20) if args.steps else data["val"]
    test = data["test"].take(20) if args.steps else data["test"]
    vocab = Vocabulary.build([c for cs in data["train"].captions.values() for c in cs], min_count=MIN_COUNT)
    train_set = CaptionDataset(train, vocab, max_len=MAX_LEN)
    cfg = SALSTMConfig(vocab_size=len(vocab), feature_dim=train_set.feats.shape[-1], context=args.context, **SETTINGS)
    model = SALSTM(cfg)

    def step(m: torch.nn.Module, batch: dict) -> torch.Tensor:
        return m.loss(batch["feats"], batch["mask"], batch["caption"])

    def evaluate(m: SALSTM) -> dict[str, float]:
        """Validation digit accuracy picks the epoch; CIDEr is logged so the curve shows the wording too."""
        caps, *_ = decode(m, vocab, val, 1, MAX_LEN)
        refs = {i: val.captions[i] for i in val.ids}
        return {"val_digit_acc": digit_accuracy(caps, val.truth()),
                "val_CIDEr": score(refs, caps, tokenize=False, metrics=("CIDEr",))["CIDEr"]}

    run.train_config(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, grad_clip=5.0,
                     monitor="val_digit_acc")
    history = run.fit(model, train_set, step, eval_fn=evaluate)
    figures = heldout_figures(model.eval(), test, vocab=vocab, beam_width=BEAM_WIDTH, max_len=MAX_LEN,
                              meteor=False if args.steps else None)  # once, at the best validation epoch
    digest = figures.pop("captions_sha256")
    what = "SA-LSTM, temporal attention" if args.context == "attention" else "SA-LSTM ablation, mean-frame context"
    run.finish(model, history, heldout=figures, config=asdict(cfg),
               data="CONSTRUCTED digit-event videos (bundled captions/digit_event_captions.npz): "
                    f"{len(train.ids)} train, {len(val.ids)} val, {len(test.ids)} test",
               extra={"context": args.context, "vocab": vocab.itos, "captions_sha256": digest,
                      "decoding": {"max_len": MAX_LEN, "beam_width": BEAM_WIDTH, "length_penalty": LENGTH_PENALTY}},
               train_extra={"videos": len(train.ids)}, hide=("vocab",),
               what=f"{what}, digit-event captions, seed {args.seed}", licence=MNIST_LICENCE, register=args.register)
    return 0


if __name__ == "__main__":
    sys.exit(main())
