"""`labkit run` through papermill: metrics.json, refusal before execution, failures that say where."""

import json
import subprocess
from pathlib import Path

import pytest
from helpers import run_labkit

FIX = Path(__file__).parent / "fixtures"


def labkit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_labkit(*args, cwd=cwd, env={"MPLBACKEND": "Agg"})


def test_run_with_overridden_parameters_writes_executed_notebook_and_metrics(tmp_path):
    r = labkit("run", str(FIX / "params_ok.ipynb"), "-p", "steps", "7", "-p", "rate", "2", "--profile", "full",
               "--out", str(tmp_path), "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "params_ok"
    assert json.loads((out / "metrics.json").read_text()) == {"steps_seen": 7, "rate_seen": 2.0,
                                                              "profile_seen": "full"}
    assert json.loads((out / "params.json").read_text())["steps"] == 7
    assert (out / "params_ok.ipynb").exists() and (out / "run.log").exists()


def test_unknown_parameter_fails_before_anything_runs(tmp_path):
    r = labkit("run", str(FIX / "params_ok.ipynb"), "-p", "no_such_param", "1", "--out", str(tmp_path),
               cwd=tmp_path)
    assert r.returncode == 2
    assert "has no parameter 'no_such_param'" in r.stderr
    assert not any(tmp_path.iterdir()), "something was executed or written"


def test_wrong_type_fails_before_anything_runs(tmp_path):
    r = labkit("run", str(FIX / "params_ok.ipynb"), "-p", "steps", "many", "--out", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "'steps' expects int, got 'many'" in r.stderr
    assert not any(tmp_path.iterdir())


def test_failing_cell_names_notebook_cell_exception_and_partial_output(tmp_path):
    r = labkit("run", str(FIX / "fails.ipynb"), "-p", "crash", "True", "--out", str(tmp_path), "--quiet",
               cwd=tmp_path)
    assert r.returncode == 1
    assert "fails.ipynb failed in cell" in r.stderr
    assert "ZeroDivisionError: deliberate failure" in r.stderr
    partial = tmp_path / "fails" / "fails.ipynb"
    assert str(partial) in r.stderr and partial.exists()


def test_params_and_list_commands(tmp_path):
    r = labkit("params", str(FIX / "params_ok.ipynb"), cwd=tmp_path)
    assert r.returncode == 0
    assert "steps: int = 2  how many steps" in r.stdout
    r = labkit("list", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.splitlines()[0].startswith("00_start_here")
    r = labkit("run", "99_nothing", cwd=tmp_path)
    assert r.returncode == 2 and "no notebook '99_nothing'" in r.stderr


def test_headless_flag_and_cell_timeout_setting(monkeypatch):
    """Headless runs leave out live widgets (they can stall nbclient); a bad cell-timeout setting is named."""
    from labkit.core.env import headless
    from labkit.course.runner import _cell_timeout

    monkeypatch.setenv("LABKIT_HEADLESS", "1")
    assert headless()
    monkeypatch.setenv("LABKIT_HEADLESS", "0")
    assert not headless()
    monkeypatch.delenv("LABKIT_CELL_TIMEOUT", raising=False)
    assert _cell_timeout() is None
    monkeypatch.setenv("LABKIT_CELL_TIMEOUT", "900")
    assert _cell_timeout() == 900
    monkeypatch.setenv("LABKIT_CELL_TIMEOUT", "ten")
    with pytest.raises(ValueError, match="LABKIT_CELL_TIMEOUT must be a whole number of seconds"):
        _cell_timeout()
