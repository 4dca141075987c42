"""LaMem split loader on the bundled fixture (exact LaMem format) and on malformed files."""

import numpy as np
import pytest
from PIL import Image

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
                                      ("a.jpg 0.5 extra", "expected"), ("a.jpg nan", "not finite"),
                                      ("a.jpg 73.4", "outside \\[0, 1\\]"), ("../a.jpg 0.5", "goes up"),
                                      ("/tmp/a.jpg 0.5", "is absolute"), ("ok.jpg 0.6", "already listed on line 1")])
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


def test_fixtures_hold_hit_rates_in_0_1():
    """The rule 'scores lie in [0, 1]' is what every bundled LaMem-format file already satisfies."""
    for split in ("train_1", "test_1"):
        scores = LaMemDataset(_root(), split).scores
        assert len(scores) and scores.min() >= 0 and scores.max() <= 1


def test_dataset_refuses_paths_leaving_the_images_folder(tmp_path):
    (tmp_path / "splits").mkdir()
    (tmp_path / "images").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.png")  # exists, but not under images/
    (tmp_path / "splits" / "test_1.txt").write_text("../outside.png 0.5\n")
    with pytest.raises(LaMemFormatError, match=r"test_1.txt:1: image path '../outside.png' goes up"):
        LaMemDataset(tmp_path, "test_1")


def test_16_bit_png_is_scaled_not_white(tmp_path):
    """Image.open(...).convert("RGB") clips a 16-bit PNG at 255 (white); the dataset uses load_image."""
    (tmp_path / "splits").mkdir()
    (tmp_path / "images").mkdir()
    gray = np.full((8, 8), 32896, dtype=np.uint16)  # 128 · 257: mid-grey at 16 bits
    Image.fromarray(gray).save(tmp_path / "images" / "deep.png")
    assert Image.open(tmp_path / "images" / "deep.png").mode.startswith("I")  # really 16-bit on disk
    (tmp_path / "splits" / "test_1.txt").write_text("deep.png 0.5\n")
    img, score = LaMemDataset(tmp_path, "test_1")[0]
    assert img.mode == "RGB" and score == np.float32(0.5)
    assert np.asarray(img).min() == np.asarray(img).max() == 128


def test_non_utf8_split_file_is_a_format_error(tmp_path):
    p = tmp_path / "train_1.txt"
    p.write_bytes(b"a.jpg 0.5\n\xff\xfe 0.1\n")
    with pytest.raises(LaMemFormatError, match="not UTF-8"):
        read_split(p)


def test_per_crop_scores_are_the_ten_views_whose_mean_is_the_10_crop_score():
    import torch

    from labkit.models.memnet import predict_scores

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 5, stride=4), torch.nn.Flatten(), torch.nn.LazyLinear(1))
    ten = LaMemDataset(_root(), "test_1", CaffeTransform(mean=[104, 117, 123], resize=64, crop=51, ten_crop=True))
    one = LaMemDataset(_root(), "test_1", CaffeTransform(mean=[104, 117, 123], resize=64, crop=51))
    net(one[0][0][None])  # materialise the lazy layer
    each = predict_scores(net, ten, batch_size=5, per_crop=True)
    assert each.shape == (16, 10)
    np.testing.assert_allclose(each.mean(1), predict_scores(net, ten, batch_size=5), atol=1e-6)
    np.testing.assert_allclose(each[:, 4], predict_scores(net, one), atol=1e-5)  # view 4 is the centre crop
    with pytest.raises(ValueError, match="needs a 10-crop dataset"):
        predict_scores(net, one, per_crop=True)
