"""`labkit sweep`: a grid of isolated runs → one table; failures recorded; finished runs skipped."""

import csv
import json
from pathlib import Path

import pytest

from labkit.course.params import ParameterError
from labkit.course.sweep import grid, run_name, sweep

NB = Path(__file__).parent / "fixtures" / "sweepable.ipynb"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_grid_is_typed_product_and_validated():
    assert grid(NB, [["x", "1", "2"], ["fail_on", "5"]]) == [{"x": 1, "fail_on": 5}, {"x": 2, "fail_on": 5}]
    with pytest.raises(ParameterError, match="expects int"):
        grid(NB, [["x", "1", "two"]])
    with pytest.raises(ParameterError, match="no parameter 'y'"):
        grid(NB, [["y", "1"]])
    assert run_name({"x": 1, "name": "a b"}) == "x=1__name=a_b"


def test_local_sweep_collects_table_keeps_failures_and_resumes(tmp_path):
    rows = sweep(NB, [["x", "1", "2", "3"], ["fail_on", "2"]], tmp_path, workers=2, progress=False)
    by_x = {r["x"]: r for r in rows}
    assert [by_x[x]["status"] for x in (1, 2, 3)] == ["ok", "failed", "ok"]
    assert "failing on purpose for x 2" in by_x[2]["error"]
    assert by_x[3]["score"] == 6 and by_x[3]["report.a.f1"] == pytest.approx(0.3)
    with open(tmp_path / "sweep.csv") as f:
        table = list(csv.DictReader(f))
    assert [t["status"] for t in table] == ["ok", "failed", "ok"] and table[2]["score"] == "6"
    assert "| run |" in (tmp_path / "sweep.md").read_text()
    assert (tmp_path / "sweep_predictions.png").stat().st_size > 1000
    for r in rows:
        assert (tmp_path / r["run"] / "sweepable.ipynb").exists()

    ok_status = tmp_path / "x=1__fail_on=2" / "status.json"
    before = ok_status.stat().st_mtime_ns
    rows2 = sweep(NB, [["x", "1", "2", "3"], ["fail_on", "2"]], tmp_path, workers=2, progress=False)
    assert ok_status.stat().st_mtime_ns == before, "a finished run was executed again"
    assert [r["status"] for r in rows2] == ["ok", "failed", "ok"]  # the failed one was retried


def test_sweep_on_a_dask_local_cluster(tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        rows = sweep(NB, [["x", "4", "5"]], tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert [r["score"] for r in rows] == [8, 10]
    assert json.loads((tmp_path / "x=5" / "metrics.json").read_text())["score"] == 10


def test_a_kernel_that_ran_a_sweep_still_shows_its_own_figures(tmp_path):
    """The sweep draws its figures without switching matplotlib's backend, so `plt.show()` still emits an image."""
    import nbformat
    from nbclient import NotebookClient

    from labkit.course.runner import current_env_kernel

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib\nbackend = matplotlib.get_backend()"),
        nbformat.v4.new_code_cell(
            "from pathlib import Path\nfrom labkit.course.sweep import sweep\n"
            f"rows = sweep(Path({str(NB)!r}), [['x', '1']], Path({str(tmp_path / 'sw')!r}), progress=False)\n"
            "assert all(r['status'] == 'ok' for r in rows), rows\n"
            "assert matplotlib.get_backend() == backend, matplotlib.get_backend()"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()"),
    ]
    with current_env_kernel() as kernel:
        NotebookClient(nb, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(ROOT)}}).execute()
    assert (tmp_path / "sw" / "sweep_predictions.png").stat().st_size > 1000
    assert any("image/png" in out.get("data", {}) for out in nb.cells[2].outputs), nb.cells[2].outputs
