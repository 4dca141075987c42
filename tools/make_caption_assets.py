"""Build notebook 06's bundled data: captions of **constructed digit-event videos** → frame-encoder features in
``data/captions/digit_event_captions.npz`` (≈ 2.9 MB) and the whitening basis ``events_pca.npz``, both registered in
``data/captions/MANIFEST.json``.

    PYTHONPATH=. python tools/make_caption_assets.py      # ≈ 30 s on one core

Decisions:
* Videos from :mod:`labkit.data.digit_events` with ``task="sequence"``: two real MNIST digits of different classes,
  each visible for 3–5 frames, one after the other, in 12–20 frames that all carry 4 pieces of clutter. Train
  videos use the frame encoder's training digits, val its validation digits, test the 1,000 digits it never saw.
* Frame features: notebook 04's shipped convnet, frozen (:func:`labkit.models.frame_encoder.frame_features`, 32-d),
  then whitened by a PCA 32 → 32 fitted on the training frames only (``FramePCA(32, whiten=True)``, shipped as
  ``events_pca.npz`` so a test can recompute frames from pixels). Stored float16, frames of all videos
  concatenated (``lengths`` splits them), no padding.
* ``meta["encoder_ceiling"]``: per split, the share of videos whose two digits the frame encoder's own classifier
  reads right from the mean feature of each digit's visible frames — about what a decoder with perfect attention
  could reach through these features (notebook 06 compares its digit accuracy with it).
* Each video's digit events ``(digit, start, stop)`` are stored too: captions are re-made from them by
  :func:`labkit.data.captions.caption_event_video` (the text is never stored), and the grounding metric needs them.
  Every video can also be re-made from its id with ``event_video_from_id(id, config)`` for display.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.core.assets import data_dir, register  # noqa: E402
from labkit.data.captions import EVENTS_ASSET, EVENTS_PCA  # noqa: E402
from labkit.data.digit_events import EventConfig, make_event_video  # noqa: E402
from labkit.data.frame_pca import FramePCA  # noqa: E402
from labkit.models.frame_encoder import FEATURE_DIM, frame_features, load_frame_encoder  # noqa: E402

GROUP = "captions"
CONFIG = EventConfig(task="sequence", length=(12, 20), window=(3, 5))
SIZES = {"train": 2500, "val": 200, "test": 300}
RESTORE = "PYTHONPATH=. python tools/make_caption_assets.py"
LICENSE = "MNIST: CC BY-SA 3.0 (LeCun, Cortes, Burges); features: derived"


@torch.inference_mode()
def _encoder_ceiling(encoder, raw: list[np.ndarray], events: list, split_of: list[str]) -> dict[str, float]:
    """Share of each split's videos whose two digits the frame encoder's own classifier reads right from the mean
    feature of the frames where each is visible: what a decoder with perfect attention could reach through it."""
    right: dict[str, list[bool]] = {}
    for f, ev, split in zip(raw, events, split_of, strict=True):
        reads = [int(encoder.fc(torch.from_numpy(f[a:b].mean(0))).argmax()) == d for d, a, b in ev]
        right.setdefault(split, []).append(all(reads))
    return {k: round(float(np.mean(v)), 4) for k, v in right.items()}


def build(out: Path) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    encoder = load_frame_encoder()
    ids, lengths, split_of, events, raw = [], [], [], [], []
    for split, n in SIZES.items():
        for k in range(n):
            v = make_event_video(k, split, CONFIG)
            ids.append(v.id)
            lengths.append(len(v.frames))
            split_of.append(split)
            events.append([(e.digit, e.start, e.stop) for e in v.events])
            raw.append(frame_features(v.frames, encoder))
    ceiling = _encoder_ceiling(encoder, raw, events, split_of)
    lengths_a = np.array(lengths, dtype=np.int16)
    allf = np.concatenate(raw)  # (frames, 32)
    is_train = np.repeat(np.array(split_of) == "train", lengths_a)
    pca = FramePCA(FEATURE_DIM, whiten=True).fit(allf[is_train])
    feats = pca.transform(allf).astype(np.float16)
    meta = {"generator": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(CONFIG).items()},
            "constructed": "digit-event videos (labkit.data.digit_events, task sequence): two MNIST digits of "
                           "different classes shown one after the other among clutter frames",
            "encoder": "notebook 04's convnet (data/ram/convnet_cluttered_s0.pt), frozen, 32 max-pooled channels",
            "standardisation": f"PCA {FEATURE_DIM} -> {FEATURE_DIM} whitened, fitted on the training frames",
            "sizes": SIZES, "frames": int(lengths_a.sum()),
            "encoder_ceiling": ceiling}
    out.mkdir(parents=True, exist_ok=True)
    pca.save(out / Path(EVENTS_PCA).name)
    np.savez_compressed(out / Path(EVENTS_ASSET).name, feats=feats, lengths=lengths_a, ids=np.array(ids),
                        split=np.array(split_of), events=np.array(events, dtype=np.int16),
                        meta=np.array(json.dumps(meta)))
    if out.resolve() == (data_dir() / GROUP).resolve():
        register(EVENTS_ASSET, "constructed digit-event videos (labkit.data.digit_events, sequence task) through "
                 "the frozen frame encoder and a whitening PCA, made by tools/make_caption_assets.py", LICENSE, RESTORE)
        register(EVENTS_PCA, "whitening PCA basis of the digit-event training frames' frame-encoder features, "
                 "fitted by tools/make_caption_assets.py", "derived", RESTORE)
    print(json.dumps(meta))
    return meta


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else data_dir() / GROUP)
