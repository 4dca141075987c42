"""Where RAM looks: the policy controls, each digit's own box, and the gaze measures drawn in notebook 04."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from helpers import run_tool

from labkit.data import mnist
from labkit.eval.ram import gaze_report
from labkit.metrics.gaze import (
    border_share,
    distance_by_glimpse,
    gaze_correlation,
    in_box_by_glimpse,
    in_box_share,
)
from labkit.models.ram import RAM, RAMConfig, ram_loss
from labkit.train import TrainConfig, fit


def test_ink_boxes_are_tight_around_each_digits_own_pixels():
    x, _ = mnist.quick_digits()
    canvas, boxes = mnist.make_variant(x[:50], "translated", seed=3, return_boxes=True)
    for img, (t, left, b, r) in zip(canvas, boxes, strict=True):
        rows, cols = np.where(img.any(1))[0], np.where(img.any(0))[0]
        assert (t, b, left, r) == (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)
    # clutter adds pixels but not to the digit's own box: the same placement as the translated canvas
    _, cl_boxes = mnist.make_variant(x[:50], "cluttered", seed=3, return_boxes=True)
    np.testing.assert_array_equal(cl_boxes, boxes)
    assert np.array_equal(mnist.make_variant(x[:50], "translated", seed=3), canvas)  # unchanged without boxes


def test_ink_box_of_a_hand_made_digit():
    img = np.zeros((1, 6, 7), np.uint8)
    img[0, 2:4, 1:5] = 255
    np.testing.assert_array_equal(mnist.ink_boxes(img), [[2, 1, 4, 5]])
    np.testing.assert_array_equal(mnist.ink_boxes(np.zeros((1, 6, 7), np.uint8)), [[0, 0, 6, 7]])


def test_gaze_measures_on_hand_placed_glimpses():
    boxes = torch.tensor([[10, 20, 30, 40], [0, 0, 60, 60]])  # (top, left, bottom, right) on a 60×60 canvas
    # l = (x, y); pixel (row, col) = (0.5(y+1)·60, 0.5(x+1)·60). Glimpse 1 is l_0 and never counts.
    on = torch.tensor([0.0, -1 / 3])  # row 20, col 30: inside box 0
    off = torch.tensor([0.9, 0.9])  # row 57, col 57: outside box 0, inside box 1
    locs = torch.stack([torch.stack([off, on, off]), torch.stack([on, off, torch.tensor([1.0, -1.0])])])
    assert in_box_share(locs, boxes, 60, 60) == pytest.approx(2 / 4)  # (1, -1) is column 60: past the last pixel
    assert border_share(locs) == pytest.approx(1 / 4)  # only (1, -1) is within 5% of the border
    assert math.isnan(border_share(torch.zeros(3, 1, 2)))  # one glimpse: no policy choice to measure


def test_per_glimpse_measures_show_a_good_first_move_and_the_drift_apart():
    boxes = torch.tensor([[10, 20, 30, 40], [0, 0, 20, 20]])  # centres (row 20, col 30) and (10, 10)
    centre, on0, on1 = torch.zeros(2), torch.tensor([0.0, -1 / 3]), torch.tensor([-2 / 3, -2 / 3])
    far = torch.tensor([1.0, 1.0])  # pixel (60, 60)
    locs = torch.stack([torch.stack([centre, on0, far]), torch.stack([centre, on1, on1])])  # (2, 3, 2)
    assert in_box_by_glimpse(locs, boxes, 60, 60) == [0.0, 1.0, 0.5]
    assert in_box_share(locs, boxes, 60, 60) == pytest.approx(0.75)  # the mean over glimpses 2…3 hides the drift
    d_centre = (10**2 + 0**2) ** 0.5 / 2 + (20**2 + 20**2) ** 0.5 / 2  # (30, 30) to (20, 30) and to (10, 10)
    d_far = ((40**2 + 30**2) ** 0.5 + 0) / 2
    assert distance_by_glimpse(locs, boxes, 60, 60) == pytest.approx([d_centre, 0.0, d_far], abs=0.01)


def test_gaze_correlation_is_one_for_a_policy_that_looks_at_the_digit():
    boxes = torch.tensor([[0, 0, 20, 20], [30, 10, 50, 30], [20, 40, 40, 60]])
    centre = torch.stack([(boxes[:, 1] + boxes[:, 3]) / 60 - 1, (boxes[:, 0] + boxes[:, 2]) / 60 - 1], 1).float()
    looks = centre[:, None].expand(3, 4, 2)
    assert gaze_correlation(looks, boxes, 60, 60) == pytest.approx(1.0)
    assert in_box_share(looks, boxes, 60, 60) == 1.0
    assert gaze_correlation(torch.zeros(3, 4, 2), boxes, 60, 60) == 0.0  # a fixed gaze follows nothing


@pytest.mark.parametrize("policy", ["centre", "random"])
def test_policy_controls_glimpse_where_they_say_and_learn_no_policy(policy):
    torch.manual_seed(0)
    model = RAM(RAMConfig(glimpses=4, patch_size=6, scales=2, policy=policy))
    x, y = torch.rand(5, 1, 30, 30), torch.randint(0, 10, (5,))
    out = model(x)
    assert out.locations.shape == (5, 4, 2) and out.log_pi.shape == (5, 0)
    if policy == "centre":
        assert torch.equal(out.locations, torch.zeros(5, 4, 2))
    else:
        assert out.locations.abs().max() <= 1 and not torch.equal(out.locations, model(x).locations)
    losses = ram_loss(out, y)
    assert losses["reinforce"] == 0 and torch.equal(losses["loss"], losses["nll"])
    losses["loss"].backward()
    assert model.locator.fc.weight.grad is None  # the location network is not used at all


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="policy"):
        RAM(RAMConfig(policy="oracle"))


def test_fit_redraws_a_datasets_augmentation_every_epoch():
    seen = []

    class Redrawn(torch.utils.data.Dataset):
        def set_epoch(self, epoch):
            seen.append(epoch)

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return torch.ones(2), torch.zeros(1)

    lin = torch.nn.Linear(2, 1)
    fit(lin, Redrawn(), lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), TrainConfig(epochs=3, batch_size=2, progress=False))
    assert seen == [0, 1, 2]


def test_gaze_report_of_a_centre_gaze_matches_the_measures():
    x, _ = mnist.quick_digits()
    canvas, boxes = mnist.make_variant(x[:200], "translated", seed=0, return_boxes=True)
    images = mnist.to_dataset(canvas, np.zeros(200)).tensors[0]
    rep = gaze_report(RAM(RAMConfig(glimpses=3, patch_size=12, scales=1, policy="centre")), images, torch.from_numpy(boxes))
    want = in_box_share(torch.zeros(200, 3, 2), torch.from_numpy(boxes), 60, 60)
    assert rep["in_box_share"] == pytest.approx(want, abs=1e-4) and rep["border_share"] == 0.0


@pytest.mark.slow
def test_the_ram_training_script_runs_a_few_steps_with_every_lever(tmp_path):
    r = run_tool("train_ram", "translated_2scales_t3", "--steps", "2", "--threads", "1", "--out", str(tmp_path),
                 "--reinforce-core", "yes", "--optimizer", "sgd", "--start", "learned", "--baseline", "constant",
                 "--loc-range", "0.8", "--glimpses", "2", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    state = torch.load(tmp_path / "ram_translated_2scales_t3_learned_s0.pt", weights_only=True)
    assert "classifier.fc.weight" in state and "baseliner.b" in state
    report = json.loads(r.stdout[r.stdout.index("{\n"):])
    assert (report["dataset"], report["canvas"], report["optimizer"]) == ("translated", 60, "sgd")
    assert report["config"]["reinforce_core"] and report["config"]["loc_range"] == 0.8
    assert len(report["heldout"]["in_box_by_glimpse"]) == 2


@pytest.mark.slow
def test_the_lever_tool_writes_one_row_per_lever_it_ran(tmp_path):
    r = run_tool("ram_levers", "--steps", "1", "--only", "base", "baseline", "--out", str(tmp_path),
                 "--runs", str(tmp_path / "runs"), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    import csv

    rows = list(csv.DictReader((tmp_path / "levers.csv").open()))
    assert [row["lever"] for row in rows] == ["base", "baseline"]
    assert "--baseline constant" in rows[1]["command"] and "--baseline" not in rows[0]["command"]
    assert len(rows[0]["in_box_by_glimpse"].split()) == 3
    assert not list(tmp_path.glob("*.tmp"))  # written through a temporary file, renamed at the end
