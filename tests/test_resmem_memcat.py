"""labkit.data.memcat on a fixture in the released layout, and its errors on broken copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labkit.data.memcat import MemCatFormatError, load_memcat

FIXTURE = Path(__file__).parent / "fixtures" / "memcat"


@pytest.fixture
def copy(tmp_path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "memcat")
    return tmp_path / "memcat"


def _csv(root: Path) -> Path:
    return root / "data" / "memcat_image_data.csv"


def test_fixture_rows_paths_and_scores():
    rows = load_memcat(FIXTURE)
    assert [r.path.name for r in rows] == ["cat_0001.jpg", "coffee_0007.jpg", "china_0042.jpg", "motorcycle_0003.jpg"]
    assert rows[0].path == FIXTURE / "images" / "animal" / "cat" / "cat_0001.jpg"
    assert [r.score for r in rows] == [0.775, 0.641, 0.498, 0.887]  # the last column, not the _wo_ one
    assert rows[2].category == "landscape" and rows[2].subcategory == "building"
    assert len(load_memcat(FIXTURE, limit=2)) == 2


def test_csv_without_index_column_reads_the_same(copy):
    lines = _csv(copy).read_text().splitlines()
    _csv(copy).write_text("\n".join(line.split(",", 1)[1] for line in lines) + "\n")
    assert [r.score for r in load_memcat(copy)] == [r.score for r in load_memcat(FIXTURE)]


def test_wrong_root_names_the_expected_file(tmp_path):
    with pytest.raises(MemCatFormatError, match="memcat_image_data.csv not found"):
        load_memcat(tmp_path)


def test_score_must_be_the_last_column(copy):
    lines = _csv(copy).read_text().splitlines()
    lines[0] = lines[0].replace("memorability_wo_fa_correction,memorability_w_fa_correction", "a,b")
    _csv(copy).write_text("\n".join(lines) + "\n")
    with pytest.raises(MemCatFormatError, match="lacks column"):
        load_memcat(copy)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("0.775\n", "high\n", "not a number"),
        ("0.775\n", "7.75\n", "outside"),
        ("0.775\n", "0.775,extra\n", "fields"),
        ("cat_0001.jpg", "cat_9999.jpg", "does not exist"),
        ("cat_0001.jpg", "../../../data/memcat_image_data.csv", r"goes up with '\.\.'"),  # a file that exists
        ("cat_0001.jpg", "/etc/hostname", "is absolute"),
        (",animal,cat,", ",animal,/tmp,", "is absolute"),
    ],
)
def test_broken_rows_name_the_line(copy, old, new, message):
    _csv(copy).write_text(_csv(copy).read_text().replace(old, new, 1))
    with pytest.raises(MemCatFormatError, match=rf":2: .*{message}"):
        load_memcat(copy)


def test_missing_images_can_be_skipped_on_purpose(copy):
    shutil.rmtree(copy / "images")
    assert len(load_memcat(copy, check_files=False)) == 4
