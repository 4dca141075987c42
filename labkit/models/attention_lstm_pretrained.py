"""The shipped attention-LSTM checkpoints (``data/video/attention_lstm_*.pt``): their sizes and loading them.

Why a module of its own: ``tools/train_video_attention.py`` trains each checkpoint once, notebook 05 draws its
figures from them and ``tests/test_video_checkpoints.py`` recomputes their held-out figures; all three must agree
on the model sizes. The videos they are trained and scored on are :mod:`labkit.data.event_videos`.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from labkit.data.event_videos import FEATURES, NUM_CLASSES
from labkit.models import shipped as shipped_registry
from labkit.models.attention_lstm import POOLINGS, AttentionLSTM, AttentionLSTMConfig

SEEDS = (0, 1, 2)
# The shipped sizes: the quick model with a 64-d embedding and less dropout (measured on the validation videos)
SIZES = {"embedding": 64, "hidden": 64, "fc": (128,), "dropout": 0.2}


def model_config(pooling: str = "attention", **overrides) -> AttentionLSTMConfig:
    """The shipped checkpoints' configuration (``AttentionLSTMConfig.quick`` with :data:`SIZES`)."""
    return AttentionLSTMConfig.quick(features=dict(FEATURES), num_classes=NUM_CLASSES, pooling=pooling,
                                     **{**SIZES, **overrides})


def _build(record: dict, contents: dict, path: Path) -> AttentionLSTM:
    known = {f.name for f in fields(AttentionLSTMConfig)}
    return AttentionLSTM(AttentionLSTMConfig(**{k: tuple(v) if isinstance(v, list) else v
                                                for k, v in record["config"].items() if k in known}))


FAMILY = shipped_registry.register(shipped_registry.Family(
    "video", "attention_lstm", "attention-LSTM", _build,
    lambda pooling, seed: f"PYTHONPATH=. python tools/train_video_attention.py {pooling} --seed {seed}"))


def checkpoint_name(pooling: str = "attention", seed: int = 0) -> str:
    return FAMILY.name(pooling, seed)


def parse_checkpoint(name: str) -> tuple[str, int]:
    """(pooling, seed) of a shipped checkpoint's name."""
    return FAMILY.parse(name)


def shipped() -> dict[str, dict]:
    """Every attention-LSTM checkpoint in ``data/video`` with its training record (command, wall time, figures)."""
    return FAMILY.shipped()


def load_pretrained(pooling: str = "attention", seed: int = 0) -> AttentionLSTM:
    """A shipped checkpoint as an eval-mode model, built from the configuration recorded when it was trained."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    return FAMILY.load(pooling, seed)
