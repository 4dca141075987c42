"""The exercises of notebooks 01, 03 and 04: their own exercise and check cells, read from the notebooks' jupytext
text sources (so the cases cannot drift), pass the committed solutions, report the student stub as unsolved, and
catch each exercise's classic mistake.

No notebook runs: a check cell is executed after the notebook's parameters cell, its import statements (whatever
the cells import, so a check may name any labkit reference the notebook imports) and the exercise cell.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache

import jupytext
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import ROOT

from labkit.course.student import BEGIN, strip_solutions, student_notebook
from labkit.models.ram import Retina

NB = ROOT / "notebooks"
SOURCES = {"01": "01_memnet_caffe_port", "03": "03_amnet", "04": "04_ram"}
# what a check cell names that neither an import nor a parameter gives (04's retina is made in a cell that also draws)
SETUP = {"04": "retina = Retina(patch_size, scales, 2)"}


@cache
def _code_cells(nb: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(source, tags) of every code cell of the notebook's text source."""
    cells = jupytext.read(NB / f"{SOURCES[nb]}.py").cells
    return tuple((c.source, tuple(c.metadata.get("tags", ()))) for c in cells if c.cell_type == "code")


@cache
def _preamble(nb: str) -> str:
    """The parameters cell, every import statement of the notebook, and ``SETUP``: what the cells below rely on."""
    params = next(src for src, tags in _code_cells(nb) if "parameters" in tags)
    imports = [ast.get_source_segment(src, node) for src, _ in _code_cells(nb)
               for node in ast.parse(src).body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join([params, *imports, SETUP.get(nb, "")])


def _exercise(nb: str, fn: str) -> str:
    return next(src for src, _ in _code_cells(nb) if f"def {fn}(" in src and BEGIN in src)


def _check(nb: str, name: str) -> str:
    return next(src for src, _ in _code_cells(nb) if src.startswith("# NBVAL_CHECK_OUTPUT")
                and re.search(rf'check_(?:function|value)\(\s*"{name}"', src))


# (notebook, check name, the exercise function it checks, exercises whose cells run first because it calls them)
EXERCISES = [
    ("01", "caffe_pool_output_size", "caffe_pool_output_size", ()),
    ("01", "lrn_across_channels", "lrn_across_channels", ()),
    ("01", "spearman_rho", "spearman_rho", ()),
    ("03", "attention_step", "attention_step", ()),
    ("03", "attention_penalty", "attention_penalty", ()),
    ("03", "roc_auc", "roc_auc", ()),
    ("04", "location_to_pixel", "location_to_pixel", ()),
    ("04", "retina_patch", "retina_patch", ("location_to_pixel",)),
    ("04", "reinforce_loss", "reinforce_loss", ()),
    ("04", "reinforce_gradients", "reinforce_loss", ()),  # a second check of the same function: its gradient
]
EXERCISE = {name: (nb, fn, before) for nb, name, fn, before in EXERCISES}


def _status(name: str, capsys, wrong=None, student: bool = False) -> str:
    """What the notebook's check of ``name`` prints: passed | wrong | unsolved, plus " +hint" if it gives one."""
    nb, fn, before = EXERCISE[name]
    ns: dict = {}
    exec(_preamble(nb), ns)  # noqa: S102 - the notebook's own parameters and imports
    for dep in before:
        exec(_exercise(nb, dep), ns)  # noqa: S102
        exec(_check(nb, dep), ns)  # noqa: S102
    solution = _exercise(nb, fn)
    exec(strip_solutions(solution) if student else solution, ns)  # noqa: S102 - the notebook's own cell
    if wrong is not None:
        ns[fn] = wrong
    capsys.readouterr()
    for check in dict.fromkeys([_check(nb, fn), _check(nb, name)]):  # the function's own check runs first
        exec(check, ns)  # noqa: S102
    line = next(li for li in capsys.readouterr().out.splitlines() if f"exercise {name!r}" in li)
    return {"✔": "passed", "✘": "wrong", "…": "unsolved"}[line.strip()[0]] + (" +hint" if "Hint:" in line else "")


@pytest.mark.parametrize("name", [e[1] for e in EXERCISES])
def test_solution_passes_and_student_stub_is_unsolved(name, capsys):
    assert _status(name, capsys) == "passed"
    assert _status(name, capsys, student=True) == "unsolved"


@pytest.mark.parametrize("nb", sorted(SOURCES))
def test_student_version_strips_every_solution(nb):
    notebook, regions = student_notebook(NB / f"{SOURCES[nb]}.ipynb")
    cells = json.loads((NB / f"{SOURCES[nb]}.ipynb").read_text())["cells"]
    assert regions == sum("".join(c["source"]).count(BEGIN) for c in cells) >= 3  # every region counted, and stripped
    assert BEGIN not in json.dumps(notebook)


def _ordinal_ranks(p, t):  # ranks right, but tied values get different ranks (by position) instead of their average
    return float(np.corrcoef(np.argsort(np.argsort(p)), np.argsort(np.argsort(t)))[0, 1])


def _python_slicing(image, loc, size):  # negative starts clip (or wrap) instead of zero padding
    col, row = Retina(1, 1, 1).centres(loc[None], *image.shape)[0].tolist()
    patch = image[max(row - size // 2, 0):, max(col - size // 2, 0):][:size, :size]
    return F.pad(patch, (0, size - patch.shape[1], 0, size - patch.shape[0]))


MISTAKES = [
    ("caffe_pool_output_size", lambda h, k, s, pad=0: (h + 2 * pad - k) // s + 1),  # PyTorch's default floor
    ("caffe_pool_output_size", lambda h, k, s, pad=0: -(-(h + 2 * pad - k) // s) + 1),  # ceil without the clip
    ("lrn_across_channels", lambda x, n, a, b, k: torch.nn.LocalResponseNorm(n, a * n, b, k)(x)),  # α not divided by n
    ("spearman_rho", _ordinal_ranks),
    ("spearman_rho", lambda p, t: float(np.corrcoef(p, t)[0, 1])),  # Pearson on the values, not the ranks
    ("attention_step", lambda e, h, W, b, w: torch.softmax(torch.relu(e + (h @ W.T + b)[..., None]), -1) @ w),  # over D
    ("attention_step", lambda e, h, W, b, w: torch.softmax(torch.relu(e + (h @ W.T)[..., None]) @ w, -1)),  # no bias
    ("attention_step", lambda e, h, W, b, w: torch.softmax(torch.tanh(e + (h @ W.T + b)[..., None]) @ w, -1)),  # tanh
    ("attention_penalty", lambda a, t: ((t - a) ** 2).sum() / a.shape[0]),  # square, then sum over the steps
    ("attention_penalty", lambda a, t: ((t - a).sum(1) ** 2).mean()),  # mean over everything, not / B
    ("roc_auc", lambda y, s: float((s[y == 1][:, None] > s[y == 0][None]).mean())),  # ties count 0, not ½
    ("roc_auc", lambda y, s: float(((s >= 0.5) == y).mean())),  # accuracy at 0.5
    ("location_to_pixel", lambda loc, h, w: (0.5 * (loc.double() + 1) * torch.tensor([h, w])).long()),  # x with height
    ("location_to_pixel", lambda loc, h, w: (0.5 * (loc.double() + 1) * torch.tensor([w, h])).round().long()),  # rounded
    ("retina_patch", _python_slicing),
    ("reinforce_loss", lambda a, r, b: (a * (r - b)).sum(1).mean()),  # wrong sign
    ("reinforce_loss", lambda a, r, b: (-a * (r - b)).mean()),  # mean over the glimpses where the sum belongs
    ("reinforce_gradients", lambda a, r, b: (-a * (r - b)).sum(1).mean()),  # right value, advantage not detached
]


@pytest.mark.parametrize(("name", "wrong"), MISTAKES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MISTAKES)])
def test_check_catches_the_classic_mistake_with_a_hint(name, wrong, capsys):
    assert _status(name, capsys, wrong=wrong) == "wrong +hint"


def test_torch_local_response_norm_passes_because_it_also_divides_alpha_by_n(capsys):
    """The LRN exercise is about Caffe's α/n convention, which PyTorch's module shares; a learner who uses it is right."""
    torch_lrn = lambda x, n, a, b, k: torch.nn.LocalResponseNorm(n, a, b, k)(x)  # noqa: E731
    assert _status("lrn_across_channels", capsys, wrong=torch_lrn) == "passed"
