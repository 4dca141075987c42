"""`labkit predict`: a folder of images → a CSV of scores (ResMem's published weights, or an AMNet checkpoint with
its attention maps); unreadable images are named and skipped, never scored."""

from __future__ import annotations

import csv
import hashlib
import os
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


def _tree(*roots: Path) -> dict[bytes, str]:
    """Every entry under ``roots`` → its sha256 (file), link target (symbolic link) or "dir": a run that changes,
    adds or removes anything shows."""
    out = {}
    for root in roots:
        for d, dirs, files in os.walk(root):
            for n in dirs + files:
                p = os.path.join(d, n)
                key = os.fsencode(p)
                if os.path.islink(p):
                    out[key] = "link " + os.readlink(p)
                elif os.path.isdir(p):
                    out[key] = "dir"
                else:
                    out[key] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def _ckpt(t: Path, edit=None, pool: int = 2, name: str = "ck.pt", **cfg) -> str:
    """A tiny AMNet checkpoint (7×7 = 49 locations from layer3 pooled 2×2 unless ``cfg``/``pool`` say otherwise),
    then ``edit(state)`` applied to what was saved — an edited or damaged file."""
    torch.manual_seed(0)
    model = amnet.AMNet(amnet.AMNetConfig(**{"locations": 49, "d": 16, "hidden": 32, "lstm_steps": 2, **cfg}))
    path = amnet.save_checkpoint(model.eval(), t / name, pool=pool)
    if edit is not None:
        state = torch.load(path, weights_only=True)
        edit(state)
        torch.save(state, path)
    return str(path)


def _folder_of(t: Path, name: str, files: dict[str, bytes | str]) -> str:
    """A folder under ``t``: file name → bytes, or "->target" for a symbolic link."""
    d = t / name
    d.mkdir()
    for n, v in files.items():
        if isinstance(v, str) and v.startswith("->"):
            os.symlink(v[2:], d / n)
        else:
            (d / n).write_bytes(v)
    return str(d)


def _amnet(d: Path, t: Path, ck: str, *more: str) -> list[str]:
    return ["predict", str(d), "--model", "amnet", "--checkpoint", ck, "--csv", str(t / "old.csv"), *more]


def _recipe(**kv):
    return lambda s: s["features"].update(kv)


NAN_BIAS = lambda s: s["state_dict"]["regress.net.3.bias"].fill_(float("nan"))  # noqa: E731
INF_WEIGHT = lambda s: s["state_dict"]["project.conv.weight"].view(-1)[0].fill_(float("inf"))  # noqa: E731

