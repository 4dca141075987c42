"""Notebook 07's transformer (labkit.models.transformer): multi-head attention and the encoder layer equal PyTorch's
own modules loaded with the same weights; scaled dot-product attention equals the fused kernel; positions are the
only source of order; the [CLS] weights are a distribution over the real frames; bad sizes are clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from labkit.data import event_videos, yt8m
from labkit.eval.transformer import head_mass_ratios
from labkit.models.attention_ops import causal_mask, scaled_dot_product
from labkit.models.transformer import (
    EncoderLayer,
    MultiHeadAttention,
    TransformerConfig,
    VideoTransformer,
    cls_attention,
    sinusoidal_positions,
)


@pytest.fixture
def x_and_mask():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 9, 32, generator=g)
    mask = torch.ones(4, 9, dtype=torch.bool)
    mask[1, 6:] = False
    mask[2, 2:] = False
    return x, mask


def test_multi_head_attention_equals_torch_with_the_same_weights(x_and_mask):
    x, mask = x_and_mask
    mine = MultiHeadAttention(32, 4).eval()
    ref = nn.MultiheadAttention(32, 4, batch_first=True).eval()
    ref.load_state_dict(mine.state_dict())  # same parameter names and shapes
    out, w = mine(x, key_mask=mask)
    r_out, r_w = ref(x, x, x, key_padding_mask=~mask, average_attn_weights=False)
    assert (out - r_out).abs().max() <= 1e-6 and (w - r_w).abs().max() <= 1e-6
    out, _ = mine(x, attn_mask=causal_mask(9))
    r_out, _ = ref(x, x, x, attn_mask=~causal_mask(9))
    assert (out - r_out).abs().max() <= 1e-6
    y = torch.randn(4, 5, 32)  # cross-attention: 5 queries, 9 keys
    out, w = mine(y, x, x, key_mask=mask)
    r_out, r_w = ref(y, x, x, key_padding_mask=~mask, average_attn_weights=False)
    assert out.shape == (4, 5, 32) and w.shape == (4, 4, 5, 9) and (out - r_out).abs().max() <= 1e-6


def test_scaled_dot_product_equals_the_fused_kernel_and_gives_masked_keys_zero_weight(x_and_mask):
    x, mask = x_and_mask
    q, k, v = x.view(4, 9, 4, 8).transpose(1, 2), x.flip(1).view(4, 9, 4, 8).transpose(1, 2), x.view(4, 9, 4, 8).transpose(1, 2)
    m = mask[:, None, None, :]
    out, w = scaled_dot_product(q, k, v, m)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=m), atol=1e-6)
    assert torch.all(w.masked_select(~m.expand_as(w)) == 0) and torch.allclose(w.sum(-1), torch.ones(4, 4, 9))
    # by hand: one query, two keys, d = 4: scores 2/2 and 0 → weights e/(1+e), 1/(1+e)
    q1, k1 = torch.tensor([[1.0, 1, 1, 1]]), torch.tensor([[0.5, 0.5, 0.5, 0.5], [0, 0, 0, 0]])
    _, w1 = scaled_dot_product(q1, k1, torch.eye(2))
    assert torch.allclose(w1, torch.tensor([[math.e / (1 + math.e), 1 / (1 + math.e)]]))


def test_the_causal_mask_hides_the_future():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    mha = MultiHeadAttention(16, 2).eval()
    x = torch.randn(2, 7, 16)
    y = x.clone()
    y[:, 4:] = torch.randn(2, 3, 16)
    a, _ = mha(x, attn_mask=causal_mask(7))
    b, _ = mha(y, attn_mask=causal_mask(7))
    assert torch.equal(a[:, :4], b[:, :4]) and not torch.allclose(a[:, 4:], b[:, 4:])


def test_the_encoder_layer_equals_torch_pre_ln_layer(x_and_mask):
    x, mask = x_and_mask
    mine = EncoderLayer(32, 4, 64, 0.1).eval()
    ref = nn.TransformerEncoderLayer(32, 4, 64, 0.1, batch_first=True, norm_first=True).eval()
    ref.load_state_dict(mine.state_dict())
    got, _ = mine(x, mask)
    assert (got - ref(x, src_key_padding_mask=~mask))[mask].abs().max() <= 1e-5


def test_sinusoidal_positions_by_the_formula():
    pe = sinusoidal_positions(5, 6)
    t, i = 3, 1  # PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(...)
    assert math.isclose(pe[t, 2 * i].item(), math.sin(t / 10000 ** (2 * i / 6)), abs_tol=1e-6)
    assert math.isclose(pe[t, 2 * i + 1].item(), math.cos(t / 10000 ** (2 * i / 6)), abs_tol=1e-6)
    assert torch.equal(pe[0, 1::2], torch.ones(3)) and torch.equal(pe[0, 0::2], torch.zeros(3))


def test_without_positions_the_model_cannot_tell_the_order_of_the_frames(x_and_mask):
    x, _ = x_and_mask
    mask = torch.ones(4, 9, dtype=torch.bool)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(0)
    blind, seeing = (VideoTransformer(TransformerConfig(positions=p)).eval() for p in ("none", "sinusoidal"))
    same = {"rgb": x, "mask": mask}
    shuffled = {"rgb": x[:, perm], "mask": mask}
    with torch.inference_mode():
        assert torch.allclose(blind(same), blind(shuffled), atol=1e-5)
        assert not torch.allclose(seeing(same), seeing(shuffled), atol=1e-3)


def test_padding_changes_nothing_and_cls_weights_are_a_distribution_over_real_frames(x_and_mask):
    x, mask = x_and_mask
    torch.manual_seed(0)
    net = VideoTransformer(TransformerConfig(positions="learned")).eval()
    with torch.inference_mode():
        logits, alpha = net({"rgb": x, "mask": mask}, return_attention=True)
        alone = net({"rgb": x[2:3, :2], "mask": mask[2:3, :2]})  # video 2 without its padding
        _, weights = net.encode(x, mask)
    assert torch.allclose(logits[2:3], alone, atol=1e-5)
    rows = cls_attention(weights)  # (B, L, h, T)
    assert rows.shape == (4, 2, 4, 9) and torch.allclose(rows.sum(-1), torch.ones(4, 2, 4), atol=1e-6)
    assert torch.all(rows[~mask[:, None, None, :].expand_as(rows)] == 0)
    assert torch.allclose(alpha["rgb"], rows[:, -1].mean(1))


@pytest.mark.parametrize("kw, match", [
    ({"d_model": 30, "heads": 4}, "multiple of heads"),
    ({"positions": "rotary"}, "positions must be one of"),
    ({"layers": 0}, "layers must be a positive int"),
    ({"features": {"rgb": 32, "audio": 8}}, "one modality"),
])
def test_bad_sizes_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        TransformerConfig(**kw)


def test_bad_batches_are_named():
    net = VideoTransformer(TransformerConfig(max_len=8))
    with pytest.raises(ValueError, match="exceed the model's max_len"):
        net({"rgb": torch.randn(1, 9, 32), "mask": torch.ones(1, 9, dtype=torch.bool)})
    with pytest.raises(ValueError, match="at least one valid frame"):
        net({"rgb": torch.randn(1, 4, 32), "mask": torch.zeros(1, 4, dtype=torch.bool)})
    with pytest.raises(KeyError, match="batch needs 'rgb'"):
        net({"audio": torch.randn(1, 4, 32)})
    with pytest.raises(ValueError, match="33 features per frame"):
        net({"rgb": torch.randn(1, 4, 33), "mask": torch.ones(1, 4, dtype=torch.bool)})


def test_head_mass_ratios_by_hand():
    # two videos of 4 frames, 1 layer, 2 heads; informative frames: {0} and {2, 3}
    rows = [np.array([[[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]]),
            np.array([[[0.0, 0.0, 0.5, 0.5], [0.4, 0.4, 0.1, 0.1]]])]
    informative = [np.array([True, False, False, False]), np.array([False, False, True, True])]
    got = head_mass_ratios(rows, informative)  # head 1: 0.7/0.25 = 2.8 and 1/0.5 = 2 → 2.4; head 2: 1 and 0.4 → 0.7
    assert np.allclose(got, [[2.4, 0.7]])


def test_the_order_task_labels_the_first_digit_and_marks_both_digits():
    from labkit.data.captions import load_event_captions

    items, informative = event_videos.order_items("val", 20), event_videos.order_informative("val", 20)
    part = load_event_captions(with_time=False)["val"]
    for it, inf, vid in zip(items, informative, part.ids[:20], strict=True):
        (first, s1, e1), (second, s2, e2) = part.events[vid]
        assert int(it["labels"].argmax()) == first and it["labels"].sum() == 1 and first != second
        assert it["rgb"].shape == (int(it["length"]), 32) and e1 <= s2  # no time column: 32 features
        assert inf.sum() == (e1 - s1) + (e2 - s2) and inf[s1] and inf[s2]
    batch = yt8m.collate_frames(items[:5])
    assert batch["rgb"].shape[0] == 5 and batch["labels"].shape == (5, 10)
    with pytest.raises(ValueError, match="split must be one of"):
        event_videos.order_items("dev")
