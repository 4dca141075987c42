"""The shipped AMNet checkpoints of the constructed pasted-object task (data/amnet): they load with weights_only,
and their held-out figures — ρ, AUC, accuracy and the attention mass on the target's box — recomputed from the
images (rebuilt, then through the frozen ResNet-152) equal what the training run recorded in the MANIFEST."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import run_tool

from labkit.core.assets import asset_path, load_manifest
from labkit.data import pasted_objects as po
from labkit.eval.amnet import heldout_figures
from labkit.models.amnet_pretrained import features, load_pretrained

KINDS = ("attention", "attoff")


@pytest.fixture(scope="module")
def test_set():
    torch.set_num_threads(2)
    data = po.make_split("test")
    return data, features(data.images, batch_size=30)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_reproduces_its_recorded_heldout_figures(kind, test_set):
    name = f"amnet/amnet_pasted_{kind}_s0.pt"
    record = load_manifest()[name].training
    assert asset_path(name).stat().st_size <= 5 * 2**20
    got = heldout_figures(load_pretrained(kind), test_set[0], maps=test_set[1])
    # exact on the machine that trained them; another CPU may move a near-tie, hence 0.002
    assert set(got) == set(record["heldout"]) and all(abs(got[k] - record["heldout"][k]) <= 0.002 for k in got), \
        f"{name}: recomputed {got}, recorded {record['heldout']}"
    assert record["command"].startswith("PYTHONPATH=. python tools/train_amnet_pasted.py")


def test_the_constructed_task_is_balanced_split_by_object_and_boxed():
    tr, te = po.make_split("train", limit=40), po.make_split("test", limit=36)  # whole face/non-face pairs
    assert tr.targets.mean() == 0.5 and te.targets.mean() == 0.5  # face, non-face, face, …
    assert len(po.make_split("test").images) == 180
    assert {r for pair in po.SPLITS.values() for part in pair for r in part} == set(range(200))
    b = te.boxes
    assert ((b[:, 2] - b[:, 0]) == po.TARGET).all() and (b >= 0).all() and (b <= po.CANVAS).all()
    # the target was pasted last: its box shows the patch itself, not the photo or a distractor
    img = np.asarray(te.images[0])
    top, left, bottom, right = b[0]
    patch = img[top:bottom, left:right]
    f = po.FRAME
    assert (patch[f:-f, f:-f, 0] == patch[f:-f, f:-f, 1]).all()  # a grayscale lfw patch inside …
    assert (patch[:f, :, 0] == 220).all() and (patch[:f, :, 1] == 30).all()  # … its red frame


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_carries_the_recipe_it_was_trained_on(kind):
    """`labkit predict` builds features from the saved recipe: it must be the training one (resize only, no crop)."""
    from labkit.models.amnet import load_checkpoint
    from labkit.models.amnet_pretrained import RECIPE

    _, recipe = load_checkpoint(asset_path(f"amnet/amnet_pasted_{kind}_s0.pt"))
    assert recipe == RECIPE


def test_box_cells_and_mass():
    cells = po.box_cells(np.array([[0, 0, 64, 64], [160, 160, 224, 224]]), grid=14)
    assert cells.sum(1).tolist() == [16, 16] and cells[0, 0] and cells[1, -1] and not cells[0, -1]
    alpha = torch.zeros(2, 3, 196)
    alpha[0, :, 0] = 1.0  # all on the first cell, inside box 0
    alpha[1, :, 0] = 1.0  # all on the first cell, outside box 1
    assert po.mass_in_box(alpha, cells).tolist() == [1.0, 0.0]


@pytest.mark.slow
def test_the_training_script_runs(tmp_path):
    r = run_tool("train_amnet_pasted", "--smoke", "--threads", "1", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "amnet_pasted_attention_s0.pt").is_file() and "ablation_gap_rho" in r.stdout
