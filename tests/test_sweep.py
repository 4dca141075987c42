"""`labkit sweep`: a grid of isolated runs → one table; failures recorded; finished runs skipped."""

import csv
import json
from pathlib import Path

import pytest
from helpers import ROOT

from labkit.course.params import ParameterError
from labkit.course.sweep import grid, run_name, sweep

NB = Path(__file__).parent / "fixtures" / "sweepable.ipynb"


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


def test_run_and_sweep_read_a_value_the_same_way():
    """``labkit run -p`` and ``labkit sweep -p`` share one parser (labkit.course.params.parse_cli_params)."""
    from labkit.course.cli import _parse_pairs

    for raw in ("3", " 3", "None"):
        try:
            ran = {"x": _parse_pairs(NB, [["x", raw]])["x"]}
        except ParameterError as e:
            ran = str(e)
        try:
            swept = grid(NB, [["x", raw]])[0]
        except ParameterError as e:
            swept = str(e)
        assert ran == swept, raw


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


def test_collect_draws_a_panel_per_run_for_a_recorded_dict_of_lists(tmp_path):
    """A run that records ``{"class 0": [...], "class 1": [...]}`` gets its own histogram panel, titled by the
    parameters that differ between runs; the dict stays out of the table, scalars and reports go in."""
    from labkit.course.sweep import STATUS, RunSpec, collect

    specs = []
    for att_off in (False, True):
        params = {"att_off": att_off, "task": "binary"}
        folder = tmp_path / run_name(params)
        folder.mkdir()
        (folder / STATUS).write_text(json.dumps({"status": "ok", "params": params, "seconds": 1.0, "error": ""}))
        scores = {"class 0": [0.1, 0.2, 0.3 + att_off * 0.3], "class 1": [0.7, 0.8, 0.9], "class 2": []}
        (folder / "metrics.json").write_text(json.dumps({"auc": 0.9, "report": {"1": {"recall": 0.5}},
                                                         "predictions_by_class": scores, "predictions": [0.1, 0.9]}))
        specs.append(RunSpec("nb.ipynb", params, str(folder)))
    rows = collect(tmp_path, specs)
    assert rows[1]["auc"] == 0.9 and rows[1]["report.1.recall"] == 0.5
    assert not any(k.startswith("predictions") for k in rows[0])
    assert (tmp_path / "sweep_predictions_by_class.png").stat().st_size > 5000
    assert (tmp_path / "sweep_predictions.png").stat().st_size > 1000


def test_per_run_figure_titles_and_empty_panels():
    from labkit.viz.curves import per_run_figure

    runs = {f"lstm_steps={t}, att_off={a}": {"class 0": [0.1, 0.4], "class 1": [0.6, 0.9]}
            for t in (1, 2, 3) for a in (False, True)}
    fig = per_run_figure("predictions_by_class", runs)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.axison]
    assert titles == list(runs) and len(fig.axes) == 6  # 6 runs: 3 wide, 2 high
    fig = per_run_figure("p", dict(list(runs.items())[:3]))
    assert len(fig.axes) == 4 and sum(ax.axison for ax in fig.axes) == 3  # 2×2, one panel left blank


def test_standalone_copy_reads_the_text_source_and_drops_outputs(tmp_path):
    """A notebook that sweeps itself runs a copy: taken from its .py (never written during a run), outputs dropped."""
    import nbformat

    from labkit.course.sweep import standalone_copy

    pair = tmp_path / "pair"
    pair.mkdir()
    nb = nbformat.read(NB, as_version=4)
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", text="old output")]
    nbformat.write(nb, pair / "sweepable.ipynb")
    (pair / "sweepable.py").write_text('# %% tags=["parameters"]\nx: int = 1  # 0..: a number\n\n# %%\nprint(x + 41)\n')
    copy = standalone_copy(pair / "sweepable.ipynb", tmp_path / "runs")
    assert copy == tmp_path / "runs" / "sweepable.ipynb" and not list((tmp_path / "runs").glob("*.tmp"))
    got = nbformat.read(copy, as_version=4)
    assert [c.source for c in got.cells] == ['x: int = 1  # 0..: a number', "print(x + 41)"]
    assert got.cells[0].metadata.tags == ["parameters"] and all(not c.get("outputs") for c in got.cells)
    assert list(grid(copy, [["x", "2", "3"]])) == [{"x": 2}, {"x": 3}]
    alone = standalone_copy(NB, tmp_path / "alone")  # no text source: the notebook itself, outputs dropped
    assert [c.source for c in nbformat.read(alone, as_version=4).cells] == [c.source for c in nbformat.read(NB, as_version=4).cells]


def test_every_run_knows_it_is_part_of_a_sweep_and_its_share_of_the_cores(tmp_path, monkeypatch):
    """Runs get LABKIT_SWEEP_RUN (so a notebook that sweeps itself does not nest a sweep) and, in a local pool,
    LABKIT_THREADS = cores // workers (so two runs do not put four torch threads on two cores)."""
    import os

    import nbformat

    from labkit.core.env import shared_threads
    from labkit.course.sweep import inside_sweep

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x: int = 1  # 0..: a number", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import labkit\nfrom labkit.course.sweep import inside_sweep\n"
                                  "labkit.record('inside', inside_sweep())\nlabkit.record('threads', labkit.set_threads())"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "probe.ipynb")
    rows = sweep(tmp_path / "probe.ipynb", [["x", "1", "2"]], tmp_path / "out", workers=2, progress=False)
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    assert [(r["status"], r["inside"], r["threads"]) for r in rows] == [("ok", True, share)] * 2, rows
    monkeypatch.delenv("LABKIT_SWEEP_RUN", raising=False)
    monkeypatch.delenv("LABKIT_THREADS", raising=False)
    assert not inside_sweep() and shared_threads() is None
    monkeypatch.setenv("LABKIT_SWEEP_RUN", "x=1")
    for raw, want in (("3", 3), ("0", None), ("two", None)):
        monkeypatch.setenv("LABKIT_THREADS", raw)
        assert inside_sweep() and shared_threads() == want
