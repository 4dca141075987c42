"""The course's reproducibility promise (notebook 00 §4), tested as a learner would meet it: run a notebook that
trains, twice, on the same machine and threads, and get the same metrics.json — every number, exactly (wall-clock
times excepted)."""

import json
from pathlib import Path

import pytest
from helpers import run_labkit

# 04 trains RAM from scratch with REINFORCE — sampled glimpses, a chaotic border share — so exact equality there
# means every seed and kernel choice holds. Two epochs keep the pair of runs short.
NOTEBOOK, PARAMS = "04", ["-p", "epochs", "2"]


def _run(out: Path) -> dict:
    r = run_labkit("run", NOTEBOOK, *PARAMS, "--out", str(out), "--flat", "--quiet", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if not k.endswith("_seconds")}


@pytest.mark.slow
def test_a_training_notebook_reproduces_its_metrics_exactly(tmp_path):
    first, second = _run(tmp_path / "a"), _run(tmp_path / "b")
    assert first, "the notebook recorded no metrics"
    assert "heldout_accuracy" in first and "policy_glimpses_at_border_share" in first
    differ = {k: (first[k], second.get(k)) for k in first if first[k] != second.get(k)}
    assert not differ and first.keys() == second.keys(), differ
