"""The shipped transformer checkpoints of notebook 07 (data/video/transformer_*.pt): each one loads with weights_only,
and its held-out figures — GAP, Hit@1, PERR and the [CLS] attention mass per head on the event videos, accuracy on
the order task — recomputed from the bundled test videos equal what its training run recorded in the MANIFEST."""

from __future__ import annotations

import pytest
import torch
from helpers import run_tool

from labkit.core.assets import asset_path
from labkit.core.errors import AssetError
from labkit.data import event_videos
from labkit.eval.transformer import heldout_figures
from labkit.models import transformer_pretrained as zoo

SHIPPED = zoo.shipped()


@pytest.fixture(scope="module")
def test_items():
    torch.set_num_threads(1)
    return {"events": event_videos.preload(event_videos.event_dataset("test")), "order": event_videos.order_items("test")}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_checkpoint_reproduces_its_recorded_heldout_figures(name, test_items):
    variant, seed = zoo.FAMILY.parse(name)
    task, positions = variant.split("_", 1)
    model = zoo.load_pretrained(task, positions, seed)
    assert asset_path(name).stat().st_size <= 5 * 2**20, "a shipped checkpoint stays under 5 MB"
    record = SHIPPED[name]
    got = heldout_figures(model, test_items[task], task=task)
    want = record["heldout"]
    assert set(got) == set(want), got
    flat = lambda v: [x for row in v for x in row] if isinstance(v, list) else [v]  # noqa: E731
    assert all(abs(a - b) <= 1.01e-4 for k in got for a, b in zip(flat(got[k]), flat(want[k]), strict=True)), \
        f"{name}: recomputed {got}, recorded {want}"
    assert record["command"].startswith("PYTHONPATH=. python tools/train_video_transformer.py") and record["wall_seconds"] > 0
    assert 1 <= record["best_epoch"] <= record["epochs"] and asset_path(name.replace(".pt", "_curve.csv")).is_file()


def test_the_course_ships_both_tasks_for_three_seeds_on_one_budget():
    want = {zoo.checkpoint_name("events", "sinusoidal", s) for s in zoo.SEEDS}
    want |= {zoo.checkpoint_name("order", p, s) for p in ("sinusoidal", "learned", "none") for s in zoo.SEEDS}
    assert want <= set(SHIPPED), f"missing: {sorted(want - set(SHIPPED))}"
    budgets = {(r["train"]["epochs"], r["train"]["batch_size"], r["train"]["lr"]) for r in SHIPPED.values()}
    assert len(budgets) == 1, f"the runs must share one training budget, found {budgets}"


def test_unknown_variant_and_missing_checkpoint_are_clear_errors():
    with pytest.raises(ValueError, match="positions one of"):
        zoo.load_pretrained("events", "rotary")
    with pytest.raises(AssetError, match="train it: PYTHONPATH=. python tools/train_video_transformer.py order "
                                         "--positions learned --seed 99"):
        zoo.load_pretrained("order", "learned", seed=99)


def test_the_training_script_runs_the_events_task(tmp_path):
    """(tests/test_shipped_run.py runs the order task twice, resuming.)"""
    r = run_tool("train_video_transformer", "events", "--positions", "learned", "--steps", "2", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "transformer_events_learned_s0.pt").is_file()
    assert '"best_head_mass_ratio"' in r.stdout and '"best_epoch": 1' in r.stdout and '"val_gap"' in r.stdout
