"""Bundled assets: every file is listed with its sha256; missing or corrupt ones are named with a fix."""

import json

import pytest

from labkit.core import assets
from labkit.core.assets import AssetError, asset_path, asset_status, register


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "x.txt").write_text("hello")
    register("demo/x.txt", source="written by a test", license="CC0", restore="python tools/make_demo.py")
    return tmp_path


def test_registered_asset_resolves(data):
    assert asset_path("demo/x.txt").read_text() == "hello"
    entry = json.loads((data / "demo" / "MANIFEST.json").read_text())["demo/x.txt"]
    assert entry["bytes"] == 5 and len(entry["sha256"]) == 64


def test_missing_asset_names_file_and_restore_command(data):
    (data / "demo" / "x.txt").unlink()
    with pytest.raises(AssetError, match=r"data/demo/x.txt is missing; restore it with `python tools/make_demo.py`"):
        asset_path("demo/x.txt")


def test_corrupt_asset_is_detected(data):
    (data / "demo" / "x.txt").write_text("hellO")  # same size, other bytes
    with pytest.raises(AssetError, match="is corrupt"):
        asset_path("demo/x.txt")
    assert asset_status()["demo/x.txt"] == "corrupt"


def test_unknown_asset_suggests_the_listed_one(data):
    with pytest.raises(AssetError, match="did you mean 'demo/x.txt'"):
        asset_path("other/x.txt")


def test_every_bundled_file_is_listed_and_intact():
    root = assets.data_dir()
    listed = assets.load_manifest(root)
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*")
               if p.is_file() and p.name not in ("MANIFEST.json", "README.md") and not p.name.startswith(".")}
    assert on_disk == set(listed), f"unlisted: {on_disk - set(listed)}, listed but missing: {set(listed) - on_disk}"
    bad = {k: v for k, v in asset_status(root).items() if v != "ok"}
    assert not bad, bad
    assert all(a.license and a.source for a in listed.values()), "every asset needs a source and a licence"
