"""Exercises: helpful checks, generated student notebooks that still run, solvable programmatically."""

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from helpers import run_labkit

from labkit.course.exercises import check_function, check_value
from labkit.course.student import STUB, StudentBuildError, strip_solutions, student_notebook

FIX = Path(__file__).parent / "fixtures" / "exercises.ipynb"


def _ref(x):
    return np.arange(3) * x


def test_check_reports_expected_got_and_hint(capsys):
    used = check_function("triple", lambda x: np.arange(3) * 2, _ref, cases=[(1,)], hint="multiply")
    out = capsys.readouterr().out
    assert used is _ref
    assert "expected array of shape (3,): [0 1 2], got array of shape (3,): [0 2 4]" in out and "Hint: multiply" in out


def test_a_function_returning_several_tensors_is_checked_part_by_part(capsys):
    import torch

    ref = lambda x: (x * 2, x.sum())  # noqa: E731  e.g. attention's (out, weights)
    x = torch.arange(3.0)
    assert check_function("pair", lambda x: (x * 2, x.sum()), ref, cases=[(x,)]) is not ref
    assert check_function("pair", lambda x: (x * 2, x.sum() + 1), ref, cases=[(x,)]) is ref  # second part wrong
    assert check_function("pair", lambda x: x * 2, ref, cases=[(x,)]) is ref  # a tensor where a pair is due
    out = capsys.readouterr().out
    assert out.count("✘") == 2 and "expected (array of shape (3,): [0. 2. 4.], tensor(3.))" in out


def test_unsolved_and_crashing_solutions_fall_back_to_reference(capsys):
    def unsolved(x):
        raise NotImplementedError

    assert check_function("a", unsolved, _ref, cases=[(1,)]) is _ref
    assert "not solved yet" in capsys.readouterr().out
    assert check_function("b", lambda x: 1 / 0, _ref, cases=[(1,)], hint="h") is _ref
    assert "raised ZeroDivisionError" in capsys.readouterr().out
    good = lambda x: np.arange(3) * x  # noqa: E731
    assert check_function("c", good, _ref, cases=[(1,), (2.0,)]) is good
    assert check_value("d", lambda: 0.30000001, 0.3) == pytest.approx(0.3)
    assert "passed" in capsys.readouterr().out
    assert check_value("e", lambda: [][1], 0.3, hint="index") == 0.3
    assert "raised IndexError" in capsys.readouterr().out


def test_strip_solutions_keeps_indentation_and_rejects_unbalanced_markers():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\ny = 1\n"
    assert strip_solutions(src) == f"def f(x):\n    # YOUR CODE HERE\n    {STUB}\n\ny = 1\n"
    with pytest.raises(StudentBuildError, match="1 '### BEGIN SOLUTION' but 0"):
        strip_solutions("### BEGIN SOLUTION\nx = 1\n")


def _run(path: Path, out: Path) -> dict:
    r = run_labkit("run", str(path), "--out", str(out), "--flat", "--quiet")
    assert r.returncode == 0, r.stderr
    return json.loads((out / "metrics.json").read_text())


def test_student_version_runs_to_the_end_and_a_solved_exercise_passes(tmp_path):
    nb, regions = student_notebook(FIX)
    assert regions == 3
    text = json.dumps(nb)
    assert "return 2 * x" not in text and "Multiply by two" not in text
    assert all(c.get("outputs") == [] for c in nb.cells if c.cell_type == "code")
    path = tmp_path / "student.ipynb"
    nbformat.write(nb, path)
    assert _run(path, tmp_path / "run1") == {"exercise/double": "unsolved", "exercise/total": "unsolved"}

    # a learner solves exercise 1 (and only that one)
    nb.cells[2].source = nb.cells[2].source.replace(f"# YOUR CODE HERE\n    {STUB}", "return x + x")
    nbformat.write(nb, path)
    assert _run(path, tmp_path / "run2") == {"exercise/double": "passed", "exercise/total": "unsolved"}


def test_solution_notebook_passes_every_check(tmp_path):
    assert _run(FIX, tmp_path) == {"exercise/double": "passed", "exercise/total": "passed"}
