"""Are the digits right, and did each digit word look at its digit? The numbers behind notebook 06's goals.

Why these and not BLEU / CIDEr alone: on captions generated from templates, n-gram overlap rewards the template's
grammar — a constant caption already matches most words. Two numbers speak to the task itself:

* **digit accuracy**: the share of captions whose asserted (earlier, later) digits — read back by
  :func:`labkit.data.captions.parse_caption`, whatever the phrasing — equal the video's; an unparseable caption
  counts as wrong;
* **attention grounding**: for every digit word of every generated caption, whether the peak of α at the step that
  emitted it (argmax over the real frames) lies in frames where *that* digit is visible; a digit word naming a
  digit the video does not show cannot be grounded and counts as a miss. Its chance level is what a peak on a
  uniformly random real frame would score.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from labkit.data.captions import parse_caption
from labkit.metrics.errors import MetricInputError

Window = tuple[int, int, int]  # (digit, start, stop): the digit is visible on frames start..stop-1


def digit_accuracy(candidates: Mapping[str, str], truth: Mapping[str, tuple[int, int]]) -> float:
    """Share of ids whose caption asserts exactly ``truth[id]`` = (earlier digit, later digit)."""
    if not truth:
        raise MetricInputError("nothing to score: no ids")
    missing = [i for i in truth if i not in candidates]
    if missing:
        raise MetricInputError(f"{len(missing)} ids have no candidate caption, e.g. {missing[:3]}")
    return sum(parse_caption(candidates[i]) == tuple(truth[i]) for i in truth) / len(truth)


def is_digit_word(word: str) -> bool:
    return len(word) == 1 and word.isdigit()


@dataclass(frozen=True)
class Grounding:
    """Digit words whose attention peak lies in their digit's frames (``hits``) of all digit words, and the share a
    uniformly random real frame would reach."""

    hits: int
    digit_words: int
    chance: float

    @property
    def share(self) -> float:
        return self.hits / self.digit_words if self.digit_words else float("nan")


def word_grounding(words: Sequence[str], alpha: np.ndarray, events: Sequence[Window],
                   length: int) -> list[tuple[int, bool, float]]:
    """For one caption: ``(word position, peak inside that digit's frames, chance of a random real frame)`` for each
    digit word. ``alpha`` (≥ len(words), T) holds the weights of the step that emitted each word; only the first
    ``length`` frames are real."""
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.ndim != 2 or alpha.shape[0] < len(words):
        raise MetricInputError(f"alpha must be (words, frames) with a row per word: {len(words)} words, "
                               f"alpha {alpha.shape}")
    if not 1 <= length <= alpha.shape[1]:
        raise MetricInputError(f"length must be in 1..{alpha.shape[1]} frames, got {length}")
    out = []
    for k, w in enumerate(words):
        if not is_digit_word(w):
            continue
        visible = np.zeros(length, dtype=bool)
        for digit, start, stop in events:
            if digit == int(w):
                visible[max(start, 0):min(stop, length)] = True
        peak = int(np.argmax(alpha[k, :length]))
        out.append((k, bool(visible[peak]), float(visible.mean())))
    return out


def attention_grounding(words: Sequence[Sequence[str]], alphas: Sequence[np.ndarray],
                        events: Sequence[Sequence[Window]], lengths: Sequence[int]) -> Grounding:
    """:func:`word_grounding` over many captions: one entry per video in each argument."""
    if not len(words) == len(alphas) == len(events) == len(lengths):
        raise MetricInputError(f"need one entry per video in each argument, got {len(words)} captions, "
                               f"{len(alphas)} alphas, {len(events)} event lists, {len(lengths)} lengths")
    rows = [r for w, a, e, n in zip(words, alphas, events, lengths, strict=True) for r in word_grounding(w, a, e, n)]
    return Grounding(sum(r[1] for r in rows), len(rows), float(np.mean([r[2] for r in rows])) if rows else float("nan"))


def function_word_attention(words: Sequence[Sequence[str]], alphas: Sequence[np.ndarray],
                            events: Sequence[Sequence[Window]], lengths: Sequence[int]) -> dict[str, dict[str, float]]:
    """Where the words that are *not* digits look: for each function word, the α mass (at the step that emitted it)
    on the frames of the **next** digit word's digit and on those of the **previous** digit word's digit, against
    the share of the real frames each digit occupies (what uniform weights would put there).

    Why: a heatmap suggests that "a" and "then" already look at the digit the caption names *next*; this makes the
    reading a number. Rows are keyed ``"<word> (<where>)"``, where is ``before 1st digit``, ``between digits`` or
    ``after 2nd digit``, plus ``"all (before a digit word)"``; each holds ``n`` (words), ``next`` / ``previous``
    (mean mass; NaN where no such digit word exists or the video does not show that digit, so they are left out of
    the mean), ``next_share`` / ``previous_share`` (mean frame share of those digits). One entry per video in each
    argument, as for :func:`attention_grounding`."""
    if not len(words) == len(alphas) == len(events) == len(lengths):
        raise MetricInputError(f"need one entry per video in each argument, got {len(words)} captions, "
                               f"{len(alphas)} alphas, {len(events)} event lists, {len(lengths)} lengths")
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for w, a, ev, n in zip(words, alphas, events, lengths, strict=True):
        a = np.asarray(a, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] < len(w) or not 1 <= n <= a.shape[1]:
            raise MetricInputError(f"alpha must be (words, frames) with a row per word and ≥ {n} frames: "
                                   f"{len(w)} words, alpha {a.shape}")
        frames = {}
        for digit, start, stop in ev:
            frames[int(digit)] = np.zeros(n, dtype=bool)
            frames[int(digit)][max(start, 0):min(stop, n)] = True
        digit_at = [k for k, x in enumerate(w) if is_digit_word(x)]
        for k, x in enumerate(w):
            if is_digit_word(x):
                continue
            nxt = next((int(w[j]) for j in digit_at if j > k), None)
            prv = next((int(w[j]) for j in reversed(digit_at) if j < k), None)
            where = "before 1st digit" if prv is None else "after 2nd digit" if nxt is None else "between digits"
            mass = [a[k, :n][frames[d]].sum() if d in frames else np.nan for d in (nxt, prv)]
            share = [frames[d].mean() if d in frames else np.nan for d in (nxt, prv)]
            row = (mass[0], mass[1], share[0], share[1])
            rows.setdefault(f"{x} ({where})", []).append(row)
            if nxt is not None:
                rows.setdefault("all (before a digit word)", []).append(row)
    out = {}
    order = ("all", "before", "between", "after")  # in reading order, the most frequent word first within each
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no digit at all is NaN, as documented
        for key, r in sorted(rows.items(), key=lambda kv: (next(i for i, o in enumerate(order) if o in kv[0]),
                                                           -len(kv[1]), kv[0])):
            m = np.nanmean(np.array(r, dtype=np.float64), axis=0)
            out[key] = {"n": len(r), "next": float(m[0]), "previous": float(m[1]), "next_share": float(m[2]),
                        "previous_share": float(m[3])}
    return out


def captions_sha256(*systems: Mapping[str, str]) -> str:
    """One digest of several systems' captions (id-sorted): equal digests mean word-for-word equal captions, so every
    score computed from them (METEOR too) is equal."""
    import hashlib

    text = "\n".join(f"{k}\t{i}\t{c[i]}" for k, c in enumerate(systems) for i in sorted(c))
    return hashlib.sha256(text.encode()).hexdigest()
