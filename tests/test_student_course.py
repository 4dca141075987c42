"""The student versions of the course notebooks run headless to the end, every exercise unsolved.

(The solution versions are checked by nbval in `make test`: each self-check cell's committed
`passed` line is compared with a fresh run.)
"""

import json

import nbformat
import pytest
from helpers import run_labkit

from labkit.course.notebooks import course_notebooks
from labkit.course.student import BEGIN, build_student

# Parts with no exercise in them that the solution run already covers (03's in-notebook sweep: 2 child runs in the quick
# profile; 04's 60-epoch run from scratch, which the student run only needs to see start and finish: 10 epochs).
SKIP_IN_STUDENT_RUN = {"03_amnet": ["-p", "run_sweep", "False"], "04_ram": ["-p", "epochs", "10"]}
WITH_EXERCISES = [nb for nb in course_notebooks() if BEGIN in nb.read_text()]


# 02 had a Spearman exercise too; it repeated 01's (the same maths in two solution regions), so it went.
FEWER = {"02_resmem": 2}


def test_every_teaching_notebook_has_at_least_three_exercises():
    """00 is the course's front page; every notebook after it teaches a model and carries exercises."""
    for nb in course_notebooks()[1:]:
        regions = nb.read_text().count(BEGIN)
        want = FEWER.get(nb.stem, 3)
        assert regions >= want, f"{nb.name} has {regions} exercise solution regions (want ≥ {want})"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", WITH_EXERCISES, ids=[nb.stem for nb in WITH_EXERCISES])
def test_student_notebook_runs_to_the_end_with_exercises_unsolved(notebook, tmp_path):
    build_student([notebook], tmp_path / "student")
    student = tmp_path / "student" / notebook.name
    assert BEGIN not in student.read_text()
    assert all(not c.get("outputs") for c in nbformat.read(student, 4).cells if c.cell_type == "code")
    extra = SKIP_IN_STUDENT_RUN.get(notebook.stem, [])
    r = run_labkit("run", str(student), "--out", str(tmp_path / "run"), "--flat", "--quiet", *extra, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    statuses = {k: v for k, v in metrics.items() if k.startswith("exercise/")}
    assert len(statuses) >= FEWER.get(notebook.stem, 3), f"only {len(statuses)} exercise checks ran"
    assert set(statuses.values()) == {"unsolved"}, statuses
