"""The transformer's held-out protocol (notebook 07): its classes and where each head's [CLS] attention fell, on
the constructed event videos (``task="events"``) and on the order task (``task="order"``).

Why here: scoring runs the model (metrics must not); the arrays it produces are scored by the same pure functions
as notebook 05's BiLSTM (:mod:`labkit.metrics.temporal_attention`, :mod:`labkit.metrics.yt8m`), so the two
chapters' figures mean the same thing.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from labkit.data import event_videos, yt8m
from labkit.eval.video import predict_split
from labkit.metrics.temporal_attention import informative_mass, median_mass_ratio, video_figures
from labkit.metrics.yt8m import gap, hit_at_one
from labkit.models.attention_lstm import predict
from labkit.models.transformer import VideoTransformer, cls_attention
from labkit.models.transformer_pretrained import TASKS


@torch.inference_mode()
def head_attention(model: VideoTransformer, items: list, batch_size: int = 100) -> list[np.ndarray]:
    """Per video, the [CLS] token's weights over its own frames in every layer and head, (L, h, T_i), each row
    renormalised over the frames (:func:`labkit.models.transformer.cls_attention`); eval mode, record order."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(items), batch_size):
        batch = yt8m.collate_frames(items[start:start + batch_size])
        _, weights = model.encode(batch[model.modality], batch["mask"])
        rows = cls_attention(weights).numpy()  # (B, L, h, T)
        out += [r[..., :int(t)] for r, t in zip(rows, batch["length"], strict=True)]
    model.train(was_training)
    return out


def head_mass_ratios(rows: list[np.ndarray], informative: list[np.ndarray]) -> np.ndarray:
    """(L, h): each head's median over videos of its [CLS] mass on the informative frames ÷ their share of the
    frames (1 = uniform), from :func:`head_attention`'s rows; the per-head form of 05's median mass ratio."""
    layers, heads = rows[0].shape[:2]
    out = np.empty((layers, heads))
    for layer in range(layers):
        for head in range(heads):
            ratio = informative_mass([r[layer, head] for r in rows], informative)["ratio"]
            out[layer, head] = np.median(ratio[np.isfinite(ratio)])
    return out


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def validation_row(model: VideoTransformer, task: str, items: list) -> dict[str, float]:
    """What ``fit`` logs after each epoch: the monitored validation figure (GAP on ``events``, accuracy on
    ``order``); on ``events`` also the [CLS] mass ratio, so the curve shows where attention goes too."""
    _check_task(task)
    if task == "events":
        p = predict_split(model, "val", items)
        return {"val_gap": gap(p["scores"], p["labels"]), "val_mass_ratio": median_mass_ratio(p["alpha"], p["informative"])}
    scores, labels = predict(model, DataLoader(items, batch_size=100, collate_fn=yt8m.collate_frames))
    return {"val_acc": hit_at_one(scores, labels)}


def heldout_figures(model: VideoTransformer, split: list, *, task: str = "events",
                    batch_size: int = 100) -> dict:
    """The figures a notebook-07 checkpoint is judged by, on the test items ``split`` (the preloaded test videos
    of ``task``, or their first records), rounded to 4 decimals: 05's video figures (``events``) or the accuracy
    (``order``), plus ``head_mass_ratio`` (L × h lists) and the best head's ratio."""
    _check_task(task)
    if task == "events":
        p = predict_split(model, "test", split, batch_size)
        out = video_figures(p["scores"], p["labels"], p["alpha"], p["informative"])
        informative = p["informative"]
    else:
        scores, labels = predict(model, DataLoader(split, batch_size=batch_size, collate_fn=yt8m.collate_frames))
        out = {"accuracy": round(hit_at_one(scores, labels), 4)}
        informative = event_videos.order_informative("test", len(split))
    ratios = head_mass_ratios(head_attention(model, split, batch_size), informative)
    out["head_mass_ratio"] = np.round(ratios, 4).tolist()
    out["best_head_mass_ratio"] = round(float(ratios.max()), 4)
    return out
