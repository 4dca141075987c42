"""The shipped transformer checkpoints (``data/video/transformer_<task>_<positions>_s<seed>.pt``): sizes and loading.

Why a module of its own: ``tools/train_video_transformer.py`` trains each checkpoint once, notebook 07 draws its
figures from them and ``tests/test_transformer_checkpoints.py`` recomputes their held-out figures; all three must
agree on the model sizes. The videos are :mod:`labkit.data.event_videos` (``events``: notebook 05's event videos;
``order``: notebook 06's sequence videos, label = the first digit).
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from labkit.data.event_videos import FEATURES, NUM_CLASSES
from labkit.models import shipped as shipped_registry
from labkit.models.transformer import POSITIONS, TransformerConfig, VideoTransformer

TASKS = ("events", "order")
SEEDS = (0, 1, 2)


def model_config(positions: str = "sinusoidal", **overrides) -> TransformerConfig:
    """The shipped checkpoints' configuration, the same for both tasks: :class:`TransformerConfig`'s defaults
    (d 64, 4 heads, 2 layers, feed-forward 192, dropout 0.1) on the 32 frame features and 10 digit classes."""
    return TransformerConfig(**{"features": dict(FEATURES), "num_classes": NUM_CLASSES, "positions": positions,
                                **overrides})


def _build(record: dict, contents: dict, path: Path) -> VideoTransformer:
    known = {f.name for f in fields(TransformerConfig)}
    return VideoTransformer(TransformerConfig(**{k: v for k, v in record["config"].items() if k in known}))


FAMILY = shipped_registry.register(shipped_registry.Family(
    "video", "transformer", "transformer", _build,
    lambda variant, seed: "PYTHONPATH=. python tools/train_video_transformer.py {} --positions {} --seed {}".format(
        *variant.split("_", 1), seed)))


def checkpoint_name(task: str = "events", positions: str = "sinusoidal", seed: int = 0) -> str:
    return FAMILY.name(f"{task}_{positions}", seed)


def shipped() -> dict[str, dict]:
    """Every transformer checkpoint in ``data/video`` with its training record (command, wall time, figures)."""
    return FAMILY.shipped()


def load_pretrained(task: str = "events", positions: str = "sinusoidal", seed: int = 0) -> VideoTransformer:
    """A shipped checkpoint as an eval-mode model, built from the configuration recorded when it was trained."""
    if task not in TASKS or positions not in POSITIONS:
        raise ValueError(f"task must be one of {TASKS} and positions one of {POSITIONS}, got {task!r}, {positions!r}")
    return FAMILY.load(f"{task}_{positions}", seed)