# (id, argv from (scored folder, tmp_path) — files it needs are made under tmp_path —, what the one line must say).
# Each runs with the backbone and ResMem unloadable: every one must be refused before any model loads.
BAD_INPUT = [
    ("no-folder", lambda d, t: ["predict", str(t / "nowhere"), "--csv", str(t / "x.csv")], "is not a folder of images"),
    ("empty-folder", lambda d, t: ["predict", _folder_of(t, "e", {}), "--csv", str(t / "old.csv")],
     "no image files to score (none named .jpg"),
    ("only-non-images", lambda d, t: ["predict", _folder_of(t, "n", {"a.txt": b"x", "b.csv": b"y"}),
                                      "--csv", str(t / "old.csv")], "no image files to score (none named .jpg"),
    ("all-unreadable", lambda d, t: ["predict", _folder_of(t, "u", {"a.jpg": b"xx", "b.png": b"", "c.txt": b"x"}),
                                     "--csv", str(t / "old.csv")],
     "u: no image files to score: all 2 image file(s) were skipped as unreadable (a.jpg: not an image file"),
    ("only-broken-links", lambda d, t: _amnet(_folder_of(t, "l", {"gone.jpg": "->nowhere.jpg", "loop.png": "->loop.png"}),
                                              t, _ckpt(t)),
     "all 2 image file(s) were skipped as unreadable (gone.jpg: symbolic link to nowhere.jpg, which does not exist; "
     "loop.png: symbolic link that loops"),
    ("amnet-no-checkpoint", lambda d, t: ["predict", str(d), "--model", "amnet", "--csv", str(t / "x.csv")], "needs --checkpoint"),
    ("maps-need-amnet", lambda d, t: ["predict", str(d), "--att-maps", str(t / "m"), "--csv", str(t / "x.csv")],
     "attention maps come from AMNet"),
    ("maps-need-amnet-file", lambda d, t: ["predict", str(d), "--att-maps", str(t / "old.csv"), "--csv", str(t / "x.csv")],
     "attention maps come from AMNet"),
    ("maps-is-file", lambda d, t: _amnet(d, t, _ckpt(t), "--att-maps", str(t / "old.csv")), "old.csv is a file, not a folder"),
    ("maps-under-file", lambda d, t: _amnet(d, t, _ckpt(t), "--att-maps", str(t / "old.csv" / "maps")),
     "old.csv is a file, not a folder, so nothing can be written under it"),
    ("csv-is-folder", lambda d, t: ["predict", str(d), "--csv", str(t)], "is a folder"),
    ("csv-under-file", lambda d, t: ["predict", str(d), "--csv", str(t / "old.csv" / "out.csv")],
     "old.csv is a file, not a folder, so nothing can be written under it"),
    ("csv-under-file-deep", lambda d, t: ["predict", str(d), "--csv", str(t / "old.csv" / "a" / "out.csv")],
     "old.csv is a file, not a folder"),
    ("csv-is-broken-link", lambda d, t: ["predict", _folder_of(t, "k", {"a.jpg": "->gone.jpg", "b.jpg": b"x"}),
                                         "--csv", str(t / "k" / "a.jpg")], "is one of the images to score"),
    ("batch-zero", lambda d, t: ["predict", str(d), "--batch-size", "0", "--csv", str(t / "x.csv")], "batch size"),
    ("bad-checkpoint", lambda d, t: _amnet(d, t, str(d / "notes.txt")), "notes.txt"),
    ("nan-weight", lambda d, t: _amnet(d, t, _ckpt(t, NAN_BIAS)),
     "ck.pt: weight 'regress.net.3.bias' holds 1 non-finite value(s) (nan or inf)"),
    ("inf-weight", lambda d, t: _amnet(d, t, _ckpt(t, INF_WEIGHT)), "weight 'project.conv.weight' holds 1 non-finite"),
    ("target-scale-zero", lambda d, t: _amnet(d, t, _ckpt(t, lambda s: s["config"].update(target_scale=0))),
     "ck.pt: config.target_scale=0 is not allowed — target_scale must be a finite number > 0"),
    ("target-scale-nan", lambda d, t: _amnet(d, t, _ckpt(t, lambda s: s["config"].update(target_scale=float("nan")))),
     "config.target_scale=nan is not allowed"),
    ("target-mean-text", lambda d, t: _amnet(d, t, _ckpt(t, lambda s: s["config"].update(target_mean="x"))),
     "config.target_mean='x' is not allowed — target_mean must be a finite number"),
    ("pool-2-for-14x14", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(pool=2), pool=1, locations=196)),
     "features crop=224, stage='layer3', pool=2 give a 7×7 map (49 locations) but the model was built for "
     "locations=196 — pool 1 fits crop 224"),
    ("pool-1-for-7x7", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(pool=1))), "pool=1 give a 14×14 map"),
    ("pool-text", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(pool="abc"))),
     "features.pool='abc' is not allowed — pool must be a whole number from 1 to 14"),
    ("pool-zero", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(pool=0))), "features.pool=0 is not allowed"),
    ("stage-layer4", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(stage="layer4"))),
     "features.stage='layer4' gives 2048-channel maps but the model reads in_channels=1024 — use stage 'layer3'"),
    ("stage-bogus", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(stage="bogus"))),
     "features.stage='bogus' is not a spatial stage of the backbone — use one of layer1, layer2, layer3, layer4"),
    ("stage-pool", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(stage="pool"))), "features.stage='pool' is not a spatial"),
    ("no-crop", lambda d, t: _amnet(d, t, _ckpt(t, lambda s: s["features"].pop("crop"))),
     "its features recipe has no 'crop' — features.crop must be a whole number of pixels from 32 to 1024"),
    ("crop-negative", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(crop=-5))),
     "features.crop=-5 is not allowed — crop must be a whole number of pixels from 32 to 1024 (the memory bound)"),
    ("crop-huge", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(crop=100000))), "features.crop=100000 is not allowed"),
    ("crop-float", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(crop=224.0))), "features.crop=224.0 is not allowed"),
    ("resize-huge", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(resize=100000))), "features.resize=100000 is not allowed"),
    ("crop-over-resize", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(crop=300))),
     "features.crop=300 is larger than features.resize=256"),
    ("crop-wrong-grid", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(crop=256))),
     "features crop=256, stage='layer3', pool=2 give a 8×8 map (64 locations) but the model was built for locations=49"),
    ("features-list", lambda d, t: _amnet(d, t, _ckpt(t, lambda s: s.update(features=[1, 2]))),
     "its features recipe must be a dict, got list [1, 2]"),
    ("features-unknown-field", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(crops=224))), "unknown field(s) 'crops'"),
    ("other-backbone", lambda d, t: _amnet(d, t, _ckpt(t, _recipe(backbone="vgg16"))),
     "features.backbone='vgg16' is not a backbone labkit has"),
]


