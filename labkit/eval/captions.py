"""SA-LSTM's held-out protocol (notebook 06): caption every held-out video greedily and by beam search, then score
the captions and where the attention of each digit word fell.

Why here: decoding runs the model (beam search in :func:`labkit.models.sa_lstm.generate`); the scores are pure
functions of the captions and α, in :mod:`labkit.metrics.caption_grounding` and :mod:`labkit.metrics.captioning`.
"""

from __future__ import annotations

import torch

from labkit.data.captions import CaptionSet, Vocabulary
from labkit.data.sequences import pad_or_trim
from labkit.metrics.caption_grounding import attention_grounding, captions_sha256, digit_accuracy
from labkit.metrics.captioning import java_available, score_systems
from labkit.models.sa_lstm import LENGTH_PENALTY, SALSTM, generate


def decode(model: SALSTM, vocab: Vocabulary, data: CaptionSet, beam_width: int = 1, max_len: int = 20,
           length_penalty: float | None = None):
    """Captions of every video of ``data``: ``({id: caption}, [words per caption], α (N, L, T), real frames (N,))``."""
    feats, mask = pad_or_trim(data.features)
    lp = LENGTH_PENALTY if length_penalty is None else length_penalty
    with torch.inference_mode():
        tokens, alphas = generate(model, feats, mask, beam_width, max_len, length_penalty=lp)
    caps = {i: vocab.decode(t) for i, t in zip(data.ids, tokens, strict=True)}
    return caps, [caps[i].split() for i in data.ids], alphas.numpy(), mask.sum(1).tolist()


def heldout_figures(model: SALSTM, split: CaptionSet, *, vocab: Vocabulary, beam_width: int = 3, max_len: int = 20,
                    meteor: bool | None = None) -> dict[str, float | str]:
    """What a shipped checkpoint records and its test recomputes, on digit-event videos: BLEU-4, ROUGE-L, CIDEr
    (and METEOR when ``meteor``; default: when Java is there) of greedy and beam captions, their digit accuracy, and
    the attention grounding of the greedy captions with its chance level (the mean-context decoder's α is uniform,
    so its "grounding" is only the first frame's luck: it is left out). Also ``captions_sha256``: the
    :func:`~labkit.metrics.caption_grounding.captions_sha256` of the greedy and beam captions (the MANIFEST records
    it beside the figures, so pop it before comparing them).

    Scored without the PTB tokenizer: the generated and the reference captions are already lower-case words without
    punctuation, so the tokenizer would change nothing (notebook 06 §8 checks it)."""
    meteor = java_available() if meteor is None else meteor
    metrics = ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr") if meteor else ("BLEU-4", "ROUGE-L", "CIDEr")
    greedy, words, alphas, lengths = decode(model, vocab, split, 1, max_len)
    beam, *_ = decode(model, vocab, split, beam_width, max_len)
    refs = {i: split.captions[i] for i in split.ids}
    table = score_systems(refs, {"greedy": greedy, "beam": beam}, tokenize=False, metrics=metrics)
    truth = split.truth()
    out = {m: table["greedy"][m] for m in metrics}
    out.update({f"beam{beam_width}_{m}": table["beam"][m] for m in metrics})
    out["digit_accuracy"] = digit_accuracy(greedy, truth)
    out[f"beam{beam_width}_digit_accuracy"] = digit_accuracy(beam, truth)
    g = attention_grounding(words, alphas, [split.events[i] for i in split.ids], lengths)
    if model.cfg.context == "attention":
        out["grounding"] = g.share
    out["grounding_chance"] = g.chance
    return {**{k: round(float(v), 4) for k, v in out.items()}, "captions_sha256": captions_sha256(greedy, beam)}
