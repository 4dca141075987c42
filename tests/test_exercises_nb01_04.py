"""The exercises of notebooks 01 and 04: the written solutions pass, and the classic mistakes are caught."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import notebook_solutions

from labkit.caffe.layers import CaffeLRN, caffe_pool_out
from labkit.course.exercises import check_function
from labkit.course.student import BEGIN, student_notebook
from labkit.metrics.memorability import spearman
from labkit.models.ram import Retina, reinforce_term

NB = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name, regions", [("01_memnet_caffe_port.ipynb", 3), ("04_ram.ipynb", 3)])
def test_student_versions_strip_every_solution(name, regions):
    nb, n = student_notebook(NB / name)
    assert n == regions and BEGIN not in json.dumps(nb)


def test_notebook_01_solutions_pass_and_mistakes_are_caught(exercise_status):
    ns = notebook_solutions(NB / "01_memnet_caffe_port.ipynb")
    pool_cases = [(55, 3, 2, 0), (8, 3, 2, 0), (13, 3, 2, 0), (6, 3, 2, 1), (5, 2, 2, 1), (4, 3, 3, 1)]
    floor = lambda h, k, s, p=0: (h + 2 * p - k) // s + 1  # noqa: E731 - PyTorch's default
    no_clip = lambda h, k, s, p=0: -(-(h + 2 * p - k) // s) + 1  # noqa: E731 - ceil without the clipping rule
    for fn, want in [(ns["caffe_pool_output_size"], "passed"), (floor, "wrong"), (no_clip, "wrong")]:
        check_function("pool", fn, caffe_pool_out, pool_cases)
        assert exercise_status() == want

    x = torch.randn(2, 7, 3, 4, generator=torch.Generator().manual_seed(0))
    ref = lambda x, n, a, b, k: CaffeLRN(n, a, b, k, "ACROSS_CHANNELS")(x)  # noqa: E731
    alpha_not_divided = lambda x, n, a, b, k: torch.nn.LocalResponseNorm(n, a * n, b, k)(x)  # noqa: E731
    torch_lrn = lambda x, n, a, b, k: torch.nn.LocalResponseNorm(n, a, b, k)(x)  # noqa: E731 - also divides by n
    for fn, want in [(ns["lrn_across_channels"], "passed"), (torch_lrn, "passed"), (alpha_not_divided, "wrong")]:
        check_function("lrn", fn, ref, [(x, 5, 0.5, 0.75, 2.0)])
        assert exercise_status() == want

    def ordinal_ranks(p, t):  # ties broken by position instead of averaged
        return float(np.corrcoef(np.argsort(np.argsort(p)), np.argsort(np.argsort(t)))[0, 1])

    ties = (np.array([0.7, 0.5, 0.7, 0.9, 0.5]), np.array([0.6, 0.6, 0.8, 0.9, 0.1]))
    for fn, want in [(ns["spearman_rho"], "passed"), (ordinal_ranks, "wrong"), (lambda p, t: np.corrcoef(p, t)[0, 1], "wrong")]:
        check_function("rho", fn, spearman, [ties])
        assert exercise_status() == want


def test_notebook_04_solutions_pass_and_mistakes_are_caught(exercise_status):
    ns = notebook_solutions(NB / "04_ram.ipynb")
    locs = torch.tensor([[0.0, 0.0], [-1.0, -1.0], [1.0, 1.0], [0.3, -0.45], [-0.99, 0.999]])
    swapped = lambda loc, h, w: (0.5 * (loc.double() + 1) * torch.tensor([h, w])).long()  # noqa: E731 - x with the height
    rounded = lambda loc, h, w: (0.5 * (loc.double() + 1) * torch.tensor([w, h])).round().long()  # noqa: E731
    for fn, want in [(ns["location_to_pixel"], "passed"), (swapped, "wrong"), (rounded, "wrong")]:
        check_function("loc", fn, Retina(8, 1, 1).centres, [(locs, 28, 28), (locs, 20, 60)])
        assert exercise_status() == want

    img = torch.rand(20, 36, generator=torch.Generator().manual_seed(0))
    ref = lambda im, loc, s: Retina(s, 1, 1).patches(im[None, None], loc[None])[0][0, 0]  # noqa: E731

    def python_slicing(im, loc, s):  # negative starts wrap around / clip instead of zero padding
        c = ns["location_to_pixel"](loc[None], *im.shape)[0]
        p = im[max(int(c[1]) - s // 2, 0):, max(int(c[0]) - s // 2, 0):][:s, :s]
        return F.pad(p, (0, s - p.shape[1], 0, s - p.shape[0]))

    cases = [(img, torch.tensor([0.0, 0.0]), 8), (img, torch.tensor([-1.0, -0.9]), 12), (img, torch.tensor([0.9, 0.95]), 5)]
    for fn, want in [(ns["retina_patch"], "passed"), (python_slicing, "wrong")]:
        check_function("patch", fn, ref, cases)
        assert exercise_status() == want

    lp, base = -torch.rand(4, 5), torch.rand(4, 5)
    reward = torch.tensor([1.0, 0.0, 1.0, 0.0])[:, None].expand(4, 5)
    for fn, want in [(ns["reinforce_loss"], "passed"), (lambda a, r, b: (a * (r - b)).sum(1).mean(), "wrong"),
                     (lambda a, r, b: (-a * (r - b)).mean(), "wrong")]:
        check_function("reinforce", fn, reinforce_term, [(lp, reward, base)])
        assert exercise_status() == want
    # the written solution sends gradient into log_pi only, never into the baseline
    log_pi, b = lp.clone().requires_grad_(), base.clone().requires_grad_()
    g_pi, g_b = torch.autograd.grad(ns["reinforce_loss"](log_pi, reward, b), (log_pi, b), allow_unused=True)
    assert g_b is None and torch.allclose(g_pi, -(reward - base) / 4)
