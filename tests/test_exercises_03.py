"""The exercises of notebook 03 (AMNet): the written solutions pass, and the classic mistakes are caught."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import notebook_solutions
from sklearn.metrics import roc_auc_score

from labkit.course.exercises import check_function
from labkit.course.student import BEGIN, student_notebook
from labkit.models.amnet import AMNet, AMNetConfig, attention_regulariser, original_attention_step

NB = Path(__file__).resolve().parents[1] / "notebooks" / "03_amnet.ipynb"


@pytest.fixture(scope="module")
def ns() -> dict:
    """The notebook's exercise functions, from the cells that hold a solution region."""
    return notebook_solutions(NB)


def test_student_version_strips_three_solutions():
    nb, n = student_notebook(NB)
    assert n == 3 and BEGIN not in json.dumps(nb)


def test_reference_attention_step_equals_the_module_in_eval_mode():
    cfg = AMNetConfig(in_channels=8, locations=6, d=5, hidden=7)
    torch.manual_seed(0)
    att = AMNet(cfg).eval().attend
    e, h = torch.randn(3, 6, 5), torch.randn(3, 7)
    want = att(e, h)
    got = original_attention_step(e, h, att.W_h.weight, att.W_h.bias, att.w.weight[0])
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got.sum(-1), torch.ones(3))


def test_attention_step_solution_passes_and_mistakes_are_caught(ns, exercise_status):
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    cases = [(r(2, 5, 4), r(2, 3), r(5, 3), r(5), r(4))]
    over_features = lambda e, h, W, b, w: torch.softmax(torch.relu(e + (h @ W.T + b)[..., None]), -1) @ w  # noqa: E731
    no_bias = lambda e, h, W, b, w: torch.softmax(torch.relu(e + (h @ W.T)[..., None]) @ w, -1)  # noqa: E731
    tanh = lambda e, h, W, b, w: torch.softmax(torch.tanh(e + (h @ W.T + b)[..., None]) @ w, -1)  # noqa: E731
    for fn, want in [(ns["attention_step"], "passed"), (over_features, "wrong"), (no_bias, "wrong"), (tanh, "wrong")]:
        check_function("att", fn, original_attention_step, cases)
        assert exercise_status() == want


def test_attention_penalty_solution_passes_and_mistakes_are_caught(ns, exercise_status):
    alpha = torch.softmax(torch.randn(3, 4, 6, generator=torch.Generator().manual_seed(1)), -1)
    square_then_sum = lambda a, t: ((t - a) ** 2).sum() / a.shape[0]  # noqa: E731
    mean_over_all = lambda a, t: ((t - a).sum(1) ** 2).mean()  # noqa: E731
    for fn, want in [(ns["attention_penalty"], "passed"), (square_then_sum, "wrong"), (mean_over_all, "wrong")]:
        check_function("pen", fn, attention_regulariser, [(alpha, 0.2), (alpha[:1], 0.5)])
        assert exercise_status() == want
    # hand-computed: T=2 steps, L=2 locations, one image: Σ_t (0.2 − α) = (0.4 − 1, 0.4 − 1) → 2 · 0.36
    torch.testing.assert_close(ns["attention_penalty"](torch.full((1, 2, 2), 0.5), 0.2), torch.tensor(0.72))


def test_roc_auc_solution_passes_and_mistakes_are_caught(ns, exercise_status):
    y, s = np.array([1, 0, 1, 0, 1, 0]), np.array([0.5, 0.5, 0.9, 0.2, 0.4, 0.6])
    ties_lose = lambda y, s: float((s[y == 1][:, None] > s[y == 0][None]).mean())  # noqa: E731
    accuracy = lambda y, s: float(((s >= 0.5) == y).mean())  # noqa: E731
    for fn, want in [(ns["roc_auc"], "passed"), (ties_lose, "wrong"), (accuracy, "wrong")]:
        check_function("auc", fn, lambda y, s: float(roc_auc_score(y, s)), [(y, s)])
        assert exercise_status() == want
    # hand-computed: 9 pairs, positives beat negatives in 0.5/0.5 (tie ½), 0.9 (3), 0.5>0.2, 0.4>0.2 → 5.5 / 9
    assert ns["roc_auc"](y, s) == pytest.approx(5.5 / 9)
