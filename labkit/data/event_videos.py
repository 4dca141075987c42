"""The bundled **constructed** event videos of notebooks 05 and 07 (``data/video/``): splits, records, and which
frames show a digit.

Why a module of its own: ``tools/train_video_attention.py`` and ``tools/train_video_transformer.py`` train on these
videos, notebooks 05 and 07 draw their figures from them and the tests recompute the shipped checkpoints' held-out
figures; all must agree on which records are training, validation and test videos, on how many frames are kept,
and on which frames show a digit.

Data (``tools/make_video_assets.py``): 2,000 training, 300 validation (they pick the epoch) and 500 test videos in
YouTube-8M's frame-level format, 32 quantised features a frame; the frames where each digit is visible are kept,
for the validation and test videos, in ``events_meta.json``.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache

import numpy as np
import torch

from labkit.core.assets import asset_path
from labkit.data import yt8m
from labkit.data.captions import load_event_captions
from labkit.data.digit_events import EventConfig

SPLITS = ("train", "val", "test")
FEATURES = {"rgb": 32}
NUM_CLASSES = 10


@lru_cache(maxsize=1)
def event_meta() -> dict:
    """``events_meta.json``: generator config, split sizes, PCA summary, the frames each digit is visible in."""
    return json.loads(asset_path("video/events_meta.json").read_text())


def event_config() -> EventConfig:
    """The generator settings the bundled videos were made with (any video is re-made from its id with it)."""
    return EventConfig.from_dict(event_meta()["generator"])


def max_frames() -> int:
    """Frames kept per video: all of them (the longest bundled video)."""
    return int(event_meta()["generator"]["length"][1])


def event_dataset(split: str, frames: int | None = None) -> yt8m.YT8MFrameDataset:
    """The bundled TFRecord of ``split`` as a dataset of ``{"rgb": (T, 32), "labels": (10,), "length"}``, keeping
    the first ``frames`` frames of each video (default: all)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return yt8m.YT8MFrameDataset(asset_path(f"video/events_{split}.tfrecord"), NUM_CLASSES, frames or max_frames(),
                                 FEATURES)


def label_prior() -> np.ndarray:
    """(10,) the fraction of training videos that show each digit: the scores of the trivial "label prior" model."""
    return np.asarray(event_meta()["label_frequencies"], dtype=np.float64)


@cache
def split_ids(split: str) -> tuple[str, ...]:
    """The video ids of ``split``, in record order."""
    ds = event_dataset(split)
    return tuple(ds.record(i).id for i in range(len(ds)))


def preload(ds: yt8m.YT8MFrameDataset, limit: int | None = None) -> list[dict[str, torch.Tensor]]:
    """Decode every record once (a few seconds) so that epochs do not re-parse protobuf; a list is a Dataset."""
    return [ds[i] for i in range(len(ds) if limit is None else min(limit, len(ds)))]


def window_mask(length: int, windows) -> np.ndarray:
    """(length,) bool: True on the frames of the ``(digit, start, stop)`` windows (a digit is on screen on frames
    start … stop − 1): what "the informative frames" of a video are, for both kinds of bundled video."""
    mask = np.zeros(length, dtype=bool)
    for _, start, stop in windows:
        mask[start:stop] = True
    return mask


def informative(video_ids: list[str], lengths: list[int]) -> list[np.ndarray]:
    """(T_i,) bool per video: the frames that show one of its label digits (validation and test videos only)."""
    events = {k: v for split in event_meta()["events"].values() for k, v in split.items()}
    missing = [vid for vid in video_ids if vid not in events]
    if missing:
        raise KeyError(f"no event frames recorded for {missing[0]!r}: only the validation and test videos have them")
    return [window_mask(t, events[vid]) for vid, t in zip(video_ids, lengths, strict=True)]


@lru_cache(maxsize=1)
def _sequence_videos() -> dict:
    """Notebook 06's bundled sequence videos without the time column, read once (the order task's items and their
    informative frames both come from them)."""
    return load_event_captions(with_time=False)


def order_items(split: str, limit: int | None = None) -> list[dict[str, torch.Tensor]]:
    """Notebook 07's **order** task on notebook 06's constructed sequence videos (``data/captions``): two distinct
    digits, one after the other; the label is the digit shown **first** (one-hot over 10, so
    :func:`labkit.data.yt8m.collate_frames` batches it). Items: ``{"rgb": (T, 32), "labels": (10,), "length"}``.

    Why this task: both digits are in every video, so a model that only knows *which* digits it saw is right about
    half the time; being right more often needs *when*. The features carry no time column (06's SA-LSTM gets one),
    so the only source of order is the model's positional encoding."""
    data = _sequence_videos()
    if split not in data:
        raise ValueError(f"split must be one of {tuple(data)}, got {split!r}")
    part = data[split] if limit is None else data[split].take(limit)
    out = []
    for vid, feats in zip(part.ids, part.features, strict=True):
        labels = torch.zeros(NUM_CLASSES)
        labels[part.events[vid][0][0]] = 1.0
        out.append({"rgb": torch.tensor(feats), "labels": labels, "length": torch.tensor(len(feats))})  # a copy
    return out


def order_informative(split: str, limit: int | None = None) -> list[np.ndarray]:
    """(T_i,) bool per video of :func:`order_items`: the frames that show one of its two digits."""
    part = _sequence_videos()[split]
    n = len(part.ids) if limit is None else limit
    return [window_mask(len(f), part.events[vid]) for vid, f in zip(part.ids[:n], part.features[:n], strict=True)]
