"""The shipped RAM checkpoints (data/ram): each loads with weights_only, and its held-out figures — accuracy and
where the glimpses land — are recomputed here and must equal what its training run recorded in the MANIFEST."""

from __future__ import annotations

import pytest

from labkit.core.assets import asset_path
from labkit.eval.ram import heldout_figures
from labkit.models.ram_pretrained import SETTINGS, canvas, load_pretrained, parse_checkpoint, shipped, splits

SHIPPED = shipped()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_checkpoint_reproduces_its_recorded_heldout_figures(name):
    setting, policy, seed = parse_checkpoint(name)
    model = load_pretrained(setting, policy, seed)
    assert asset_path(name).stat().st_size <= 5 * 2**20, "a shipped checkpoint stays under 5 MB"
    record = SHIPPED[name]
    got = heldout_figures(model, splits(setting)["test"])
    # Every figure the training run recorded is recomputed (records made before the per-glimpse figures existed
    # hold fewer). Exact on the machine that trained it; float rounding on another CPU may flip a near-tie digit or
    # glimpse, hence 0.002 (0.05 px for distances).
    recorded = record["heldout"]
    assert set(recorded) <= set(got), sorted(set(recorded) - set(got))
    for k, want in recorded.items():
        tol = 0.05 if k == "distance_by_glimpse" else 0.002
        assert got[k] == pytest.approx(want, abs=tol), f"{name} {k}: recomputed {got[k]}, recorded {want}"
    if "parameters" in record and policy != "convnet":  # trained since the per-glimpse figures exist: it records them
        assert {"min_glimpse_in_box", "in_box_by_glimpse", "distance_by_glimpse"} <= set(recorded)
    assert record["command"].startswith("PYTHONPATH=. python tools/train_ram.py") and record["wall_seconds"] > 0
    assert asset_path(name.replace(".pt", "_curve.csv")).is_file()


def test_the_course_ships_the_checkpoints_notebook_04_draws():
    want = {"ram/ram_translated_learned_s0.pt", "ram/ram_cluttered_learned_s0.pt", "ram/convnet_translated_s0.pt",
            "ram/convnet_cluttered_s0.pt", "ram/ram_cluttered_2scales_t3_learned_s0.pt",
            "ram/convnet_cluttered_2scales_t3_s0.pt"}
    want |= {f"ram/ram_translated_2scales_t3_{p}_s{s}.pt" for p in ("learned", "centre", "random") for s in range(3)}
    assert want <= set(SHIPPED), f"missing: {sorted(want - set(SHIPPED))}"


def test_each_new_record_names_its_data_and_its_levers():
    """The MANIFEST record says which data (dataset, canvas) and which recipe trained it, next to the config."""
    for name, rec in SHIPPED.items():
        setting, policy, _ = parse_checkpoint(name)
        assert rec["dataset"] == SETTINGS[setting]["dataset"] and rec["canvas"] == canvas(setting), name
        if "parameters" not in rec:  # the paper's row, trained before records named their recipe
            continue
        assert rec["optimizer"] in ("adam", "sgd") and rec["parameters"] > 0 and rec["seed"] == parse_checkpoint(name)[2]
        if policy != "convnet":
            assert {"reinforce_core", "loc_range", "start", "baseline", "std"} <= set(rec["config"]), name


def test_the_lever_table_names_every_lever_the_issue_asks_for():
    import csv

    rows = list(csv.DictReader(asset_path("ram/levers.csv").open()))
    assert {r["lever"] for r in rows} >= {"base", "location range", "optimizer", "REINFORCE into the core", "σ",
                                          "first location", "glimpses", "baseline"}
    assert all(r["command"].startswith("PYTHONPATH=. python tools/train_ram.py translated_2scales_t3") for r in rows)
    assert all(0 <= float(r["accuracy"]) <= 1 and 0 <= float(r["in_box_share"]) <= 1 for r in rows)


def test_splits_never_share_a_digit_between_training_and_heldout():
    from labkit.data import mnist

    x, y = mnist.quick_digits()
    train_idx, test_idx = mnist.split_holdout(y, 0.2, seed=0)
    assert not set(train_idx) & set(test_idx) and len(test_idx) == 1000
    s = splits("translated")
    assert len(s["fit"].labels) == 3600 and len(s["val"].labels) == 400 and len(s["test"].labels) == 1000
    assert s["test"].images.shape[1:] == (60, 60) and s["test"].boxes.shape == (1000, 4)


def test_unknown_setting_and_missing_checkpoint_are_clear_errors():
    from labkit.core.errors import AssetError

    with pytest.raises(ValueError, match="unknown RAM setting"):
        splits("sideways")
    with pytest.raises(AssetError, match="train it: PYTHONPATH=. python tools/train_ram.py translated"):
        load_pretrained("translated", "learned", seed=99)
    assert set(SETTINGS) >= {"mnist28", "translated", "cluttered"}
