"""The video models' held-out protocol (notebooks 05 and 07): run an attention-LSTM or a transformer over the
bundled event videos of a split and score its classes and where its attention over time fell.

Why here: the predictions, α per video cut to its own frames and the frames that show a label digit are what
:mod:`labkit.metrics.temporal_attention` scores; producing them means running the model, which a metric must not.
"""

from __future__ import annotations

from torch import nn
from torch.utils.data import DataLoader

from labkit.data import yt8m
from labkit.data.event_videos import event_dataset, informative, preload, split_ids
from labkit.metrics.temporal_attention import video_figures
from labkit.models.attention_lstm import predict


def predict_split(model: nn.Module, split: str, items: list | None = None, batch_size: int = 100) -> dict:
    """Scores (N, 10), labels (N, 10), ids, lengths, α per video (T_i,) and its informative mask, in record order.
    ``model``: an ``AttentionLSTM`` or a ``VideoTransformer`` (its α is the last layer's [CLS] row, head mean)."""
    items = items if items is not None else preload(event_dataset(split))
    ids = list(split_ids(split)[:len(items)])
    lengths = [int(it["length"]) for it in items]
    loader = DataLoader(items, batch_size=batch_size, collate_fn=yt8m.collate_frames)
    scores, labels, alphas = predict(model, loader, return_attention=True)
    rows = [r for a in alphas for r in a["rgb"].numpy()]
    alpha = [r[:t] for r, t in zip(rows, lengths, strict=True)]
    return {"ids": ids, "lengths": lengths, "scores": scores, "labels": labels, "alpha": alpha,
            "informative": informative(ids, lengths) if split != "train" else None}


def heldout_figures(model: nn.Module, split: list, *, batch_size: int = 100) -> dict[str, float]:
    """GAP, Hit@1, PERR and the attention mass on the informative frames of ``model`` on the test videos ``split``
    (``preload(event_dataset("test"))``, or its first records): what a checkpoint records and its test recomputes."""
    p = predict_split(model, "test", split, batch_size)
    return video_figures(p["scores"], p["labels"], p["alpha"], p["informative"])

