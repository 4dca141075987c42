"""The downstream binary study: LaMem-format 0/1 split files, the median-split stand-in, the
prediction CSV, and threshold metrics on hand-computed cases."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from labkit.data.lamem import (
    LaMemFormatError,
    SplitEntry,
    lamem_folder,
    lamem_train_val_test,
    median_split,
    read_split,
    write_predictions,
    write_split,
)
from labkit.metrics.binary import MetricInputError, binary_metrics, roc_auc

FIXTURE = Path(__file__).parent / "fixtures" / "amnet_splits"


def test_fixture_binary_split_reads_exactly():
    entries = read_split(FIXTURE / "splits" / "train_1.txt", binary=True)
    assert entries[:2] == [SplitEntry("rumor/0001.jpg", 1.0), SplitEntry("nonrumor/0002.jpg", 0.0)]
    assert len(entries) == 6 and sum(e.score for e in entries) == 3


def _folder(root: Path, splits: dict[str, list[str]]) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "splits").mkdir()
    for split, labels in splits.items():
        names = [f"{split}_{i}.jpg" for i in range(len(labels))]
        for n in names:
            (root / "images" / n).write_bytes(b"")  # only existence is checked here
        (root / "splits" / f"{split}.txt").write_text("".join(f"{n} {y}\n" for n, y in zip(names, labels, strict=True)))
    return root


def test_validation_is_val_1_or_a_stratified_share_of_train_never_test(tmp_path):
    """The epoch is picked on validation: LaMem's own val_1.txt when there is one, else a seeded share of train_1
    holding both classes; test_1 is never touched."""
    own = _folder(tmp_path / "own", {"train_1": ["0", "1"] * 4, "val_1": ["1", "0", "1"], "test_1": ["0", "1"]})
    paths, y, (tr, va, te) = lamem_train_val_test(own)
    assert [len(tr), len(va), len(te)] == [8, 3, 2] and [p.name for p in np.array(paths)[va]] == ["val_1_0.jpg", "val_1_1.jpg", "val_1_2.jpg"]
    carved = _folder(tmp_path / "carved", {"train_1": ["0", "1"] * 6, "test_1": ["0", "1"]})
    paths, y, (tr, va, te) = lamem_train_val_test(carved)
    assert sorted(y[va]) == [0, 1] and len(tr) == 10 and all(paths[i].name.startswith("test_1") for i in te)
    assert not {paths[i] for i in va} & {paths[i] for i in tr}
    assert lamem_train_val_test(carved)[2][1].tolist() == va.tolist()  # seeded: the same split every run
    tiny = _folder(tmp_path / "tiny", {"train_1": ["0.5", "0.7"], "test_1": ["0.4"]})
    with pytest.raises(LaMemFormatError, match="too few to hold out a validation share"):
        lamem_train_val_test(tiny, binary=False)


def test_score_split_reads_lamem_lines(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("00001.jpg 0.734\n\n00002.jpg 0.5\n")
    assert read_split(p) == [SplitEntry("00001.jpg", 0.734), SplitEntry("00002.jpg", 0.5)]


@pytest.mark.parametrize(
    ("text", "binary", "match"),
    [
        ("a.jpg 0.7\n", True, r":1: binary label must be 0 or 1, got '0.7'"),
        ("a.jpg 1\nb.jpg\n", True, r":2: expected 'relative/path.jpg 0\|1'"),
        ("a.jpg,1\n", True, r"2 fields"),
        ("a.jpg high\n", False, r"score 'high' is not a number"),
        ("a.jpg nan\n", False, r"not finite"),
        ("/abs/a.jpg 1\n", True, r"is absolute.*must be relative"),
        ("../a.jpg 1\n", True, r"goes up with '\.\.'"),
        ("x/../../a.jpg 0.5\n", False, r"goes up with '\.\.'"),
        ("a.jpg 1.5\n", False, r"score 1.5 outside \[0, 1\].*binary=True"),
        ("a.jpg -0.1\n", False, r"outside \[0, 1\]"),
        ("a.jpg inf\n", False, r"not finite"),
        ("a.jpg 1\na.jpg 0\n", True, r"already listed on line 1"),
        ("\n\n", True, r"no entries"),
    ],
)
def test_bad_split_lines_are_named(tmp_path, text, binary, match):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(LaMemFormatError, match=match):
        read_split(p, binary=binary)


def test_write_then_read_round_trip_and_missing_images(tmp_path):
    entries = [SplitEntry("x/1.jpg", 1.0), SplitEntry("x/2.jpg", 0.0)]
    p = write_split(tmp_path / "splits" / "test_1.txt", entries, binary=True)
    assert p.read_text() == "x/1.jpg 1\nx/2.jpg 0\n"
    assert read_split(p, binary=True) == entries
    with pytest.raises(LaMemFormatError, match=r"2 image\(s\) listed in .*test_1.txt are missing"):
        lamem_folder(tmp_path, "test_1")


def test_median_split_is_balanced_and_ties_go_low():
    labels, med = median_split([0.1, 0.9, 0.5, 0.7, 0.3, 0.5])
    assert med == 0.5 and labels.tolist() == [0, 1, 0, 1, 0, 0]
    labels, _ = median_split(np.arange(10.0))
    assert labels.sum() == 5


def test_binary_metrics_on_a_hand_computed_case():
    y = [0, 0, 0, 1, 1, 1]
    s = [0.1, 0.6, 0.3, 0.8, 0.4, 0.9]
    m = binary_metrics(y, s)
    # predictions at 0.5: [0, 1, 0, 1, 0, 1] → 4 of 6 right
    assert m["accuracy"] == pytest.approx(4 / 6)
    # AUC: positive/negative pairs ordered right: 0.8 beats all 3, 0.9 all 3, 0.4 beats 0.1 and 0.3 → 8 of 9
    assert m["auc"] == pytest.approx(8 / 9)
    r = m["report"]
    assert r["1"]["precision"] == pytest.approx(2 / 3) and r["1"]["recall"] == pytest.approx(2 / 3)
    assert r["0"]["f1-score"] == pytest.approx(2 / 3) and r["0"]["support"] == 3
    assert m["confusion"] == [[2, 1], [1, 2]]
    assert binary_metrics(y, s, threshold=0.35)["accuracy"] == pytest.approx(5 / 6)


def test_roc_auc_counts_ties_as_half_and_equals_sklearn():
    """notebook 03's reference. 9 pairs; positives beat negatives at 0.5/0.5 (a tie: ½), 0.9 (3), 0.5 > 0.2, 0.4 > 0.2."""
    from sklearn.metrics import roc_auc_score

    y, s = np.array([1, 0, 1, 0, 1, 0]), np.array([0.5, 0.5, 0.9, 0.2, 0.4, 0.6])
    assert roc_auc(y, s) == pytest.approx(5.5 / 9)
    rng = np.random.default_rng(0)
    for _ in range(50):
        y = np.r_[0, 1, rng.integers(0, 2, 30)]
        s = rng.integers(0, 4, y.size) / 3  # many ties
        assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize(("labels", "scores", "match"), [
    ([1, 1, 1], [0.2, 0.5, 0.9], "both classes"),
    ([0, 2], [0.1, 0.2], "0 or 1"),
    ([0, 1], [0.1], "equal length"),
    ([0, 1], [0.1, float("inf")], "finite"),
    ([], [], "no labels"),
])
def test_roc_auc_refuses_what_it_cannot_score(labels, scores, match):
    with pytest.raises(MetricInputError, match=match):
        roc_auc(labels, scores)


def test_binary_metrics_edge_cases():
    assert math.isnan(binary_metrics([1, 1], [0.7, 0.2])["auc"])
    with pytest.raises(MetricInputError, match="0 or 1"):
        binary_metrics([0, 2], [0.1, 0.2])
    with pytest.raises(MetricInputError, match="equal length"):
        binary_metrics([0, 1], [0.1])
    with pytest.raises(MetricInputError, match="finite"):
        binary_metrics([0, 1], [0.1, float("nan")])


def test_prediction_csv(tmp_path):
    p = write_predictions(tmp_path / "pred.csv", ["a.jpg", "b.jpg"], [0.25, 0.75], [0, 1])
    rows = list(csv.reader(open(p)))
    assert rows == [["name", "prediction", "target"], ["a.jpg", "0.250000", "0.000000"], ["b.jpg", "0.750000", "1.000000"]]
    with pytest.raises(ValueError, match="same length"):
        write_predictions(tmp_path / "x.csv", ["a"], [0.1, 0.2])
