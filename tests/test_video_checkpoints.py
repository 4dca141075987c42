"""The shipped attention-LSTM checkpoints (data/video): each loads with weights_only, and its held-out figures — GAP,
Hit@1, PERR and the attention mass on the frames that show a digit — are recomputed here from the bundled test
TFRecord and must equal what its training run recorded in the MANIFEST; the training script runs."""

from __future__ import annotations

import pytest
import torch
from helpers import run_tool

from labkit.core.assets import asset_path
from labkit.core.errors import AssetError
from labkit.data import event_videos
from labkit.eval.video import heldout_figures
from labkit.models import attention_lstm_pretrained as zoo

SHIPPED = zoo.shipped()


@pytest.fixture(scope="module")
def test_items():
    torch.set_num_threads(1)
    return event_videos.preload(event_videos.event_dataset("test"))


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_checkpoint_reproduces_its_recorded_heldout_figures(name, test_items):
    pooling, seed = zoo.parse_checkpoint(name)
    model = zoo.load_pretrained(pooling, seed)
    assert asset_path(name).stat().st_size <= 5 * 2**20, "a shipped checkpoint stays under 5 MB"
    record = SHIPPED[name]
    got = heldout_figures(model, test_items)
    assert set(got) == set(record["heldout"]), got
    assert all(abs(got[k] - record["heldout"][k]) <= 1.01e-4 for k in got), \
        f"{name}: recomputed {got}, recorded {record['heldout']}"
    assert record["command"].startswith("PYTHONPATH=. python tools/train_video_attention.py") and record["wall_seconds"] > 0
    assert 1 <= record["best_epoch"] <= record["epochs"] and asset_path(name.replace(".pt", "_curve.csv")).is_file()


def test_the_course_ships_every_pooling_for_three_seeds():
    want = {zoo.checkpoint_name(p, s) for p in ("attention", "mean", "last") for s in zoo.SEEDS}
    assert want <= set(SHIPPED), f"missing: {sorted(want - set(SHIPPED))}"
    budgets = {(r["epochs"], r["train"]["batch_size"], r["train"]["lr"], r["train"]["videos"]) for r in SHIPPED.values()}
    assert len(budgets) == 1, f"the poolings must share one training budget, found {budgets}"


def test_unknown_pooling_and_missing_checkpoint_are_clear_errors():
    with pytest.raises(ValueError, match="pooling must be one of"):
        zoo.load_pretrained("max")
    with pytest.raises(AssetError, match="train it: PYTHONPATH=. python tools/train_video_attention.py mean --seed 99"):
        zoo.load_pretrained("mean", seed=99)


def test_the_training_script_runs(tmp_path):
    r = run_tool("train_video_attention", "last", "--steps", "2", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "attention_lstm_last_s0.pt").is_file() and (tmp_path / "attention_lstm_last_s0_curve.csv").is_file()
    assert '"median_mass_ratio"' in r.stdout and '"best_epoch": 1' in r.stdout
