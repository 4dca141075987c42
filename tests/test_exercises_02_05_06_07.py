"""The exercises of notebooks 02, 05, 06 and 07: their own check cells (read from the notebooks, so the cases cannot
drift) pass the committed solutions, report the student stub as unsolved, and catch each exercise's classic mistake."""

from __future__ import annotations

import math
import re
from collections import Counter

import nbformat
import numpy as np
import pytest
import torch
from helpers import ROOT

import labkit
import labkit.models.attention_lstm  # noqa: F401  (the 05 check cell names it through `labkit`)
from labkit.course.exercises import check_function
from labkit.course.student import strip_solutions
from labkit.eval.transformer import head_mass_ratios
from labkit.metrics.captioning import clipped_ngram_matches
from labkit.metrics.yt8m import gap
from labkit.models import resmem as R
from labkit.models.attention_ops import causal_mask, scaled_dot_product
from labkit.models.sa_lstm import TemporalAttention
from labkit.models.sa_lstm import select_beams as labkit_select_beams

NB = ROOT / "notebooks"
FILES = {"02": "02_resmem.ipynb", "05": "05_attention_lstm_video.ipynb", "06": "06_sa_lstm_captioning.ipynb",
         "07": "07_self_attention.ipynb"}
GLOBALS = {"np": np, "torch": torch, "labkit": labkit, "R": R, "gap": gap,
           "TemporalAttention": TemporalAttention, "labkit_select_beams": labkit_select_beams,
           "clipped_ngram_matches": clipped_ngram_matches, "check_function": check_function,
           "yt8m": __import__("labkit.data.yt8m", fromlist=["yt8m"]), "math": math, "F": torch.nn.functional,
           "scaled_dot_product": scaled_dot_product, "labkit_causal_mask": causal_mask}


def _cells(nb: str, name: str) -> tuple[str, str]:
    """(the exercise cell, its check cell) of exercise ``name`` in notebook ``nb``."""
    cells = [c.source for c in nbformat.read(NB / FILES[nb], as_version=4).cells if c.cell_type == "code"]
    solution = next(s for s in cells if f"def {name}(" in s and "### BEGIN SOLUTION" in s)
    check = next(s for s in cells if s.startswith("# NBVAL_CHECK_OUTPUT") and re.search(rf'"{name}", {name},', s))
    return solution, check


def _status(nb: str, name: str, capsys, wrong=None, student: bool = False) -> str:
    solution, check = _cells(nb, name)
    ns = dict(GLOBALS)
    exec(strip_solutions(solution) if student else solution, ns)  # noqa: S102 - the notebook's own cell
    if wrong is not None:
        ns[name] = wrong
    capsys.readouterr()
    exec(check, ns)  # noqa: S102
    out = capsys.readouterr().out
    assert f"exercise {name!r}" in out
    return {"✔": "passed", "✘": "wrong", "…": "unsolved"}[out.strip()[0]] + ("" if "Hint:" not in out else " +hint")


EXERCISES = [("02", "single_branch_input"), ("05", "dequantize"), ("05", "masked_softmax"),
             ("05", "gap_by_hand"), ("06", "attention_weights"), ("06", "select_beams"), ("06", "clipped_matches"),
             ("07", "dot_product_attention"), ("07", "causal_mask")]


@pytest.mark.parametrize(("nb", "name"), EXERCISES)
def test_solution_passes_and_student_stub_is_unsolved(nb, name, capsys):
    assert _status(nb, name, capsys) == "passed"
    assert _status(nb, name, capsys, student=True) == "unsolved"


def _softmax_then_zero(logits, mask):
    return torch.softmax(logits, dim=1) * mask


def _mean_per_video_ap(p, y, top_k=20):  # mAP over videos is not GAP
    return float(np.mean([gap(p[i:i + 1], y[i:i + 1], top_k) for i in range(len(p))]))


def _mean_over_features(a, r, keep):  # axis 1 instead of axis 0
    if keep == "alex":
        return np.concatenate([a, np.broadcast_to(r.mean(1, keepdims=True), r.shape)], 1)
    return np.concatenate([np.broadcast_to(a.mean(1, keepdims=True), a.shape), r], 1)


def _unclipped(candidate, references, n=1):  # every candidate n-gram found in some reference counts
    def grams(text):
        w = text.split()
        return Counter(tuple(w[i:i + n]) for i in range(len(w) - n + 1))

    seen = set().union(*map(grams, references))
    cand = grams(candidate)
    return sum(c for g, c in cand.items() if g in seen), sum(cand.values())


def _no_mask(att, h, uv, mask):
    return torch.softmax(att.w(torch.tanh(att.W(h).unsqueeze(1) + uv)).squeeze(-1), dim=1)


def _unscaled(q, k, v, mask=None):  # no √d
    w = torch.softmax((q @ k.transpose(-2, -1)).masked_fill(~mask if mask is not None else False, float("-inf")), -1)
    return w @ v, w


def _masked_after_softmax(q, k, v, mask=None):  # zeroed after the softmax: rows no longer sum to 1
    w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1)
    w = w if mask is None else w * mask
    return w @ v, w


MISTAKES = [
    ("02", "single_branch_input", lambda a, r, keep: R.single_branch_input(a, r, keep)[:, ::-1]),  # ResNet first
    ("02", "single_branch_input", _mean_over_features),
    ("05", "dequantize", lambda q, lo=-2.0, hi=2.0: q * 4 / 255 - 2),  # uint8 wraps, no half-bin offset
    ("05", "dequantize", lambda q, lo=-2.0, hi=2.0: q.astype(np.float32) * (hi - lo) / 255 + lo),  # no offset
    ("05", "masked_softmax", _softmax_then_zero),
    ("05", "gap_by_hand", _mean_per_video_ap),
    ("06", "attention_weights", _no_mask),
    ("06", "select_beams", lambda total, length, width, lp=1.0: total.topk(width, dim=1).indices),  # raw log p
    ("06", "clipped_matches", _unclipped),
    ("07", "dot_product_attention", _unscaled),
    ("07", "dot_product_attention", _masked_after_softmax),
    ("07", "causal_mask", lambda t: torch.ones(t, t, dtype=torch.bool).triu()),  # the future instead of the past
]


@pytest.mark.parametrize(("nb", "name", "wrong"), MISTAKES)
def test_check_catches_the_classic_mistake_with_a_hint(nb, name, wrong, capsys):
    assert _status(nb, name, capsys, wrong=wrong) == "wrong +hint"


def test_07_head_ratio_solution_equals_labkit_and_the_stub_is_unsolved():
    cells = [c.source for c in nbformat.read(NB / FILES["07"], as_version=4).cells if c.cell_type == "code"]
    solution = next(s for s in cells if "def head_ratio(" in s)
    rows = [np.array([[[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]]),
            np.array([[[0.0, 0.0, 0.5, 0.5], [0.4, 0.4, 0.1, 0.1]]]), np.array([[[0.5, 0.5], [0.5, 0.5]]])]
    informative = [np.array([True, False, False, False]), np.array([False, False, True, True]), np.zeros(2, bool)]
    ns = {"np": np}
    exec(solution, ns)  # noqa: S102 - the notebook's own cell
    want = head_mass_ratios(rows, informative)
    assert all(ns["head_ratio"](rows, informative, 0, h) == pytest.approx(want[0, h]) for h in (0, 1))
    exec(strip_solutions(solution), ns)  # noqa: S102
    with pytest.raises(NotImplementedError):
        ns["head_ratio"](rows, informative, 0, 0)
