"""The MSVD loader on fixtures in the corpus CSV / HDF5 formats, and the standard split."""

import builtins
from pathlib import Path

import numpy as np
import pytest

from labkit.data.captions import (
    MSVD_SPLITS,
    CaptionFormatError,
    load_msvd,
    read_h5_features,
    read_msvd_csv,
    split_ids,
)

FIX = Path(__file__).parent / "fixtures" / "msvd"


def test_corpus_keys_english_rows_and_quoted_commas():
    corpus = read_msvd_csv(FIX / "corpus.csv")
    assert list(corpus.captions) == ["mv89psg6zh4_33_46", "60x_yxy7Sfw_1_8", "3chEL6q2xs0_120_134"]
    assert corpus.captions["mv89psg6zh4_33_46"] == [
        "A bird is bathing in a sink.", "A bird splashes around under a running faucet, happily."]
    assert corpus.captions["60x_yxy7Sfw_1_8"] == ["A man is slicing a tomato.", "Someone is cutting tomatoes."]
    assert corpus.dropped_empty == 1


@pytest.mark.parametrize("name, msg", [("bad_columns.csv", "missing column"), ("bad_start.csv", "integer Start"),
                                       ("bad_fields.csv", "fields"), ("nope.csv", "does not exist")])
def test_bad_corpus_files(name, msg):
    with pytest.raises(CaptionFormatError, match=msg):
        read_msvd_csv(FIX / name)


def test_standard_split_sizes_and_errors():
    ids = [f"v{i}" for i in range(1970)]
    s = split_ids(ids)
    assert [len(s[k]) for k in ("train", "val", "test")] == list(MSVD_SPLITS) == [1200, 100, 670]
    assert s["train"][0] == "v0" and s["val"][0] == "v1200" and s["test"][-1] == "v1969"
    with pytest.raises(CaptionFormatError, match="needs 1970 clips, got 1969"):
        split_ids(ids[:-1])
    with pytest.raises(CaptionFormatError, match="duplicates"):
        split_ids(["a", "a", "b"], (1, 1, 1))


def test_missing_h5py_is_a_clear_error(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_h5py(name, *a, **k):
        if name == "h5py":
            raise ImportError("no h5py")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(ImportError, match="needs the `h5py` package"):
        read_h5_features(tmp_path / "f.hdf5")


def test_load_msvd_with_hdf5_features(tmp_path):
    import h5py  # noqa: F401 - pinned; a missing install must fail, not skip

    from labkit.data.captions import write_h5_features

    (tmp_path / "corpus.csv").write_bytes((FIX / "corpus.csv").read_bytes())
    feats = {k: np.full((3 + i, 4), i, np.float32)
             for i, k in enumerate(["3chEL6q2xs0_120_134", "mv89psg6zh4_33_46", "60x_yxy7Sfw_1_8"])}
    write_h5_features(tmp_path / "features.hdf5", feats)
    data = load_msvd(tmp_path, "corpus.csv", sizes=(1, 1, 1))
    assert data["train"].ids == ["mv89psg6zh4_33_46"] and data["test"].ids == ["3chEL6q2xs0_120_134"]
    assert data["val"].features[0].shape == (5, 4) and data["val"].features[0][0, 0] == 2
    with pytest.raises(CaptionFormatError, match="no features"):
        read_h5_features(tmp_path / "features.hdf5", ["missing_1_2"])
