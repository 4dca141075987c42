"""A small transformer encoder over frame features (notebook 07; Vaswani et al. 2017, "Attention Is All You Need").

For every video, x_t (T, D) frame features::

    e_t = W x_t + p_t                     projection plus position p_t (sinusoidal, learned, or none)
    s   = [CLS; e_1 … e_T]                a learned [CLS] token in front (Devlin et al. 2019)
    s  ← s + MHA(LN(s))                    pre-LN encoder layers (Xiong et al. 2020): self-attention over the valid
    s  ← s + FF(LN(s))                     tokens only (padding is masked as keys) and a ReLU feed-forward block
    logits = W_c LN(s_CLS)                 the [CLS] token's final state reads out the classes

Why this shape: it is notebook 05's video classifier with the BiLSTM + attention pooling replaced by self-attention,
all else equal (the same 32 frame features, the same head's prior initialisation, the same loss), so the two can be
compared at the same input and a similar parameter count. [CLS] pooling is attention pooling done *inside* the
encoder: the [CLS] row of the last layer's attention plays the part of 05's α.

The layers' parameter names are ``torch.nn.TransformerEncoderLayer``'s (``self_attn.in_proj_weight``, ``linear1``,
``norm1``, …) and :class:`MultiHeadAttention`'s are ``torch.nn.MultiheadAttention``'s, so either loads the other's
``state_dict`` and the tests compare outputs with PyTorch's own modules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from labkit.models.attention_ops import scaled_dot_product

POSITIONS = ("sinusoidal", "learned", "none")


class MultiHeadAttention(nn.Module):
    """h heads of scaled dot-product attention, concatenated and projected: ``torch.nn.MultiheadAttention``'s maths
    and parameter layout (``in_proj_weight`` (3E, E) stacks W_q, W_k, W_v; ``out_proj``), with the weights returned
    per head.

    Masks say where a query **may** look (True = attend), as ``masked_softmax`` does elsewhere in the course;
    PyTorch's ``key_padding_mask`` is the opposite (True = ignore)."""

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
        self.d_model, self.heads, self.dropout = d_model, heads, dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        nn.init.xavier_uniform_(self.in_proj_weight)  # PyTorch's initialisation, so training starts alike
        nn.init.zeros_(self.out_proj.bias)

    def _split(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape  # (B, T, E) → (B, h, T, E/h)
        return x.view(b, t, self.heads, self.d_model // self.heads).transpose(1, 2)

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None,
                key_mask: Tensor | None = None, attn_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """query (B, Tq, E), key/value (B, Tk, E) (default: the query, i.e. self-attention); ``key_mask`` (B, Tk)
        True on real positions; ``attn_mask`` (Tq, Tk) True where query i may see key j (a causal mask is
        ``torch.ones(T, T).tril().bool()``) → out (B, Tq, E), weights (B, h, Tq, Tk)."""
        key = query if key is None else key
        value = key if value is None else value
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = self._split(nn.functional.linear(query, w_q, b_q))  # (B, h, Tq, d)
        k = self._split(nn.functional.linear(key, w_k, b_k))  # (B, h, Tk, d)
        v = self._split(nn.functional.linear(value, w_v, b_v))  # (B, h, Tk, d)
        mask = None
        if key_mask is not None:
            mask = key_mask[:, None, None, :].bool()  # (B, 1, 1, Tk)
        if attn_mask is not None:
            mask = attn_mask.bool() if mask is None else mask & attn_mask.bool()  # (B, 1, Tq, Tk)
        out, weights = scaled_dot_product(q, k, v, mask, self.dropout, self.training)  # (B, h, Tq, d)
        out = out.transpose(1, 2).reshape(query.shape[0], query.shape[1], self.d_model)  # heads side by side
        return self.out_proj(out), weights


def sinusoidal_positions(length: int, d_model: int) -> Tensor:
    """(length, d_model): PE[t, 2i] = sin(t / 10000^{2i/d}), PE[t, 2i+1] = cos(t / 10000^{2i/d}).

    Why sines: each pair of columns is a clock of its own frequency, so PE[t + k] is a fixed rotation of PE[t]
    and "k frames later" is the same linear map at every t; nothing is learnt, so it extends to any length."""
    t = torch.arange(length, dtype=torch.float32)[:, None]  # (L, 1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)  # (d/2,)
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(t * freq)
    pe[:, 1::2] = torch.cos(t * freq[: d_model // 2])
    return pe


class EncoderLayer(nn.Module):
    """Pre-LN encoder layer, ``nn.TransformerEncoderLayer(norm_first=True, batch_first=True)`` with the attention
    weights handed back: s ← s + MHA(LN₁ s); s ← s + W₂ ReLU(W₁ LN₂ s)."""

    def __init__(self, d_model: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, heads, dropout)
        self.linear1, self.linear2 = nn.Linear(d_model, ff), nn.Linear(ff, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout, self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, s: Tensor, key_mask: Tensor | None = None,
                attn_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """s (B, T, E) → (B, T, E), weights (B, h, T, T)."""
        a, weights = self.self_attn(self.norm1(s), key_mask=key_mask, attn_mask=attn_mask)
        s = s + self.dropout1(a)
        s = s + self.dropout2(self.linear2(self.dropout(torch.relu(self.linear1(self.norm2(s))))))
        return s, weights


@dataclass
class TransformerConfig:
    """Sizes of :class:`VideoTransformer`; the defaults are the shipped checkpoints' (notebook 07)."""

    features: dict[str, int] = field(default_factory=lambda: {"rgb": 32})
    num_classes: int = 10
    d_model: int = 64
    heads: int = 4
    layers: int = 2
    ff: int = 192  # 86,410 parameters: the shipped BiLSTM + attention has 86,603
    dropout: float = 0.1
    positions: str = "sinusoidal"
    max_len: int = 128  # the longest video (in frames) a learned position table covers
    prior_init: bool = True  # start every class at probability 1/num_classes, as notebook 05's model

    def __post_init__(self) -> None:
        if self.positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}, got {self.positions!r}")
        if len(self.features) != 1:
            raise ValueError(f"the transformer reads one modality, got {sorted(self.features)}")
        for name in ("num_classes", "d_model", "heads", "layers", "ff", "max_len"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")
        if self.positions == "sinusoidal" and self.d_model % 2:
            raise ValueError(f"sinusoidal positions need an even d_model, got {self.d_model}")


class VideoTransformer(nn.Module):
    """[CLS] + frames → pre-LN transformer encoder → the [CLS] state → class logits (apply a sigmoid or softmax)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = c = config
        (self.modality, in_dim), = c.features.items()
        self.proj = nn.Linear(in_dim, c.d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, c.d_model))
        nn.init.normal_(self.cls, std=0.02)
        if c.positions == "learned":
            self.positions = nn.Parameter(torch.zeros(c.max_len + 1, c.d_model))
            nn.init.normal_(self.positions, std=0.02)
        else:  # a buffer: saved with the weights, never trained (all zeros for "none")
            table = sinusoidal_positions(c.max_len + 1, c.d_model) if c.positions == "sinusoidal" \
                else torch.zeros(c.max_len + 1, c.d_model)
            self.register_buffer("positions", table)
        self.layers = nn.ModuleList(EncoderLayer(c.d_model, c.heads, c.ff, c.dropout) for _ in range(c.layers))
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.num_classes)
        if c.prior_init:  # as notebook 05's AttentionLSTM: every class starts at p = 1/C
            nn.init.constant_(self.head.bias, -math.log(max(c.num_classes - 1, 1)))

    def encode(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, T, D), mask (B, T) bool → the [CLS] state (B, E) and every layer's weights (B, L, h, 1+T, 1+T)
        (index 0 is the [CLS] token, 1 … T the frames)."""
        b, t, _ = x.shape
        if t > self.config.max_len:
            raise ValueError(f"{t} frames exceed the model's max_len ({self.config.max_len}); keep fewer frames")
        if bool((mask.sum(1) == 0).any()):
            raise ValueError("every video needs at least one valid frame (a mask row is all False)")
        s = torch.cat([self.cls.expand(b, -1, -1), self.proj(x)], dim=1) + self.positions[: t + 1]  # (B, 1+T, E)
        key_mask = torch.cat([mask.new_ones(b, 1), mask], dim=1).bool()  # (B, 1+T): [CLS] always valid
        weights = []
        for layer in self.layers:
            s, w = layer(s, key_mask)
            weights.append(w)
        return self.norm(s[:, 0]), torch.stack(weights, dim=1)

    def forward(self, batch: Mapping[str, Tensor],
                return_attention: bool = False) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """``batch`` holds the modality (B, T, D) and ``mask`` (B, T) bool → logits (B, C); with
        ``return_attention`` also ``{modality: α (B, T)}``, the last layer's [CLS] attention over the frames,
        averaged over heads and renormalised over the frames (what notebook 05's α is for the BiLSTM), so
        ``labkit.eval.video`` scores both models alike. :func:`cls_attention` gives every layer and head."""
        if self.modality not in batch or "mask" not in batch:
            raise KeyError(f"batch needs {self.modality!r} and 'mask'; has {sorted(batch)}")
        x, mask = batch[self.modality], batch["mask"].bool()
        if x.shape[-1] != self.config.features[self.modality]:
            raise ValueError(f"modality {self.modality!r} has {x.shape[-1]} features per frame, the model expects "
                             f"{self.config.features[self.modality]}")
        z, weights = self.encode(x, mask)
        logits = self.head(z)
        if not return_attention:
            return logits
        return logits, {self.modality: cls_attention(weights)[:, -1].mean(1)}


def cls_attention(weights: Tensor) -> Tensor:
    """Every layer's weights (B, L, h, 1+T, 1+T) → the [CLS] token's weights over the frames (B, L, h, T),
    renormalised to sum to 1 over the frames (the share [CLS] gives itself is left out, so the mass on a frame is
    comparable with an attention-pooling α; padded frames keep exactly 0)."""
    row = weights[..., 0, 1:]  # (B, L, h, T)
    return row / row.sum(-1, keepdim=True).clamp_min(1e-12)


def ce_step(model: VideoTransformer, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``labkit.train.fit`` step for a single-label task (``batch["labels"]`` (B, C) one-hot, as
    :func:`labkit.data.event_videos.order_items` makes them): softmax cross-entropy."""
    return {"loss": nn.functional.cross_entropy(model(batch), batch["labels"].argmax(1))}
