"""The shipped SA-LSTM checkpoints (``data/captions/``): their settings, their vocabulary, and loading them.

Why a module of its own: ``tools/train_sa_lstm.py`` trains each checkpoint once, notebook 06 draws its table and
attention figures from them and ``tests/test_caption_checkpoints.py`` recomputes their held-out figures; all three
must agree on the sizes, the vocabulary (its word order is the checkpoint's embedding and output rows, so it is
stored in the MANIFEST training record, never rebuilt from the captions) and the decoding settings.

Data: the bundled captions of constructed digit-event videos (:func:`labkit.data.captions.load_event_captions`):
2,500 training videos, 200 validation videos that pick the epoch, 300 test videos whose digits neither the frame
encoder nor the decoder ever saw.
"""

from __future__ import annotations

from pathlib import Path

from labkit.data.captions import Vocabulary
from labkit.models import shipped as shipped_registry
from labkit.models.sa_lstm import CONTEXTS, SALSTM, SALSTMConfig

# Sizes of the shipped decoders (SA-LSTM on MSVD: embed 468, hidden 512, attention 256, dropout 0.5).
SETTINGS: dict = {"embed": 64, "hidden": 128, "attention_dim": 64, "dropout": 0.2}
MAX_LEN = 20  # longest decoded caption, in tokens
BEAM_WIDTH = 3  # the held-out beam figures' width (SA-LSTM: 5)
MIN_COUNT = 2  # the vocabulary keeps training words seen at least this often


def _build(record: dict, contents: dict, path: Path) -> SALSTM:
    return SALSTM(SALSTMConfig(**record["config"]))


FAMILY = shipped_registry.register(shipped_registry.Family(
    "captions", "sa_lstm", "SA-LSTM", _build,
    lambda context, seed: f"PYTHONPATH=. python tools/train_sa_lstm.py {context} --seed {seed} --register"))


def checkpoint_name(context: str = "attention", seed: int = 0) -> str:
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS}, got {context!r}")
    return FAMILY.name(context, seed)


def shipped() -> dict[str, dict]:
    """Every SA-LSTM checkpoint in ``data/captions`` with its training record (command, wall time, vocabulary,
    held-out figures)."""
    return FAMILY.shipped()


def load_pretrained(context: str = "attention", seed: int = 0) -> tuple[SALSTM, Vocabulary]:
    """A shipped checkpoint as an eval-mode :class:`SALSTM` built from its recorded configuration, and the
    vocabulary it was trained with."""
    name = checkpoint_name(context, seed)
    return FAMILY.load(context, seed), Vocabulary.from_dict({"itos": shipped_registry.record(name)["vocab"]})
