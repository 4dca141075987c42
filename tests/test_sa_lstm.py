"""SA-LSTM: masked temporal attention, teacher forcing, greedy and beam search."""

import pytest
import torch

from labkit.models.sa_lstm import SALSTM, SALSTMConfig, TemporalAttention, generate

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(seed=0, vocab=12, **kw):
    torch.manual_seed(seed)
    cfg = SALSTMConfig(vocab_size=vocab, feature_dim=6, embed=8, hidden=10, attention_dim=7, dropout=0.0, **kw)
    return SALSTM(cfg).eval()


def _batch(b=4, t=5, d=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(b, t, d, generator=g)
    lengths = torch.tensor([t, 3, 1, 4][:b])
    mask = torch.arange(t)[None, :] < lengths[:, None]
    return feats, mask


def test_attention_sums_to_one_on_real_frames_and_zero_on_padding():
    torch.manual_seed(0)
    att = TemporalAttention(10, 6, 7)
    feats, mask = _batch()
    ctx, alpha = att(torch.randn(4, 10), feats, att.project(feats), mask)
    assert torch.allclose(alpha.sum(1), torch.ones(4))
    assert (alpha[~mask] == 0).all() and (alpha[mask] > 0).all()
    assert alpha[2].tolist() == [1.0, 0, 0, 0, 0]  # one real frame: all weight on it, context = that frame
    assert torch.allclose(ctx[2], feats[2, 0])
    # e_i = wᵀ tanh(W h + U v_i + b) written out for one video
    h = torch.randn(1, 10)
    e = (torch.tanh(h @ att.W.weight.T + feats[0] @ att.U.weight.T + att.U.bias) @ att.w.weight.T).squeeze(-1)
    _, a0 = att(h, feats[:1], att.project(feats[:1]), mask[:1])
    assert torch.allclose(a0[0], torch.softmax(e, 0), atol=1e-6)


def test_padding_frames_do_not_change_anything():
    m = _model()
    feats, mask = _batch()
    noisy = feats.masked_fill(~mask.unsqueeze(-1), 1e3)  # garbage where padded
    caps = torch.randint(3, 12, (4, 6))
    assert torch.allclose(m(feats, mask, caps)[0], m(noisy, mask, caps)[0], atol=1e-5)


def test_teacher_forcing_shapes_and_loss_learns():
    m = _model()
    feats, mask = _batch()
    caps = torch.tensor([[1, 5, 6, 2, 0], [1, 7, 2, 0, 0], [1, 8, 9, 10, 2], [1, 4, 2, 0, 0]])
    logits, alphas = m(feats, mask, caps)
    assert logits.shape == (4, 4, 12) and alphas.shape == (4, 4, 5)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=3e-2)
    first = m.loss(feats, mask, caps).item()
    for _ in range(80):
        opt.zero_grad()
        loss = m.loss(feats, mask, caps)
        loss.backward()
        opt.step()
    assert first > 2.0 and loss.item() < 0.1  # memorises four captions
    m.eval()
    tokens, _ = m.greedy(feats, mask, max_len=6)
    assert tokens[0, :3].tolist() == [5, 6, 2] and tokens[2, :4].tolist() == [8, 9, 10, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_width_one_equals_greedy(seed):
    m = _model(seed, vocab=9)
    feats, mask = _batch(seed=seed + 10)
    g_tok, g_alpha = m.greedy(feats, mask, max_len=7)
    b_tok, b_alpha, _ = m.beam_search(feats, mask, width=1, max_len=7)
    n = g_tok.shape[1]
    assert torch.equal(b_tok[:, :n], g_tok) and (b_tok[:, n:] == 0).all()
    assert torch.allclose(b_alpha[:, :n], g_alpha, atol=1e-6)


def _logp(m, feats, mask, tokens):
    """Total log-probability and length (up to and including <eos>) of given continuations."""
    caps = torch.cat([torch.ones(len(tokens), 1, dtype=torch.long), tokens], 1)
    logits, _ = m(feats, mask, caps)
    lp = torch.log_softmax(logits, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    is_eos = (tokens == 2).long()
    keep = (is_eos.cumsum(1) - is_eos) == 0  # up to and including the first <eos> (all if none)
    return (lp * keep).sum(1), keep.sum(1)


def test_beam_score_is_the_normalised_log_prob_and_beats_greedy():
    m = _model(3, vocab=9, eos_id=2)
    feats, mask = _batch(seed=4)
    with torch.no_grad():
        b_tok, _, b_score = m.beam_search(feats, mask, width=4, max_len=8, length_penalty=1.0)
        g_tok, _ = m.greedy(feats, mask, max_len=8)
        lp, n = _logp(m, feats, mask, b_tok)
        assert torch.allclose(b_score, lp / n, atol=1e-5)
        glp, gn = _logp(m, feats, mask, g_tok)
        assert (lp / n >= glp / gn - 1e-6).all()  # the beam never ends worse than greedy here


def test_beam_is_batched_consistently_and_validates():
    m = _model(5)
    feats, mask = _batch()
    tok, alpha, score = m.beam_search(feats, mask, width=3, max_len=6)
    for i in range(4):
        t1, a1, s1 = m.beam_search(feats[i:i + 1], mask[i:i + 1], width=3, max_len=6)
        assert torch.equal(t1[0], tok[i, : t1.shape[1]]) and torch.allclose(s1, score[i:i + 1], atol=1e-6)
    assert torch.allclose(alpha.sum(-1)[tok != 0], torch.ones(1), atol=1e-5)  # every emitted word: Σα = 1
    with pytest.raises(ValueError, match="beam width"):
        m.beam_search(feats, mask, width=0)
    with pytest.raises(ValueError, match="at least one real"):
        m.greedy(feats, torch.zeros_like(mask))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("beam_width", [1, 3])
def test_generate_gives_the_model_back_in_the_mode_it_came_in(training, beam_width):
    m = _model(6).train(training)
    feats, mask = _batch()
    tokens, alpha = generate(m, feats, mask, beam_width=beam_width, max_len=5, batch_size=3)
    assert m.training is training and all(sub.training is training for sub in m.modules())
    assert tokens.shape[0] == alpha.shape[0] == 4


def test_mean_context_uses_only_real_frames_and_has_no_attention():
    m = _model(context="mean")
    assert m.attention is None and not any(k.startswith("attention.") for k in m.state_dict())
    feats, mask = _batch()
    noisy = feats.masked_fill(~mask.unsqueeze(-1), 1e3)  # garbage where padded
    caps = torch.randint(3, 12, (4, 6))
    logits, alphas = m(feats, mask, caps)
    assert torch.allclose(logits, m(noisy, mask, caps)[0], atol=1e-5)
    uniform = mask.float() / mask.sum(1, keepdim=True)  # the same weights at every step: 1/T_real, 0 on padding
    assert torch.equal(alphas, uniform.unsqueeze(1).expand_as(alphas))
    from labkit.models.sa_lstm import mean_context

    ctx, _ = mean_context(feats, mask)
    assert torch.allclose(ctx[1], feats[1, :3].mean(0), atol=1e-6) and torch.allclose(ctx[2], feats[2, 0])
    tok, alpha = generate(m, feats, mask, beam_width=2, max_len=5)
    assert tok.shape[0] == 4 and (alpha[..., ~mask.any(0)] == 0).all()


def test_attention_state_dict_unchanged_and_bad_context_is_clear():
    assert {k for k in _model().state_dict() if k.startswith("attention.")} == {
        "attention.W.weight", "attention.U.weight", "attention.U.bias", "attention.w.weight"}
    with pytest.raises(ValueError, match="context must be one of"):
        _model(context="max")


def test_generate_threads_the_length_penalty_through():
    m = _model(7, vocab=9)
    feats, mask = _batch(seed=3)
    for lp in (0.0, 1.0, 2.0):
        want, _, _ = m.beam_search(feats, mask, width=3, max_len=6, length_penalty=lp)
        got, _ = generate(m, feats, mask, beam_width=3, max_len=6, length_penalty=lp)
        assert torch.equal(got[:, : want.shape[1]], want)
