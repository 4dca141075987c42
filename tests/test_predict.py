"""`labkit predict`: a folder of images → a CSV of scores (ResMem's published weights, or an AMNet checkpoint with
its attention maps); unreadable images are named and skipped, never scored."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from labkit.core.errors import CheckpointError, DataError, ParameterError
from labkit.course import cli
from labkit.course.predict import find_images, predict_folder
from labkit.data.images import bundled_images
from labkit.models import amnet, backbones, resmem


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("photos")
    for im in bundled_images(crops=False)[:2]:
        im.load().convert("RGB").save(d / f"{im.name}.jpg")
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (d / "notes.txt").write_text("not an image")
    return d


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_resmem_scores_a_folder_and_names_what_it_skipped(folder, tmp_path, capsys):
    assert cli.main(["predict", str(folder), "--csv", str(tmp_path / "s.csv"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "skipped broken.jpg" in err
    rows = _rows(tmp_path / "s.csv")
    names = sorted(p.name for p in folder.glob("*.jpg") if p.name != "broken.jpg")
    assert [r["name"] for r in rows] == names
    want = resmem.predict(resmem.load_pretrained(), [folder / n for n in names], progress=False)
    np.testing.assert_allclose([float(r["prediction"]) for r in rows], want, atol=1e-6)


def test_amnet_checkpoint_scores_and_draws_one_map_per_image(folder, tmp_path):
    torch.manual_seed(0)
    model = amnet.AMNet(amnet.AMNetConfig(locations=49, d=16, hidden=32, lstm_steps=2)).eval()
    ckpt = amnet.save_checkpoint(model, tmp_path / "amnet.pt", pool=2)
    res = predict_folder(folder, tmp_path / "a.csv", "amnet", ckpt, tmp_path / "maps", progress=False)
    assert res.scored == 2 and [s[0] for s in res.skipped] == ["broken.jpg"] and len(res.attention_maps) == 2
    names = [r["name"] for r in _rows(tmp_path / "a.csv")]
    maps = backbones.extract([folder / n for n in names], "layer3", preprocess=backbones.Preprocess(crop=224),
                             progress=False)
    want, _ = model.predict(F.avg_pool2d(maps, 2))
    np.testing.assert_allclose([float(r["prediction"]) for r in _rows(tmp_path / "a.csv")], want.numpy(), atol=1e-5)


@pytest.mark.parametrize(("argv", "says"), [
    (lambda d, t: ["predict", str(t / "nowhere"), "--csv", str(t / "x.csv")], "is not a folder of images"),
    (lambda d, t: ["predict", str(t), "--csv", str(t / "x.csv")], "no image files"),
    (lambda d, t: ["predict", str(d), "--model", "amnet", "--csv", str(t / "x.csv")], "needs --checkpoint"),
    (lambda d, t: ["predict", str(d), "--att-maps", str(t / "m"), "--csv", str(t / "x.csv")], "attention maps come from AMNet"),
    (lambda d, t: ["predict", str(d), "--csv", str(t)], "is a folder"),
    (lambda d, t: ["predict", str(d), "--batch-size", "0", "--csv", str(t / "x.csv")], "batch size"),
    (lambda d, t: ["predict", str(d), "--model", "amnet", "--checkpoint", str(d / "notes.txt"), "--csv", str(t / "x.csv")],
     "notes.txt"),
], ids=["no-folder", "empty-folder", "amnet-no-checkpoint", "maps-need-amnet", "csv-is-folder", "batch-zero", "bad-checkpoint"])
def test_predict_refuses_bad_input_in_one_line(folder, tmp_path, capsys, argv, says):
    assert cli.main(argv(folder, tmp_path)) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_find_images_is_sorted_and_skips_other_files(folder, tmp_path):
    assert [p.name for p in find_images(folder)] == sorted(p.name for p in folder.glob("*.jpg"))
    (tmp_path / "only.txt").write_text("x")
    with pytest.raises(DataError, match="no image files"):
        find_images(tmp_path)


def test_amnet_checkpoint_errors_name_the_file(tmp_path):
    (tmp_path / "w.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="w.pt"):
        amnet.load_checkpoint(tmp_path / "w.pt")
    torch.save({"state_dict": {}}, tmp_path / "v.pt")
    with pytest.raises(CheckpointError, match="not an AMNet checkpoint"):
        amnet.load_checkpoint(tmp_path / "v.pt")
    with pytest.raises(ParameterError):
        predict_folder(tmp_path, tmp_path / "x.csv", model="vgg")


def test_predict_never_writes_over_its_inputs_and_keeps_the_old_csv_when_cut(folder, tmp_path, capsys, monkeypatch):
    import hashlib

    def digest(d):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}

    before = digest(folder)
    photo = next(p for p in sorted(folder.glob("*.jpg")) if p.name != "broken.jpg")
    assert cli.main(["predict", str(folder), "--csv", str(photo), "--quiet"]) == 2
    assert "one of the images to score" in capsys.readouterr().err
    assert cli.main(["predict", str(folder), "--model", "amnet", "--checkpoint", str(folder / "x.pt"),
                     "--att-maps", str(folder), "--csv", str(tmp_path / "x.csv"), "--quiet"]) == 2
    assert "inside the folder being scored" in capsys.readouterr().err
    assert digest(folder) == before
    old = tmp_path / "old.csv"
    old.write_text("name,prediction\nkept.jpg,0.5\n")
    calls = []

    def interrupted_after_one_batch(kind, checkpoint):
        def score(images):
            calls.append(len(images))
            if len(calls) > 1:
                raise KeyboardInterrupt  # Ctrl-C in the middle of the folder
            return np.full(len(images), 0.7), None
        return score, (7, 7)

    monkeypatch.setattr("labkit.course.predict._model", interrupted_after_one_batch)
    with pytest.raises(KeyboardInterrupt):
        predict_folder(folder, old, batch_size=1, progress=False)
    assert calls == [1, 1] and old.read_text() == "name,prediction\nkept.jpg,0.5\n"  # the earlier results, whole
    assert not list(tmp_path.glob(".*.tmp"))


def test_attention_map_names_never_collide():
    from labkit.course.predict import _map_names

    root = Path("/photos")
    paths = [root / "a.png", root / "a.jpg", root / "b.jpg", root / "sub" / "c.jpg", root / "v1.2.jpg", root / "v1.3.jpg"]
    names = _map_names(paths, root)
    assert names[root / "a.png"] == "a_png" and names[root / "a.jpg"] == "a_jpg" and names[root / "b.jpg"] == "b"
    assert names[root / "sub" / "c.jpg"] == "sub__c" and len(set(names.values())) == len(paths)
