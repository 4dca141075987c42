"""The shipped-checkpoint registry (labkit.models.shipped): every checkpoint in every MANIFEST is found, named, read as
data and built through it with exactly the weights in its file; a checkpoint that is not shipped, or a damaged file,
is an error that names the file and the command that trains it again."""

from __future__ import annotations

import shutil

import pytest
import torch

from labkit.core.assets import MANIFEST, asset_path, load_manifest
from labkit.core.errors import AssetError, CheckpointError
from labkit.models import shipped

SHIPPED = shipped.shipped()


def test_every_checkpoint_in_the_manifests_is_a_trained_one_of_a_known_family():
    files = sorted(name for name in load_manifest() if name.endswith(".pt"))
    assert files == sorted(SHIPPED), "a .pt in a MANIFEST has no training record"
    assert {shipped.family_of(name).prefix for name in files} == set(shipped.families())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_checkpoint_builds_from_its_record_with_the_weights_in_its_file(name):
    family = shipped.family_of(name)
    assert family.name(*family.parse(name)) == name
    model = shipped.load(name)
    weights = family.weights(shipped.read(name))
    assert not model.training and all(isinstance(t, torch.Tensor) for t in weights.values())
    got = model.state_dict()
    assert got.keys() == weights.keys()
    assert all(torch.equal(got[k], weights[k]) for k in got), name


def test_a_checkpoint_that_is_not_shipped_lists_the_shipped_ones_and_how_to_train_it():
    from labkit.models.amnet_pretrained import load_pretrained as load_amnet
    from labkit.models.ram_pretrained import load_pretrained as load_ram

    with pytest.raises(AssetError, match="ram/ram_translated_learned_s0.pt") as e:
        load_ram("translated", "random", seed=7)
    assert e.value.fix == "train it: PYTHONPATH=. python tools/train_ram.py translated --policy random --seed 7"
    with pytest.raises(AssetError, match="amnet/amnet_pasted_attention_s0.pt") as e:
        load_amnet("attoff", seed=5)
    assert "tools/train_amnet_pasted.py" in e.value.fix
    with pytest.raises(AssetError, match="belongs to no shipped-checkpoint family"):
        shipped.load("ram/levers.pt")


@pytest.mark.parametrize("damage", ["truncated", "empty", "not-torch"])
def test_a_damaged_copy_names_the_file_and_the_training_command(damage, tmp_path):
    name = "ram/convnet_cluttered_s0.pt"
    data = asset_path(name).read_bytes()
    bad = tmp_path / "convnet_cluttered_s0.pt"
    bad.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "not-torch": b"epoch: 3\n"}[damage])
    with pytest.raises(CheckpointError) as e:
        shipped.load(name, path=bad)
    assert str(bad) in str(e.value) and SHIPPED[name]["command"] in e.value.fix, str(e.value)


def test_weights_that_do_not_fit_the_recorded_configuration_name_the_file(tmp_path):
    name = "ram/convnet_cluttered_s0.pt"
    weights = shipped.read(name)
    weights["conv1.weight"] = torch.zeros(3, 3)
    torch.save(weights, tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match=r"w.pt: its weights do not fit its configuration"):
        shipped.load(name, path=tmp_path / "w.pt")


def test_a_damaged_shipped_file_is_caught_by_its_manifest_hash(tmp_path, monkeypatch):
    name = "ram/convnet_cluttered_s0.pt"
    (tmp_path / "ram").mkdir()
    shutil.copy(asset_path(name).parent / MANIFEST, tmp_path / "ram" / MANIFEST)
    (tmp_path / name).write_bytes(asset_path(name).read_bytes()[:1000])
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))
    with pytest.raises(AssetError, match=f"data/{name} is corrupt"):
        shipped.load(name)
