"""AMNet: attention shapes and normalisation, masks, the regulariser on a hand-computed case, the
target normalisation, and that the original attention is the paper's (one scalar per location from h)."""

from __future__ import annotations

import pytest
import torch

from labkit.models.amnet import (
    AMNet,
    AMNetConfig,
    OriginalAttention,
    amnet_loss,
    attention_regulariser,
    masked_softmax,
    original_attention_step,
)


def small(**kw) -> AMNetConfig:
    base = dict(in_channels=16, locations=9, d=8, hidden=12, lstm_steps=3)
    return AMNetConfig(**{**base, **kw})


def feats(b=4, c=16, h=3, w=3, seed=0) -> torch.Tensor:
    return torch.randn(b, c, h, w, generator=torch.Generator().manual_seed(seed)).relu()


@pytest.mark.parametrize("kind", ["original", "bahdanau", "off"])
def test_shapes_and_attention_sums_to_one_per_step(kind):
    torch.manual_seed(0)
    cfg = small(attention="bahdanau" if kind == "bahdanau" else "original", att_off=kind == "off", lstm_steps=4)
    out = AMNet(cfg).eval()(feats())
    assert out.y.shape == (4,) and out.y_steps.shape == (4, 4) and out.alpha.shape == (4, 4, 9)
    torch.testing.assert_close(out.alpha.sum(-1), torch.ones(4, 4))
    assert (out.alpha >= 0).all()
    torch.testing.assert_close(out.y, out.y_steps.mean(1))  # prediction = mean over steps


def test_att_off_is_uniform_and_attention_is_not():
    torch.manual_seed(0)
    off = AMNet(small(att_off=True)).eval()(feats())
    torch.testing.assert_close(off.alpha, torch.full((4, 3, 9), 1 / 9))
    on = AMNet(small()).eval()(feats())
    assert on.alpha.std(-1).min() > 1e-4  # a trained-or-not attention is not exactly uniform


def test_mask_gives_zero_weight_and_renormalises():
    torch.manual_seed(0)
    mask = torch.ones(4, 9, dtype=torch.bool)
    mask[0, :5] = False
    mask[2, 4] = False
    for cfg in (small(), small(attention="bahdanau"), small(att_off=True)):
        out = AMNet(cfg).eval()(feats(), mask)
        assert (out.alpha[0, :, :5] == 0).all() and (out.alpha[2, :, 4] == 0).all()
        torch.testing.assert_close(out.alpha.sum(-1), torch.ones(4, 3))
    torch.testing.assert_close(AMNet(small(att_off=True)).eval()(feats(), mask).alpha[0, 0, 5:], torch.full((4,), 0.25))


def test_masked_softmax_matches_softmax_over_the_kept_entries():
    s = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    m = torch.tensor([[True, False, True, False]])
    expected = torch.softmax(torch.tensor([1.0, 3.0]), 0)
    torch.testing.assert_close(masked_softmax(s, m)[0, [0, 2]], expected)


def test_bad_inputs_are_named():
    model = AMNet(small())
    with pytest.raises(ValueError, match="h·w = 9"):
        model(torch.zeros(2, 16, 4, 4))
    with pytest.raises(ValueError, match="no location"):
        model(feats(b=2), torch.zeros(2, 9, dtype=torch.bool))
    with pytest.raises(ValueError, match="attention must be"):
        AMNetConfig(attention="dot")
    with pytest.raises(ValueError, match="lstm_steps"):
        AMNetConfig(lstm_steps=0)


def test_original_attention_hidden_state_gives_one_scalar_per_location():
    """W_h maps H → L and its output is added to every feature of a location: with W_e = 0 and
    w = 1, the score of location i is D·ReLU([W_h h]_i) (dropout off)."""
    cfg = small()
    att = OriginalAttention(cfg).eval()
    assert att.W_h.weight.shape == (cfg.locations, cfg.hidden)
    with torch.no_grad():
        att.W_e.weight.zero_()
        att.w.weight.fill_(1.0)
    a = torch.randn(2, 9, 8)
    h = torch.randn(2, 12)
    alpha = att(att.embed(a), h)
    expected = torch.softmax(cfg.d * torch.relu(att.W_h(h)), -1)
    torch.testing.assert_close(alpha, expected)


