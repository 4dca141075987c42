"""LaMem split loader on the bundled fixture (exact LaMem format) and on malformed files."""

import numpy as np
import pytest

from labkit import asset_path
from labkit.caffe import CaffeTransform
from labkit.data.lamem import LaMemDataset, LaMemFormatError, read_split


def _root():
    return asset_path("caffe/lamem_fixture/splits/test_1.txt").parents[1]


def test_fixture_split_reads_in_order():
    rows = read_split(_root() / "splits" / "test_1.txt")
    assert len(rows) == 16 and rows[0][0] == "02/img_024.jpg"
    assert rows[0][1] == pytest.approx(0.6338)


def test_dataset_yields_transformed_images_and_scores():
    ds = LaMemDataset(_root(), "train_1", CaffeTransform(mean=[104, 117, 123], resize=64, crop=51))
    x, y = ds[3]
    assert x.shape == (3, 51, 51) and y == ds.scores[3] and len(ds) == 24


@pytest.mark.parametrize("line,msg", [("a.jpg", "expected"), ("a.jpg 0,5", "not a number"),
                                      ("a.jpg 0.5 extra", "expected"), ("a.jpg nan", "not finite")])
def test_malformed_lines_name_file_and_line(tmp_path, line, msg):
    p = tmp_path / "train_1.txt"
    p.write_text(f"ok.jpg 0.7\n{line}\n")
    with pytest.raises(LaMemFormatError, match=f"train_1.txt:2: .*{msg}"):
        read_split(p)


def test_missing_images_are_reported(tmp_path):
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "test_1.txt").write_text("x/y.jpg 0.5\n")
    with pytest.raises(LaMemFormatError, match="x/y.jpg"):
        LaMemDataset(tmp_path, "test_1")


def test_scores_array():
    assert np.all(LaMemDataset(_root(), "test_1").scores >= 0.2)