@pytest.mark.parametrize(("argv", "says"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_predict_refuses_bad_input_in_one_line_and_changes_nothing(folder, tmp_path, capsys, monkeypatch, argv, says):
    def no_model(*a, **k):
        raise AssertionError("a model loaded before the bad input was refused")

    monkeypatch.setattr(backbones, "extract", no_model)
    monkeypatch.setattr(resmem, "load_pretrained", no_model)
    (tmp_path / "old.csv").write_text("name,prediction\nkept.jpg,0.5\n")  # the results of an earlier run
    args = [*argv(folder, tmp_path), "--quiet"]
    before = _tree(folder, tmp_path)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _tree(folder, tmp_path) == before  # nothing written, replaced, created or left behind


def test_non_finite_scores_are_never_written(folder, tmp_path, capsys):
    """A finite checkpoint can still give inf (target_scale=1e-300 is > 0 but 0 in float32, so y / target_scale is
    ±inf): refused, naming the checkpoint and the image, and the CSV and maps of an earlier run stay whole."""
    ck = _ckpt(tmp_path, lambda s: s["config"].update(target_scale=1e-300))
    (tmp_path / "old.csv").write_text("name,prediction\nkept.jpg,0.5\n")
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "astronaut_att.png").write_bytes(b"an earlier map")
    before = _tree(folder, tmp_path)
    assert cli.main(_amnet(folder, tmp_path, ck, "--att-maps", str(tmp_path / "maps"), "--batch-size", "1", "--quiet")) == 2
    err = capsys.readouterr().err
    assert "ck.pt: the AMNet checkpoint gave a non-finite score (" in err and "for astronaut.jpg" in err, err
    assert len(err.strip().splitlines()) == 1 and _tree(folder, tmp_path) == before


def test_non_finite_score_from_resmem_is_refused(folder, tmp_path, monkeypatch):
    monkeypatch.setattr("labkit.course.predict._model",
                        lambda kind, ck: (lambda images: (np.full(len(images), np.nan), None), None))
    with pytest.raises(DataError, match="ResMem gave a non-finite score"):
        predict_folder(folder, tmp_path / "s.csv", progress=False)
    assert not list(tmp_path.iterdir())


def test_links_and_undecodable_names(folder, tmp_path, capsys):
    """A dangling or looping link is named as skipped, with why; a name that is not UTF-8 is scored, its bytes
    written \\xNN in the CSV and _xNN in its map's name."""
    d = tmp_path / "photos"
    d.mkdir()
    src = next(p for p in sorted(folder.glob("*.jpg")) if p.name != "broken.jpg")
    (d / "plain.jpg").write_bytes(src.read_bytes())
    (d / os.fsdecode(b"caf\xe9.jpg")).write_bytes(src.read_bytes())  # Latin-1 é: not UTF-8
    os.symlink("plain.jpg", d / "alias.jpg")  # a good link is scored
    os.symlink("missing.jpg", d / "gone.jpg")
    os.symlink("loop.png", d / "loop.png")
    argv = _amnet(d, tmp_path, _ckpt(tmp_path), "--att-maps", str(tmp_path / "maps"), "--quiet")
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert "skipped gone.jpg: symbolic link to missing.jpg, which does not exist" in err
    assert "skipped loop.png: symbolic link that loops (it leads back to itself)" in err
    assert "scored 3 image(s)" in out and "skipped 2 unreadable" in out
    rows = _rows(tmp_path / "old.csv")
    assert [r["name"] for r in rows] == ["alias.jpg", "caf\\xe9.jpg", "plain.jpg"]
    assert rows[0]["prediction"] == rows[1]["prediction"] == rows[2]["prediction"]  # the same photo
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == ["alias_att.png", "caf_xe9_att.png", "plain_att.png"]


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


def test_triplemem_scores_a_folder_as_it_starts_and_from_a_checkpoint(folder, tmp_path):
    """Untrained, TripleMem is the published ResMem (zero weights on its segmentation features); from a checkpoint
    saved by ``triplemem.save_checkpoint`` it scores as that model does."""
    from labkit.models import triplemem

    assert cli.main(["predict", str(folder), "--model", "triplemem", "--csv", str(tmp_path / "t.csv"), "--quiet"]) == 0
    assert cli.main(["predict", str(folder), "--csv", str(tmp_path / "r.csv"), "--quiet"]) == 0
    assert _rows(tmp_path / "t.csv") == _rows(tmp_path / "r.csv")
    torch.manual_seed(0)
    model = triplemem.load_pretrained(widths=(8, 8, 8, 8, 8, 8))
    ckpt = triplemem.save_checkpoint(model, tmp_path / "tm.pt")
    res = predict_folder(folder, tmp_path / "c.csv", "triplemem", ckpt, progress=False)
    names = [r["name"] for r in _rows(tmp_path / "c.csv")]
    want = triplemem.predict(model, [folder / n for n in names], progress=False)
    np.testing.assert_allclose([float(r["prediction"]) for r in _rows(tmp_path / "c.csv")], want, atol=1e-6)
    assert res.scored == 2


def test_triplemem_refuses_a_checkpoint_that_is_not_one_before_scoring(folder, tmp_path, capsys):
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint")
    argv = ["predict", str(folder), "--model", "triplemem", "--checkpoint", str(tmp_path / "x.pt"),
            "--csv", str(tmp_path / "t.csv")]
    assert cli.main(argv) == 2
    assert "cannot be read as a checkpoint" in capsys.readouterr().err and not (tmp_path / "t.csv").exists()
    assert cli.main(["predict", str(folder), "--checkpoint", str(tmp_path / "x.pt"), "--csv", str(tmp_path / "r.csv")]) == 2