def test_the_plain_attention_step_is_what_the_module_computes_with_and_without_mask():
    """notebook 03's exercise is checked against ``original_attention_step``; the module calls it too, and its
    numbers are the ones the written formula gives: α = softmax_L(w · ReLU(e_i + [W_h h + b_h]_i))."""
    torch.manual_seed(0)
    att = AMNet(small()).eval().attend
    e, h = torch.randn(3, 9, 8), torch.randn(3, 12)
    weights = (att.W_h.weight, att.W_h.bias, att.w.weight[0])
    by_hand = torch.softmax(torch.relu(e + (h @ weights[0].T + weights[1])[..., None]) @ weights[2], -1)
    torch.testing.assert_close(original_attention_step(e, h, *weights), by_hand)
    torch.testing.assert_close(att(e, h), by_hand)
    mask = torch.ones(3, 9, dtype=torch.bool)
    mask[:, 5:] = False
    masked = original_attention_step(e, h, *weights, mask=mask)
    assert torch.equal(att(e, h, mask), masked) and masked[:, 5:].eq(0).all()
    torch.testing.assert_close(masked.sum(-1), torch.ones(3))


def test_regulariser_on_a_hand_computed_case():
    # B=1, T=2, L=2: α_t = [0.5, 0.5] at both steps → Σ_t(0.2 − α) = −0.6 per location
    # → Σ_i 0.36 = 0.72, / B = 0.72.
    alpha = torch.tensor([[[0.5, 0.5], [0.5, 0.5]]])
    assert attention_regulariser(alpha).item() == pytest.approx(0.72)
    # B=2: second image α_1 = [1, 0], α_2 = [0, 1] → sums (0.4−1, 0.4−1) → 0.36·2 = 0.72; mean over B = 0.72
    alpha2 = torch.cat([alpha, torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])])
    assert attention_regulariser(alpha2).item() == pytest.approx(0.72)
    # T=1, α = [0.9, 0.1]: (0.2−0.9)² + (0.2−0.1)² = 0.49 + 0.01
    assert attention_regulariser(torch.tensor([[[0.9, 0.1]]])).item() == pytest.approx(0.50)
    # a mask drops location 0: only 0.01 left
    m = torch.tensor([[False, True]])
    assert attention_regulariser(torch.tensor([[[0.9, 0.1]]]), mask=m).item() == pytest.approx(0.01)


def test_loss_is_mse_in_normalised_space_plus_gamma_times_regulariser():
    torch.manual_seed(0)
    model = AMNet(small(gamma=0.1)).eval()
    x, y = feats(), torch.tensor([0.6, 0.7, 0.8, 0.9])
    out = model(x)
    logs = amnet_loss(model, out, y)
    mse = ((out.y - (y - 0.754) * 2) ** 2).mean()
    torch.testing.assert_close(logs["loss"], mse + 0.1 * attention_regulariser(out.alpha))


def test_normalise_and_denormalise_are_inverse_and_original():
    model = AMNet(small())
    y = torch.tensor([0.754, 1.0, 0.0])
    torch.testing.assert_close(model.normalise(y), torch.tensor([0.0, 0.492, -1.508]))
    torch.testing.assert_close(model.denormalise(model.normalise(y)), y)


def test_eval_is_deterministic_and_training_step_learns():
    torch.manual_seed(0)
    model = AMNet(small(feat_dropout=0.0, dropout=0.0))
    x, y = feats(b=16), torch.linspace(0.5, 0.9, 16)
    model.eval()
    torch.testing.assert_close(model(x).y, model(x).y)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = amnet_loss(model, model(x), y)["mse"].item()
    for _ in range(60):
        opt.zero_grad()
        amnet_loss(model, model(x), y)["loss"].backward()
        opt.step()
    assert amnet_loss(model, model(x), y)["mse"].item() < 0.2 * first


def test_predict_returns_target_units_and_attention():
    torch.manual_seed(0)
    model = AMNet(small())
    pred, alpha = model.predict(feats(b=5), batch_size=2)
    out = model.eval()(feats(b=5))
    torch.testing.assert_close(pred, out.y / 2 + 0.754)
    assert alpha.shape == (5, 3, 9)
