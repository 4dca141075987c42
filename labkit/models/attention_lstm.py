"""Attention-LSTM video classifier (PaddleVideo's AttentionLSTM; Long et al. 2018 "Attention Clusters";
Ng et al. 2015 "Beyond Short Snippets").

For every modality m (YouTube-8M: ``rgb`` 1024-d, ``audio`` 128-d per second)::

    e_t = tanh(W_m x_t)                               embedding,   (B, T, E)
    h_t = [LSTM→(e)_t ; LSTM←(e)_t]                   BiLSTM,      (B, T, 2H)
    α_t = softmax_t(w_m·h_t) over the valid frames    attention,   (B, T)   padded frames get exactly 0
    z_m = Σ_t α_t h_t                                 pooled,      (B, 2H)

then ``[z_rgb; z_audio]`` → FC + ReLU → FC + tanh → FC to the classes (sigmoid cross-entropy, multi-label).
Two ablations replace the pooling, all else equal:

* ``pooling="mean"``: α_t = 1/length over the valid frames (every second counts the same);
* ``pooling="last"``: no pooling over time at all, ``z = [h→_{T_i} ; h←_1]``: the forward LSTM's final state at
  each video's own last frame T_i and the backward LSTM's final state (which has read the video from T_i back to
  its first frame), i.e. the LSTM's ``h_n`` (Ng et al. 2015's LSTM baseline reads the last step the same way).
  Its α marks the two states read, ½ each (last and first frame; a single frame gets 1); it is not a weighting.

The LSTM runs on packed sequences, so the backward direction starts at each video's own last frame, never on
padding, and the forward direction's ``h_n`` is its state at that frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from labkit.models.attention_ops import masked_softmax  # also notebook 05's reference for its exercise

POOLINGS = ("attention", "mean", "last")


@dataclass
class AttentionLSTMConfig:
    """Model sizes; ``full()`` is PaddleVideo's YouTube-8M configuration, ``quick()`` a CPU-sized one."""

    features: dict[str, int] = field(default_factory=lambda: {"rgb": 1024, "audio": 128})
    num_classes: int = 3862
    embedding: int = 512
    hidden: int = 1024  # per direction
    fc: tuple[int, ...] = (8192, 4096)  # first ReLU, the rest tanh (PaddleVideo)
    dropout: float = 0.5
    pooling: str = "attention"
    prior_init: bool = True  # start every class at probability 1/num_classes (see AttentionLSTM)

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not self.features:
            raise ValueError("features must name at least one modality, e.g. {'rgb': 1024}")
        for name, v in [("num_classes", self.num_classes), ("embedding", self.embedding), ("hidden", self.hidden)]:
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")

    @classmethod
    def full(cls, **kw) -> AttentionLSTMConfig:
        """PaddleVideo / YouTube-8M: embedding 512, LSTM 1024 per direction, FC 8192 → 4096 → 3862."""
        return cls(**kw)

    @classmethod
    def quick(cls, **kw) -> AttentionLSTMConfig:
        """A model that trains in seconds on CPU: embedding 256, LSTM 64 per direction, FC 128, dropout 0.5."""
        base = dict(embedding=256, hidden=64, fc=(128,), dropout=0.5)
        base.update(kw)
        return cls(**base)


