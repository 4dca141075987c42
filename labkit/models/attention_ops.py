"""Attention maths shared by the attention models (AMNet, Attention-LSTM, SA-LSTM, the transformer); no model lives here.

Each model scores its positions (image locations, video frames) its own way, but all of them turn the
scores into weights the same way: a softmax restricted to the positions that exist. One function, so the
three models, and the notebook exercise checked against it, cannot drift apart.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def masked_softmax(logits: Tensor, mask: Tensor | None = None) -> Tensor:
    """Softmax over the last axis of ``logits`` (B, N), restricted to ``mask`` (B, N) bool (None: all valid).

    Masked positions are set to −∞ *before* the softmax, so they get exactly 0 and each row sums to 1 over
    its valid positions (zeroing after a full softmax would leave rows summing to less than 1).
    ``torch.softmax`` subtracts the row maximum, so large logits do not overflow.

    A row without any valid position would come out as NaNs; the models reject such a mask once per batch,
    on entry, rather than here at every attention step (a check here would wait for the device each step).
    """
    if mask is None:
        return torch.softmax(logits, dim=-1)  # (B, N)
    if logits.shape != mask.shape:
        raise ValueError(f"logits and mask must have the same shape, got {tuple(logits.shape)} and {tuple(mask.shape)}")
    return torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)  # (B, N), exactly 0 where mask is False


def scaled_dot_product(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None,
                       dropout: float = 0.0, training: bool = False) -> tuple[Tensor, Tensor]:
    """softmax(q kᵀ / √d) v over the last two axes (Vaswani et al. 2017): q (..., Tq, d), k (..., Tk, d),
    v (..., Tk, dv), ``mask`` broadcastable to (..., Tq, Tk), True where a query may look → (out (..., Tq, dv),
    weights (..., Tq, Tk)).

    Why √d: with unit-variance entries, q·k has variance d, so without the division the softmax saturates as d grows
    (one key takes all the weight and the gradient through the softmax vanishes); notebook 07 measures it. Same
    maths as ``F.scaled_dot_product_attention``, which fuses it but does not hand back the weights we draw.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Tq, Tk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (..., Tq, Tk), rows sum to 1 over the allowed keys
    dropped = torch.nn.functional.dropout(weights, dropout, training) if dropout else weights
    return dropped @ v, weights


def causal_mask(t: int) -> Tensor:
    """(t, t) bool, True where query i may look at key j, i.e. j ≤ i (a decoder sees only the past). PyTorch's
    ``nn.Transformer.generate_square_subsequent_mask`` is the float form of its negation (−inf above the diagonal)."""
    return torch.ones(t, t, dtype=torch.bool).tril()
