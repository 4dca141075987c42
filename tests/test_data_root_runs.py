"""Every notebook's ``data_root`` branch, run headless end to end on a small folder in the real dataset's layout.

The quick profile never touches these branches, and full LaMem / MemCat / MNIST / YouTube-8M / MSVD are not
here; without these runs a researcher's first full-scale run would be the first time that code executed.
Budgets are tiny (an epoch or two): the point is that every cell runs and the numbers are well-formed."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT

from labkit.course.runner import run_notebook

NB = ROOT / "notebooks"
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))  # feature caches start empty, as for a new user


def _run(name: str, tmp_path: Path, **params) -> dict:
    return run_notebook(NB / name, params, out_dir=tmp_path / "runs", progress=False).metrics


def _lamem_folder(root: Path, binary: bool) -> Path:
    """LaMem layout from the bundled photos: images/<name>.jpg and splits/{train,test}_1.txt."""
    from labkit.data.images import bundled_images

    (root / "images").mkdir(parents=True)
    (root / "splits").mkdir()
    ims = bundled_images(crops=False)  # 18 real photos
    for im in ims:
        im.load().convert("RGB").save(root / "images" / f"{im.name}.jpg", quality=90)
    labels = [str(i % 2) if binary else f"{0.5 + 0.4 * math.sin(i):.4f}" for i in range(len(ims))]
    rows = [f"{im.name}.jpg {y}\n" for im, y in zip(ims, labels, strict=True)]
    (root / "splits" / "train_1.txt").write_text("".join(rows[:12]))
    (root / "splits" / "test_1.txt").write_text("".join(rows[12:]))
    return root


def test_03_amnet_on_a_lamem_folder_with_0_1_labels(tmp_path):
    """AMNet-Rumor's rumor study: 0/1 split files, regression on them, thresholded at 0.5."""
    m = _run("03_amnet.ipynb", tmp_path, data_root=str(_lamem_folder(tmp_path / "rumor", binary=True)),
             epochs=2, batch_size=4, run_sweep=False)
    assert 0 <= m["accuracy"] <= 1 and 0 <= m["auc"] <= 1 and -1 <= m["rho"] <= 1
    assert len(m["predictions"]) == 6 and m["report"]["0"]["support"] + m["report"]["1"]["support"] == 6
    assert all(v == "passed" for k, v in m.items() if k.startswith("exercise/"))


def test_03_amnet_on_a_lamem_folder_with_memorability_scores(tmp_path):
    """AMNet's own task: LaMem scores in [0, 1], regression only (the 0/1 study needs 0/1 labels)."""
    m = _run("03_amnet.ipynb", tmp_path, data_root=str(_lamem_folder(tmp_path / "lamem", binary=False)),
             task="regression", epochs=2, batch_size=4, run_sweep=False)
    assert -1 <= m["rho"] <= 1 and m["mse"] >= 0 and len(m["predictions_memorability"]) == 6
    assert "accuracy" not in m


def _yt8m_folder(root: Path) -> Path:
    """YouTube-8M frame-level shards: both modalities (rgb 1024 + audio 128 bytes a frame), 3,862-class labels."""
    from labkit.data.yt8m import FrameRecord, write_frame_records

    rng = np.random.default_rng(0)
    base = rng.integers(60, 200, 1024)  # the "average frame"; each class lifts its own quarter of the dims
    root.mkdir()

    def shard(prefix: str, n: int) -> list[FrameRecord]:
        recs = []
        for i in range(n):
            t, cls = int(rng.integers(5, 40)), int(rng.integers(0, 4))
            rgb = np.clip(base + 50 * (np.arange(1024) % 4 == cls) + rng.integers(-20, 20, (t, 1024)), 0, 255)
            recs.append(FrameRecord(f"{prefix}{i:03d}", [cls * 1000 + 7, 3861][: 1 + i % 2],
                                    {"rgb": rgb.astype(np.uint8),
                                     "audio": rng.integers(0, 256, (t, 128)).astype(np.uint8)}))
        return recs

    for name, n in (("train0000", 24), ("train0001", 24), ("validate0000", 16)):
        write_frame_records(root / f"{name}.tfrecord", shard(name, n))
    return root


def test_05_attention_lstm_on_youtube8m_shards(tmp_path):
    m = _run("05_attention_lstm_video.ipynb", tmp_path, data_root=str(_yt8m_folder(tmp_path / "yt8m")),
             num_classes=3862, max_frames=30, epochs=8)
    for k in ("test_hit_at_1", "test_perr", "test_gap"):
        assert 0 <= m[k] <= 1, (k, m)


