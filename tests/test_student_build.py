"""Commands that write never lose work: `labkit student` and `labkit run` keep solutions, notebooks, data and a learner's edits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers import ROOT

from labkit.course.cli import main
from labkit.course.student import StudentBuildError, build_student

NB = ROOT / "notebooks" / "00_start_here.ipynb"


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_student_refuses_the_solutions_folder_and_leaves_it_untouched(capsys):
    before = _digest(NB.parent)
    assert main(["student", "00", "--out", str(NB.parent)]) == 2
    assert "folder of the solution notebooks" in capsys.readouterr().err
    assert _digest(NB.parent) == before


def test_student_keeps_a_learners_edits_unless_forced(tmp_path, capsys):
    build_student([NB], tmp_path)
    build_student([NB], tmp_path)  # unchanged: a rerun is harmless
    mine = tmp_path / NB.name
    mine.write_text(mine.read_text().replace('"source": [', '"source": ["my notes ", ', 1))
    edited = mine.read_bytes()
    assert main(["student", "00", "--out", str(tmp_path)]) == 2
    assert "pass --force" in capsys.readouterr().err and mine.read_bytes() == edited
    with pytest.raises(StudentBuildError, match="differ from a fresh student version"):
        build_student([NB], tmp_path)
    assert main(["student", "00", "--out", str(tmp_path), "--force"]) == 0
    assert mine.read_bytes() != edited and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("extra", [["-p", "seed", "3", "--flat", "--out", "NOTEBOOKS"], ["--out", "NOTEBOOKS"],
                                   ["--out", "DATA"], ["--flat", "--out", "DATA/ram"]])
def test_run_never_writes_into_the_committed_notebooks_or_data(extra, capsys):
    from labkit.core.assets import data_dir

    folders = {"NOTEBOOKS": str(NB.parent), "DATA": str(data_dir())}
    extra = [next((v + rest for k, v in folders.items() if a.startswith(k) for rest in [a[len(k):]]), a) for a in extra]
    before = _digest(NB.parent)
    assert main(["run", "00", *extra]) == 2
    assert "choose another --out" in capsys.readouterr().err
    assert _digest(NB.parent) == before


def test_a_flat_run_never_writes_over_the_notebook_it_runs(tmp_path, capsys):
    mine = tmp_path / "mine.ipynb"
    mine.write_bytes(NB.read_bytes())
    assert main(["run", str(mine), "--flat", "--out", str(tmp_path)]) == 2
    assert "the folder of mine.ipynb" in capsys.readouterr().err and mine.read_bytes() == NB.read_bytes()
