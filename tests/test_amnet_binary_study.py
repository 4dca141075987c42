"""Notebook 03's 0/1 study on the constructed pasted-object task: the bundled features (small, registered, named as
constructed, aligned with the task's targets and boxes, reproducible from the images), the choice of data, and the
seed's rumor-style workflow through ``labkit sweep``: every run records accuracy, AUC, the classification report and
its scores per class, and a bad ``dataset`` is refused before any kernel starts."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from helpers import ROOT

from labkit.core.assets import asset_path, load_manifest
from labkit.course import cli
from labkit.course.params import ParameterError
from labkit.course.sweep import grid, sweep
from labkit.data import pasted_objects as po
from labkit.data.amnet_features import (
    DATASETS,
    PASTED,
    PASTED_COMPONENTS,
    PASTED_SIZES,
    binary_study,
    load_bundled_features,
)
from labkit.models.amnet_pretrained import features, pca_components

NB03 = ROOT / "notebooks" / "03_amnet.ipynb"


@pytest.fixture(scope="module")
def pasted():
    return binary_study("pasted")


def test_bundled_pasted_features_are_small_registered_and_named_constructed(pasted):
    entry = load_manifest()[PASTED]
    assert entry.bytes <= 5 * 2**20 and asset_path(PASTED).stat().st_size == entry.bytes
    assert "CONSTRUCTED" in entry.source and "principal components" in entry.source
    assert entry.restore == "PYTHONPATH=. python tools/make_amnet_assets.py --pasted-features --register"
    assert pasted.name == DATASETS["pasted"] and "constructed" in pasted.name
    assert pasted.features.shape == (sum(PASTED_SIZES.values()), PASTED_COMPONENTS, 14, 14)
    assert [len(pasted.train), len(pasted.val), len(pasted.test)] == list(PASTED_SIZES.values())
    assert not set(pasted.train) & set(pasted.test) and not set(pasted.val) & set(pasted.test)
    for idx in (pasted.train, pasted.val, pasted.test):
        assert pasted.labels[idx].mean() == 0.5  # face, non-face, …: every split balanced
    assert "train 400 (200 ones), val 100 (50 ones), test 180 (90 ones)" in pasted.describe()


def test_rows_are_the_constructed_images_targets_and_boxes(pasted):
    """Row i of a split is image i of ``pasted_objects.make_split``: same target (face 1) and same target box."""
    for split, idx in (("val", pasted.val), ("test", pasted.test)):
        images = po.make_split(split, PASTED_SIZES[split])
        np.testing.assert_array_equal(pasted.labels[idx], images.targets.astype(np.int64))
        np.testing.assert_array_equal(pasted.boxes[idx], images.boxes)


@pytest.mark.slow
def test_bundled_features_are_reproduced_from_the_images():
    """Two held-out images through the frozen ResNet-152 and the stored projection give the stored uint8 codes."""
    torch.set_num_threads(2)
    images = po.make_split("test", limit=2).images
    maps = features(images, batch_size=2)  # (2, 1024, 14, 14)
    with np.load(asset_path(PASTED)) as z:
        first_test = int(np.flatnonzero(z["split"].astype(str) == "test")[0])
        stored = z["features_u8"][first_test:first_test + 2].astype(int)
        proj = np.einsum("nchw,ck->nkhw", maps.numpy() - z["mean"][None, :, None, None], z["components"])
        codes = np.clip(np.round((proj - z["lo"][None, :, None, None]) / z["scale"][None, :, None, None]), 0, 255)
    assert np.abs(codes - stored).max() <= 1  # one quantisation step: another CPU's rounding


def test_pca_components_are_orthonormal_sorted_and_sign_fixed():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 6, 3, 3, generator=g) * torch.tensor([5.0, 3, 2, 1, 0.5, 0.1])[None, :, None, None]
    mean, comps, explained = pca_components(x, 3)
    torch.testing.assert_close(comps.T @ comps, torch.eye(3), atol=1e-5, rtol=0)
    assert (explained[:-1] >= explained[1:]).all() and 0.9 < explained.sum() <= 1
    assert (comps.gather(0, comps.abs().argmax(0, keepdim=True)) > 0).all()
    _, again, _ = pca_components(-x, 3)  # a sign flip of the data does not flip the components
    torch.testing.assert_close(again, comps)


def test_photos_study_is_the_median_split_stand_in():
    photos, data = binary_study("photos"), load_bundled_features()
    assert "stand-in" in photos.name and photos.boxes is None
    assert photos.labels.sum() == len(photos.labels) // 2
    assert set(photos.labels[photos.val]) == {0, 1}  # validation AUC, which picks the epoch, needs both classes
    sources = np.array(data.sources)
    assert not {*sources[photos.train]} & {*sources[photos.val]} and not {*sources[photos.val]} & {*sources[photos.test]}
    np.testing.assert_array_equal(photos.labels, (data.pseudo_labels > np.median(data.pseudo_labels)).astype(int))


def test_an_unknown_dataset_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="dataset must be one of pasted, photos; got 'faces'"):
        binary_study("faces")
    with pytest.raises(ParameterError, match="'dataset' must be one of pasted, photos; got 'faces'"):
        grid(NB03, [["dataset", "pasted", "faces"], ["lstm_steps", "1"]])


@pytest.mark.parametrize("argv", [["run", "03", "-p", "dataset", "pasted_objects"],
                                  ["sweep", "03", "-p", "dataset", "pasted", "Pasted", "-p", "att_off", "False"],
                                  ["sweep", "03", "-p", "dataset", "3"]])
def test_the_cli_refuses_a_bad_dataset_before_any_run(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "'dataset' must be one of pasted, photos" in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_sweep_runs_the_rumor_workflow_on_the_constructed_task(tmp_path, monkeypatch):
    """`labkit sweep 03 -p dataset pasted -p att_off False True ...`: per run accuracy, AUC, the classification
    report, the attention mass on the target, the scores per class; one histogram panel per run."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    axes = [["dataset", "pasted"], ["att_off", "False", "True"], ["lstm_steps", "1"], ["task", "binary"],
            ["epochs", "1"], ["threads", "1"]]  # run_sweep left True: a run of a sweep never starts its own
    rows = sweep(NB03, axes, tmp_path, workers=2, progress=False)
    assert [r["status"] for r in rows] == ["ok", "ok"], [r["error"] for r in rows]
    for r in rows:
        assert r["data"] == "constructed pasted-object task (face = 1)"
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["auc"] <= 1
        assert r["report.0.support"] == r["report.1.support"] == 90 and 0 <= r["report.1.f1-score"] <= 1
        metrics = json.loads((tmp_path / r["run"] / "metrics.json").read_text())
        assert [len(v) for v in metrics["predictions_by_class"].values()] == [90, 90]
        assert "pasted/mass_ratio" not in metrics  # the checkpoint showcase (§5) is skipped by task=binary runs
        assert "sweep_runs" not in metrics  # no nested sweep
    by_att = {r["att_off"]: r for r in rows}
    assert by_att[True]["mass_ratio"] == pytest.approx(1.0)  # uniform attention: exactly the box's area share
    assert by_att[False]["mass_ratio"] > 0 and by_att[False]["mass_ratio"] != 1.0  # one epoch: not yet on the target
    with open(tmp_path / "sweep.csv") as f:
        assert {"accuracy", "auc", "report.1.recall", "mass_ratio", "data"} <= set(next(csv.DictReader(f)))
    assert (tmp_path / "sweep_predictions_by_class.png").stat().st_size > 5000
    assert (tmp_path / "sweep_predictions.png").stat().st_size > 1000