def test_07_transformer_on_youtube8m_shards(tmp_path):
    m = _run("07_self_attention.ipynb", tmp_path, data_root=str(_yt8m_folder(tmp_path / "yt8m")),
             num_classes=3862, max_frames=30, epochs=3)
    assert 0 <= m["test_gap"] <= 1 and 0 <= m["test_hit_at_1"] <= 1, m
    assert "transformer_gap" not in m and m["mha_max_abs_diff"] <= 1e-6  # the bundled-only goals are skipped


def _msvd_folder(root: Path) -> Path:
    """MSVD: the corpus CSV (several languages, several captions a clip) and features.hdf5 for the 1,970 clips
    of the standard split, in corpus order."""
    from labkit.data.captions import write_h5_features

    rng = np.random.default_rng(0)
    root.mkdir()
    animals, verbs = ["cat", "dog", "man", "woman", "bird"], ["is running", "is eating", "plays a guitar"]
    lines = ["VideoID,Start,End,WorkerID,Source,AnnotationTime,Language,Description"]
    feats = {}
    for i in range(1970):
        vid, a, v = f"clip{i:04d}", i % 5, (i // 5) % 3
        for w in range(2):
            lines.append(f"{vid},{i},{i + 9},{w},clean,5,English,A {animals[a]} {verbs[v]}.")
        lines.append(f"{vid},{i},{i + 9},9,clean,5,German,Ein Tier.")
        f = rng.normal(size=(int(rng.integers(4, 9)), 32)).astype(np.float32)
        f[:, a] += 2.0
        f[:, 10 + v] += 2.0
        feats[f"{vid}_{i}_{i + 9}"] = f
    (root / "MSR Video Description Corpus.csv").write_text("\n".join(lines) + "\n")
    write_h5_features(root / "features.hdf5", feats)
    return root


def test_06_sa_lstm_on_an_msvd_folder(tmp_path):
    m = _run("06_sa_lstm_captioning.ipynb", tmp_path, data_root=str(_msvd_folder(tmp_path / "msvd")), epochs=2)
    for k in ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr"):
        assert m[f"test_{k}"] >= 0, (k, m)


def _idx(path: Path, arr: np.ndarray) -> None:
    """An MNIST IDX file (big-endian header: 0x0000 08 ndim, then the sizes), gzipped as distributed."""
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    path.write_bytes(gzip.compress(header + arr.astype(np.uint8).tobytes(), mtime=0))


def _mnist_folder(root: Path) -> Path:
    from labkit.data.mnist import quick_digits

    x, y = quick_digits()  # sorted by class: shuffle, as the official files are
    pick = np.random.default_rng(0).permutation(len(y))[:800]
    root.mkdir()
    for split, sl in (("train", pick[:600]), ("t10k", pick[600:])):
        _idx(root / f"{split}-images-idx3-ubyte.gz", x[sl])
        _idx(root / f"{split}-labels-idx1-ubyte.gz", y[sl])
    return root


def test_04_ram_on_official_mnist_idx_files(tmp_path):
    m = _run("04_ram.ipynb", tmp_path, data_root=str(_mnist_folder(tmp_path / "mnist")), epochs=1)
    acc = {k: v for k, v in m.items() if k.endswith("accuracy") or "accuracy_mc" in k}
    assert "heldout_accuracy" in acc and all(0 <= v <= 1 for v in acc.values()), m


def test_02_resmem_fine_tunes_and_compares_triplemem_on_a_lamem_folder(tmp_path):
    """LaMem layout, 16 rated images (synthetic PSEUDO scores): the published head fine-tunes, and §8's TripleMem
    comparison runs on the real-data branch (ResMem head, TripleMem, segmentation alone; 60/20/20 split). One run
    covers both (CI time); MemCat's layout is read by the same ``load_real`` through ``load_memcat``, tested in
    ``test_resmem_memcat.py``."""
    m = _run("02_resmem.ipynb", tmp_path, data_root=str(ROOT / "data" / "caffe" / "lamem_fixture"), dataset="lamem",
             epochs=2)
    assert -1 <= m["head_val_spearman_before"] <= 1 and -1 <= m["head_val_spearman_after"] <= 1, m
    table = m["triplemem_comparison"]
    assert set(table) == {"resmem", "triplemem", "segmentation"}, table
    assert all(len(v["test_rho"]) == 1 and -1 <= v["test_rho"][0] <= 1 for v in table.values()), table


def test_01_memnet_on_a_lamem_folder(tmp_path):
    m = _run("01_memnet_caffe_port.ipynb", tmp_path, data_root=str(ROOT / "data" / "caffe" / "lamem_fixture"))
    assert any(k.startswith("spearman_") for k in m) and all(-1 <= v <= 1 for k, v in m.items()
                                                             if k.startswith("spearman_")), m