class ModalityEncoder(nn.Module):
    """One modality: projection e_t = tanh(W x_t), BiLSTM h_t, pooling to z (attention, masked mean or last state)."""

    def __init__(self, in_dim: int, embedding: int, hidden: int, dropout: float, pooling: str) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, embedding)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.score = nn.Linear(2 * hidden, 1)  # w: one attention logit per time step
        self.pooling = pooling

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, T, D), mask (B, T) bool → z (B, 2H), α (B, T) (rows sum to 1, zeros on padding)."""
        b, t, _ = x.shape
        lengths = mask.sum(1)  # (B,)
        if bool((lengths == 0).any()):
            raise ValueError("every video needs at least one valid frame (a mask row is all False)")
        e = torch.tanh(self.proj(x))  # (B, T, E)
        packed = pack_padded_sequence(e, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h, (h_n, _) = self.lstm(packed)  # h_n (2, B, H): each direction's final state, in the batch's order
        if self.pooling == "last":
            z = self.dropout(torch.cat([h_n[0], h_n[1]], dim=1))  # (B, 2H): forward at frame T_i, backward at 1
            alpha = torch.zeros(b, t, dtype=z.dtype, device=z.device)  # (B, T): the two states read, ½ each
            alpha[torch.arange(b), 0] += 0.5
            alpha[torch.arange(b), lengths - 1] += 0.5
            return z, alpha
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=t)  # (B, T, 2H), zeros on padding
        h = self.dropout(h)
        if self.pooling == "attention":
            alpha = masked_softmax(self.score(h).squeeze(-1), mask)  # (B, T), exactly 0 where mask is False
        else:
            alpha = mask.float() / lengths[:, None].float()  # (B, T), uniform over valid frames
        z = torch.bmm(alpha.unsqueeze(1), h).squeeze(1)  # (B, 1, T) @ (B, T, 2H) → (B, 2H)
        return z, alpha


class AttentionLSTM(nn.Module):
    """Per-modality encoders, concatenated, then the fully connected head (logits; apply a sigmoid)."""

    def __init__(self, config: AttentionLSTMConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.encoders = nn.ModuleDict(
            {m: ModalityEncoder(d, c.embedding, c.hidden, c.dropout, c.pooling) for m, d in c.features.items()}
        )
        layers: list[nn.Module] = []
        width = 2 * c.hidden * len(c.features)
        for i, w in enumerate(c.fc):
            layers += [nn.Linear(width, w), nn.ReLU() if i == 0 else nn.Tanh()]
            width = w
        layers.append(nn.Linear(width, c.num_classes))
        if c.prior_init:
            # With 3,862 sigmoid outputs starting at p ≈ 0.5, the first updates only push every class down (a
            # summed loss ≈ 2,600 a video) and can leave the hidden layers saturated before any class signal is
            # learnt. Starting each output at p = 1/C (Lin et al. 2017, "Focal Loss", prior initialisation)
            # skips that phase; PaddleVideo does not, and recovers from it with millions of videos.
            nn.init.constant_(layers[-1].bias, -math.log(max(c.num_classes - 1, 1)))
        self.head = nn.Sequential(*layers)

    def forward(
        self, batch: Mapping[str, Tensor], return_attention: bool = False
    ) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """``batch`` holds each modality (B, T, D) and ``mask`` (B, T) bool → logits (B, C)
        (and, with ``return_attention``, α per modality (B, T))."""
        missing = [m for m in self.encoders if m not in batch]
        if missing or "mask" not in batch:
            raise KeyError(f"batch lacks {missing + ([] if 'mask' in batch else ['mask'])}; has {sorted(batch)}")
        mask = batch["mask"].bool()
        zs, alphas = [], {}
        for m, enc in self.encoders.items():
            x = batch[m]
            if x.shape[-1] != self.config.features[m]:
                raise ValueError(f"modality {m!r} has {x.shape[-1]} features per frame, the model expects "
                                 f"{self.config.features[m]}")
            z, alphas[m] = enc(x, mask)
            zs.append(z)
        logits = self.head(torch.cat(zs, dim=1))  # (B, 2H·M) → (B, C)
        return (logits, alphas) if return_attention else logits


def bce_step(model: AttentionLSTM, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``labkit.train.fit`` step: sigmoid cross-entropy summed over classes, averaged over videos."""
    logits = model(batch)
    loss = nn.functional.binary_cross_entropy_with_logits(logits, batch["labels"], reduction="sum") / len(logits)
    return {"loss": loss}


@torch.inference_mode()
def predict(model: AttentionLSTM, loader, return_attention: bool = False):
    """Sigmoid scores (N, C) and labels (N, C) over a DataLoader (eval mode), plus α per modality if asked."""
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    scores, labels, alphas = [], [], []
    for batch in loader:
        batch = {k: v.to(dev) for k, v in batch.items()}
        logits, a = model(batch, return_attention=True)
        scores.append(torch.sigmoid(logits).cpu())
        labels.append(batch["labels"].cpu())
        alphas.append({m: v.cpu() for m, v in a.items()})
    model.train(was_training)
    out = (torch.cat(scores).numpy(), torch.cat(labels).numpy())
    return (*out, alphas) if return_attention else out
