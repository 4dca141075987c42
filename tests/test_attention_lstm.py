"""Attention-LSTM: shapes, masking (padding gets zero weight and cannot change the output), both modalities, and the
last-state ablation (each video's own final LSTM states, whatever the padding)."""

from __future__ import annotations

import pytest
import torch

from labkit.models.attention_lstm import AttentionLSTM, AttentionLSTMConfig, bce_step


def _batch(lengths, feats=None, seed=0):
    feats = feats or {"rgb": 16, "audio": 8}
    g = torch.Generator().manual_seed(seed)
    t = max(lengths)
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    batch = {m: torch.randn(len(lengths), t, d, generator=g) * mask[..., None] for m, d in feats.items()}
    batch["mask"] = mask
    batch["labels"] = (torch.rand(len(lengths), 5, generator=g) < 0.3).float()
    return batch


def _model(pooling="attention", feats=None):
    torch.manual_seed(0)
    cfg = AttentionLSTMConfig.quick(features=feats or {"rgb": 16, "audio": 8}, num_classes=5, embedding=12,
                                    hidden=6, fc=(10, 7), pooling=pooling)
    return AttentionLSTM(cfg).eval()


def test_shapes_and_attention_rows_sum_to_one():
    model = _model()
    logits, alpha = model(_batch([5, 3, 1]), return_attention=True)
    assert logits.shape == (3, 5)
    assert set(alpha) == {"rgb", "audio"}
    for a in alpha.values():
        assert a.shape == (3, 5)
        torch.testing.assert_close(a.sum(1), torch.ones(3))


@pytest.mark.parametrize("pooling", ["attention", "mean"])
def test_padded_frames_get_exactly_zero_weight(pooling):
    model = _model(pooling)
    _, alpha = model(_batch([6, 2, 4]), return_attention=True)
    mask = _batch([6, 2, 4])["mask"]
    for a in alpha.values():
        assert torch.all(a[~mask] == 0.0)
        assert torch.all(a[mask] > 0)
    if pooling == "mean":
        torch.testing.assert_close(alpha["rgb"][1, :2], torch.full((2,), 0.5))


def test_padding_content_and_amount_do_not_change_predictions():
    """Packed LSTM + masked softmax: a video's output ignores what is in, and how much there is of, padding."""
    model = _model()
    b = _batch([4, 2])
    ref = model(b)
    junk = {k: v.clone() for k, v in b.items()}
    for m in ("rgb", "audio"):
        junk[m][~b["mask"]] = 1e3  # garbage in the padded frames
    torch.testing.assert_close(model(junk), ref)
    longer = {m: torch.cat([b[m], torch.randn(2, 3, b[m].shape[-1])], 1) for m in ("rgb", "audio")}
    longer["mask"] = torch.cat([b["mask"], torch.zeros(2, 3, dtype=torch.bool)], 1)
    torch.testing.assert_close(model(longer), ref)
    single = {m: b[m][1:, :2] for m in ("rgb", "audio")} | {"mask": b["mask"][1:, :2]}
    torch.testing.assert_close(model(single), ref[1:], rtol=1e-5, atol=1e-6)


def test_attention_differs_from_mean_pooling_and_is_learnable():
    model = _model()
    _, alpha = model(_batch([7]), return_attention=True)
    assert not torch.allclose(alpha["rgb"], torch.full((1, 7), 1 / 7))
    loss = bce_step(model.train(), _batch([7, 3]))["loss"]
    loss.backward()
    assert model.encoders["rgb"].score.weight.grad.abs().sum() > 0


def test_rgb_only_model_and_full_config_sizes():
    model = _model(feats={"rgb": 16})
    assert model(_batch([3, 2], {"rgb": 16})).shape == (2, 5)
    full = AttentionLSTMConfig.full()
    assert (full.embedding, full.hidden, full.fc, full.num_classes, full.dropout) == (512, 1024, (8192, 4096), 3862, 0.5)
    assert full.features == {"rgb": 1024, "audio": 128}


def test_bad_inputs_are_clear_errors():
    model = _model()
    b = _batch([3, 2])
    with pytest.raises(KeyError, match="audio"):
        model({k: v for k, v in b.items() if k != "audio"})
    with pytest.raises(ValueError, match="'rgb' has 4 features per frame"):
        model(b | {"rgb": torch.zeros(2, 3, 4)})
    with pytest.raises(ValueError, match="at least one valid frame"):
        model(b | {"mask": torch.zeros(2, 3, dtype=torch.bool)})
    with pytest.raises(ValueError, match="pooling must be one of"):
        AttentionLSTMConfig(pooling="max")


@pytest.mark.parametrize("prior_init, expected", [(True, 1 / 3862), (False, 0.5)])
def test_untrained_scores_start_at_the_class_prior(prior_init, expected):
    """3,862 sigmoid outputs at p ≈ 0.5 cost ≈ 2,600 a video before anything is learnt; prior init starts at 1/C."""
    torch.manual_seed(0)
    cfg = AttentionLSTMConfig.quick(features={"rgb": 1024, "audio": 128}, num_classes=3862, prior_init=prior_init)
    model = AttentionLSTM(cfg).eval()
    with torch.no_grad():
        p = torch.sigmoid(model(_batch([5, 3], feats={"rgb": 1024, "audio": 128})))
    assert expected / 1.5 < p.mean().item() < expected * 1.5


def test_last_state_pooling_reads_each_videos_own_final_states():
    """z = [forward state at the video's own last frame ; backward state at its first], from the packed LSTM's h_n:
    the same as running the LSTM on the video alone, and what padding holds or how much of it there is never counts."""
    model = _model("last", feats={"rgb": 16})
    b = _batch([5, 2, 1], {"rgb": 16})
    logits, alpha = model(b, return_attention=True)
    enc, h = model.encoders["rgb"], model.config.hidden
    for i, n in enumerate([5, 2, 1]):
        out, _ = enc.lstm(torch.tanh(enc.proj(b["rgb"][i:i + 1, :n])))  # (1, n, 2H), unpadded
        z = torch.cat([out[0, n - 1, :h], out[0, 0, h:]])
        torch.testing.assert_close(model.head(z[None]), logits[i:i + 1], rtol=1e-5, atol=1e-6)
        alone = model({"rgb": b["rgb"][i:i + 1, :n], "mask": b["mask"][i:i + 1, :n]})
        torch.testing.assert_close(alone, logits[i:i + 1], rtol=1e-5, atol=1e-6)
    junk = b | {"rgb": b["rgb"].masked_fill(~b["mask"][..., None], 1e3)}
    torch.testing.assert_close(model(junk), logits)
    torch.testing.assert_close(alpha["rgb"], torch.tensor([[0.5, 0, 0, 0, 0.5], [0.5, 0.5, 0, 0, 0], [1.0, 0, 0, 0, 0]]))


def test_last_state_pooling_differs_from_mean_and_attention():
    b = _batch([6, 4], {"rgb": 16})
    outs = {p: _model(p, feats={"rgb": 16})(b) for p in ("attention", "mean", "last")}
    assert not torch.allclose(outs["last"], outs["mean"]) and not torch.allclose(outs["last"], outs["attention"])
