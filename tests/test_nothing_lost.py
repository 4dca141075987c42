"""Nothing is ever lost: every command that writes, misused as a careless user would, either refuses in one line
(exit 2) or does the right thing — and every file that existed before is byte-identical afterwards.

Table-driven, like ``test_bad_input_cli.py``: each case builds its situation in a private copy of the course
(``LABKIT_NOTEBOOKS`` points at it), runs ``labkit`` in-process, and the test hashes every file under ``tmp_path``
before and after. No case starts a kernel: each must be refused before any notebook runs. The cases that need a
kernel (an interrupted run, a data error inside a notebook, stale sweep runs) follow the table.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT, labkit_argv, labkit_env, run_labkit

from labkit.course import cli
from labkit.course.pairing import FINGERPRINT, cell_inputs, fingerprint, sync
from labkit.course.runner import STATUS, run_lock
from labkit.course.sweep import run_names, sweep

FIXTURES = Path(__file__).parent / "fixtures"


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def _course(tmp: Path, *stems: str) -> Path:
    """A copy of the named course notebooks (both sides of each pair) and jupytext.toml, as in a fresh clone."""
    course = tmp / "course"
    course.mkdir(exist_ok=True)
    shutil.copy(ROOT / "notebooks" / "jupytext.toml", course)
    for stem in stems:
        for suffix in (".ipynb", ".py"):
            shutil.copy(ROOT / "notebooks" / f"{stem}{suffix}", course)
    return course


def _edit_text(course: Path, stem: str, old: str, new: str) -> None:
    text = course / f"{stem}.py"
    source = text.read_text()
    assert old in source, old
    text.write_text(source.replace(old, new, 1))


def _edit_notebook(course: Path, stem: str, line: str) -> None:
    """An edit made in JupyterLab: a sentence appended to the first markdown cell of the .ipynb."""
    path = course / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.cell_type == "markdown").source += "\n" + line
    nbformat.write(nb, path)


def _both_sides_edited(t: Path) -> list[str]:
    course = _course(t, "00_start_here")
    _edit_notebook(course, "00_start_here", "An edit made in the notebook.")
    _edit_text(course, "00_start_here", "seed: int = 0", "seed: int = 1")
    return ["sync", "00"]


def _emptied(t: Path) -> list[str]:
    course = _course(t, "06_sa_lstm_captioning")
    (course / "06_sa_lstm_captioning.py").write_text("")
    return ["sync", "06"]


def _bad_tags(t: Path) -> list[str]:
    course = _course(t, "00_start_here")
    _edit_text(course, "00_start_here", '# %% tags=["parameters"]', '# %% tags=["parameters"')
    return ["sync", "00"]


def _injected(t: Path) -> list[str]:
    course = _course(t, "00_start_here")
    path = course / "00_start_here.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("seed = 3", metadata={"tags": ["injected-parameters"]}))
    nbformat.write(nb, path)
    return ["sync", "00"]


def _misspelt_marker(marker: str) -> Callable[[Path], list[str]]:
    def make(t: Path) -> list[str]:
        course = _course(t, "00_start_here")
        path = course / "00_start_here.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(f"def f():\n    {marker}\n    return 42\n    ### END SOLUTION"))
        nbformat.write(nb, path)
        return ["student", str(path), "--out", str(t / "student")]
    return make


def _student_twice(t: Path) -> list[str]:
    _course(t, "04_ram")
    assert cli.main(["student", "04", "--out", str(t / "stu")]) == 0
    path = t / "stu" / "04_ram.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\n# my own answer"
    nbformat.write(nb, path)
    return ["student", "04", "--out", str(t / "stu")]


def _foreign_sweep(t: Path) -> list[str]:
    """A sweep folder whose finished run another notebook produced (00's sweep given as --out of 04's)."""
    _course(t, "00_start_here", "04_ram")
    run = t / "sweep" / "seed=0"
    run.mkdir(parents=True)
    (run / STATUS).write_text(json.dumps({"status": "ok", "notebook": "00_start_here.ipynb", "notebook_sha256": "0" * 64,
                                          "parameters": {"seed": 0}, "labkit_version": "0.1.0", "params": {"seed": 0}}))
    (run / "metrics.json").write_text('{"score": 1}')
    return ["sweep", "04", "-p", "seed", "0", "--out", str(t / "sweep")]


def _locked(t: Path) -> list[str]:
    _course(t, "00_start_here")
    return ["run", "00", "--out", str(t / "runs")]


LONG = "x" * 300

# (id, situation → argv, what the one-line error must say)
CASES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    # course notebooks and solutions
    ("student-into-the-solutions", lambda t: ["student", "--out", str(_course(t, "00_start_here"))],
     "is the folder of the solution notebooks"),
    ("student-over-a-learners-work", _student_twice, "differ from a fresh student version"),
    ("student-marker-no-space", _misspelt_marker("###BEGIN SOLUTION"), "looks like a solution marker"),
    ("student-marker-title-case", _misspelt_marker("### Begin Solution"), "looks like a solution marker"),
    ("student-no-notebooks-folder", lambda t: ["student", "--out", str(t / "s")], "is not a folder"),
    ("sync-both-sides-edited", _both_sides_edited, "both changed since the last sync (cells"),
    ("sync-emptied-text-source", _emptied, "is empty; syncing it would empty"),
    ("sync-malformed-tags", _bad_tags, "malformed cell tags"),
    ("sync-injected-parameters", _injected, "injected parameters"),
    ("run-flat-into-notebooks", lambda t: ["run", "00", "-p", "seed", "3", "--flat", "--out", str(_course(t, "00_start_here"))],
     "would write into"),
    ("run-out-notebooks", lambda t: ["run", "00", "--out", str(_course(t, "00_start_here"))], "would write into"),
    ("run-all-no-notebooks-folder", lambda t: ["run", "--all"], "is not a folder"),
    ("run-locked-folder", _locked, "another labkit run is writing into"),
    # values refused before work starts
    ("run-param-twice", lambda t: ["run", _course(t, "00_start_here") and "00", "-p", "seed", "1", "-p", "seed", "2"],
     "-p seed is given twice"),
    ("run-profile-disagrees", lambda t: ["run", _course(t, "00_start_here") and "00", "-p", "profile", "full",
                                         "--profile", "quick"], "disagree"),
    ("run-seed-beyond-64-bits", lambda t: ["run", _course(t, "00_start_here") and "00", "-p", "seed",
                                           "18446744073709551616"], "'seed' must fit in 64 bits"),
    ("run-empty-data-root", lambda t: ["run", _course(t, "00_start_here") and "00", "-p", "data_root", ""],
     "'data_root' is an empty path"),
    ("run-long-data-root", lambda t: ["run", _course(t, "00_start_here") and "00", "-p", "data_root", LONG],
     "longer than the file system allows"),
    ("run-output-dir-is-a-file", lambda t: ["run", _course(t, "03_amnet") and "03", "-p", "output_dir",
                                            str(_write(t / "f.txt"))], "'output_dir'"),
    ("run-prototxt-missing", lambda t: ["run", _course(t, "01_memnet_caffe_port") and "01", "-p", "prototxt",
                                        "no.prototxt"], "'prototxt': 'no.prototxt' is not a file"),
    ("run-max-len-too-short", lambda t: ["run", _course(t, "06_sa_lstm_captioning") and "06", "-p", "max_len", "2"],
     "'max_len' must be >= 9"),
    ("sweep-workers-zero", lambda t: ["sweep", _course(t, "00_start_here") and "00", "-p", "seed", "1",
                                      "--workers", "0", "--out", str(t / "s")], "--workers must be a whole number >= 1"),
    ("sweep-workers-negative", lambda t: ["sweep", _course(t, "00_start_here") and "00", "-p", "seed", "1",
                                          "--workers", "-1", "--out", str(t / "s")], "--workers must be"),
    ("sweep-value-twice", lambda t: ["sweep", _course(t, "00_start_here") and "00", "-p", "seed", "0", "0",
                                     "--out", str(t / "s")], "appear twice"),
    ("sweep-long-data-root", lambda t: ["sweep", _course(t, "00_start_here") and "00", "-p", "data_root", LONG,
                                        "--out", str(t / "s")], "longer than the file system allows"),
    ("sweep-another-notebooks-runs", _foreign_sweep, "produced by something else"),
    ("sweep-into-notebooks", lambda t: ["sweep", _course(t, "00_start_here") and "00", "-p", "seed", "1",
                                        "--out", str(t / "course")], "would write into"),
]


def _write(path: Path, text: str = "a file") -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(("make", "says"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_a_misused_command_refuses_and_changes_nothing(make, says, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LABKIT_NOTEBOOKS", str(tmp_path / "course"))
    argv = make(tmp_path)
    before = _hashes(tmp_path)
    capsys.readouterr()
    lock = None
    if argv[:2] == ["run", "00"] and "--out" in argv and argv[-1].endswith("runs"):
        lock = run_lock(Path(argv[-1]) / "00_start_here")  # another run holds the folder
        lock.__enter__()
    try:
        code = cli.main(argv)
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("labkit: error") and says in err, err
    after = _hashes(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before, "a pre-existing file changed"


def test_the_table_covers_every_kind_of_misuse():
    assert len(CASES) >= 27


# --------------------------------------------------------------------------- sync: what it must still do
def test_sync_takes_the_side_that_changed_and_records_the_agreement(tmp_path):
    course = _course(tmp_path, "00_start_here")
    nb = course / "00_start_here.ipynb"
    _edit_notebook(course, "00_start_here", "An edit made in the notebook.")
    assert sync([nb]) == ["00_start_here: 00_start_here.ipynb → 00_start_here.py"]
    assert "# An edit made in the notebook." in (course / "00_start_here.py").read_text()
    _edit_text(course, "00_start_here", "seed: int = 0", "seed: int = 1")  # then, seconds later, the text source
    assert sync([nb]) == ["00_start_here: 00_start_here.py → 00_start_here.ipynb"]
    after = nbformat.read(nb, as_version=4)
    assert "seed: int = 1" in after.cells[1].source and "An edit made in the notebook." in after.cells[0].source
    assert after.metadata["labkit"][FINGERPRINT] == fingerprint(cell_inputs(after))


def test_keep_settles_a_conflict_by_choice(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LABKIT_NOTEBOOKS", str(tmp_path / "course"))
    _both_sides_edited(tmp_path)
    assert cli.main(["sync", "00", "--keep", "ipynb"]) == 0
    text = (tmp_path / "course" / "00_start_here.py").read_text()
    assert "An edit made in the notebook." in text and "seed: int = 0" in text


def test_the_committed_pairs_carry_their_sync_record():
    """Without it a fresh clone could not tell which side of a pair a learner edited."""
    for nb_path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        assert nb.metadata.get("labkit", {}).get(FINGERPRINT) == fingerprint(cell_inputs(nb)), nb_path.name


# --------------------------------------------------------------------------- sweeps: unique folders, provenance
def test_values_that_read_alike_get_their_own_folders():
    names = run_names([{"name": "a b"}, {"name": "a_b"}, {"name": "a:b"}, {"name": "c"}])
    assert len(set(names)) == 4 and names[3] == "name=c"
    long = run_names([{"data_root": "/" + "d" * 400}])[0]
    assert len(long.encode()) <= 120


def test_a_sweep_reuses_only_runs_its_own_notebook_produced(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = tmp_path / "sweepable.ipynb"
    shutil.copy(FIXTURES / "sweepable.ipynb", nb)
    out = tmp_path / "sweep"
    rows = sweep(nb, [["x", "1"]], out, progress=False)
    assert [r["status"] for r in rows] == ["ok"]
    status = json.loads((out / "x=1" / STATUS).read_text())
    assert status["parameters"] == {"x": 1, "fail_on": -1} and len(status["notebook_sha256"]) == 64
    edited = nbformat.read(nb, as_version=4)
    edited.cells[-1].source += "\n# a newer version of the notebook"
    nbformat.write(edited, nb)
    before = _hashes(out)
    with pytest.raises(ValueError, match="1 finished run.* produced by something else.*notebook_sha256"):
        sweep(nb, [["x", "1"]], out, progress=False)
    assert _hashes(out) == before
    rows = sweep(nb, [["x", "1"]], out, progress=False, force=True)
    assert [r["status"] for r in rows] == ["ok"]
    replaced = list((out / ".replaced").glob("*/x=1/metrics.json"))  # the earlier result, moved aside, not lost
    assert len(replaced) == 1
    assert hashlib.sha256(replaced[0].read_bytes()).hexdigest() == before[str(Path("x=1") / "metrics.json")]


# --------------------------------------------------------------------------- runs that fail or are interrupted
def _tiny_notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x: int = 1  # 0..: x", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_data_error_inside_a_notebook_exits_2_with_labkits_message_first(tmp_path):
    nb = _tiny_notebook(tmp_path / "bad.ipynb", "import labkit\nraise labkit.DataError('no such split', path='x.txt')")
    proc = run_labkit("run", str(nb), "--out", str(tmp_path / "o"), "--quiet", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[0] == "labkit: error (data): x.txt: no such split", proc.stderr
    assert json.loads((tmp_path / "o" / "bad" / STATUS).read_text())["status"] == "failed"


def test_ctrl_c_prints_one_line_exits_130_and_marks_the_run_interrupted(tmp_path):
    nb = _tiny_notebook(tmp_path / "slow.ipynb", "import time\nprint('started', flush=True)\ntime.sleep(120)")
    proc = subprocess.Popen(labkit_argv("run", str(nb), "--out", str(tmp_path / "o"), "--quiet"), env=labkit_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    partial = tmp_path / "o" / "slow" / "run.log"  # papermill logs each cell's output there as it comes
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "started" not in (partial.read_text() if partial.exists() else ""):
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip() == "labkit: interrupted", err
    assert json.loads((tmp_path / "o" / "slow" / STATUS).read_text())["status"] == "interrupted"
