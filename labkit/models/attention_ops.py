"""Attention maths shared by the attention models (AMNet, Attention-LSTM, SA-LSTM); no model lives here.

Each model scores its positions (image locations, video frames) its own way, but all of them turn the
scores into weights the same way: a softmax restricted to the positions that exist. One function, so the
three models, and the notebook exercise checked against it, cannot drift apart.
"""

from __future__ import annotations

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
