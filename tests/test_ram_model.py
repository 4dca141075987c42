"""RAM's sub-networks, the REINFORCE sign, gradient routing and reproducible training through labkit.train.fit."""

from __future__ import annotations

import pytest
import torch

import labkit
from labkit.models.ram import (
    RAM,
    BaselineNetwork,
    LocationNetwork,
    RAMConfig,
    ram_loss,
    ram_step,
    reinforce_gradients,
    reinforce_term,
)
from labkit.train import TrainConfig, fit


@pytest.fixture(autouse=True)
def one_thread():
    """RAM's ops are tiny; on a shared 2-core machine a second thread only adds hand-off stalls."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_forward_shapes_and_policy_acts_between_glimpses():
    m = RAM(RAMConfig(glimpses=4, patch_size=6, scales=2)).train()
    out = m(torch.rand(5, 1, 28, 28))
    assert out.log_probs.shape == (5, 10)
    assert out.log_pi.shape == out.baselines.shape == (5, 3)
    assert out.locations.shape == (5, 4, 2) and out.means.shape == (5, 3, 2)
    assert out.locations.abs().max() <= 1.0
    torch.testing.assert_close(out.log_probs.exp().sum(1), torch.ones(5))


def test_eval_is_deterministic_and_monte_carlo_averages_probabilities():
    labkit.seed_everything(0)
    m = RAM(RAMConfig(glimpses=3, core="lstm")).eval()
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(m.predict(x), m.predict(x))
    assert torch.equal(m(x).locations[:, 0], torch.zeros(4, 2))  # l_0 = centre in deterministic mode
    m_rand = RAM(RAMConfig(glimpses=2, start="random")).train()
    assert m_rand(x).locations[:, 0].abs().sum() > 0  # random start when sampling
    mc = m.predict(x, samples=7)
    assert mc.shape == (4, 10)
    torch.testing.assert_close(mc.exp().sum(1), torch.ones(4))
    with pytest.raises(ValueError, match="samples"):
        m.predict(x, samples=0)


def test_reinforce_gradient_on_the_mean_is_hand_computed():
    """d/dμ [−log N(l; μ, σ)·A] = −A·(l − μ)/σ²: toward l when A > 0, away when A < 0."""
    sigma = 0.2
    mu = torch.tensor([[0.1, -0.3]], requires_grad=True)
    sample = torch.tensor([[0.4, -0.1]])
    log_pi = torch.distributions.Normal(mu, sigma).log_prob(sample).sum(1, keepdim=True)  # (1, 1)
    for reward, base in ((1.0, 0.25), (0.0, 0.25)):
        mu.grad = None
        reinforce_term(log_pi, torch.tensor([[reward]]), torch.tensor([[base]])).backward(retain_graph=True)
        adv = reward - base
        torch.testing.assert_close(mu.grad, -adv * (sample - mu.detach()) / sigma**2)


def test_policy_moves_toward_the_rewarded_location():
    """Toy: one fixed state, reward 1 only near target; REINFORCE + baseline must pull μ there."""
    torch.manual_seed(0)
    loc, base = LocationNetwork(size=8, hidden=16, std=0.3), BaselineNetwork(size=8)
    opt = torch.optim.Adam([*loc.parameters(), *base.parameters()], lr=0.01)
    h = torch.randn(1, 8).expand(256, 8)
    target = torch.tensor([0.5, -0.4])
    start = loc(h[:1], stochastic=False)[2].detach()[0]
    for _ in range(150):
        where, log_pi, _ = loc(h)
        reward = ((where - target).norm(dim=1) < 0.3).float()  # (B,)
        b = base(h)
        loss = reinforce_term(log_pi[:, None], reward[:, None], b[:, None]) + ((b - reward) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    end = loc(h[:1], stochastic=False)[2].detach()[0]
    assert (start - target).norm() > 0.45
    assert (end - target).norm() < 0.1, f"policy mean went from {start.tolist()} to {end.tolist()}"


def test_reinforce_gradients_flow_into_log_pi_only_and_expose_an_attached_advantage():
    """notebook 04's reference: −(R − b)/B into log π, nothing into b; a loss that forgets the detach has the same
    value but also pushes the baselines, and a fully detached one gives zeros (no error)."""
    g = torch.Generator().manual_seed(0)
    lp, base = -torch.rand(4, 5, generator=g) * 3, torch.rand(4, 5, generator=g)
    reward = torch.tensor([1.0, 0.0, 1.0, 0.0])[:, None].expand(4, 5)
    torch.testing.assert_close(reinforce_gradients(lp, reward, base),
                               torch.stack([-(reward - base) / 4, torch.zeros_like(base)]))
    attached = reinforce_gradients(lp, reward, base, loss=lambda a, r, b: (-a * (r - b)).sum(1).mean())
    torch.testing.assert_close(attached[0], -(reward - base) / 4)
    torch.testing.assert_close(attached[1], lp / 4)
    detached = reinforce_gradients(lp, reward, base, loss=lambda a, r, b: reinforce_term(a.detach(), r, b))
    assert detached.shape == (2, 4, 5) and not detached.any()
    with torch.no_grad():  # a notebook may run with autograd off
        torch.testing.assert_close(reinforce_gradients(lp, reward, base)[0], -(reward - base) / 4)


def test_reinforce_term_reaches_only_the_location_network():
    """h_t is detached before the location/baseline nets: the policy loss must not train the core or glimpse net."""
    torch.manual_seed(1)
    m = RAM(RAMConfig(glimpses=3)).train()
    out = m(torch.rand(6, 1, 28, 28))
    reinforce_term(out.log_pi, torch.ones_like(out.log_pi), out.baselines).backward()
    for name, p in m.named_parameters():
        touched = p.grad is not None and bool(p.grad.abs().sum() > 0)
        assert touched == name.startswith("locator."), name


def test_single_glimpse_loss_is_plain_nll():
    m = RAM(RAMConfig(glimpses=1)).train()
    y = torch.tensor([1, 2, 3])
    out = m(torch.rand(3, 1, 28, 28))
    parts = ram_loss(out, y)
    torch.testing.assert_close(parts["loss"], torch.nn.functional.nll_loss(out.log_probs, y))


def _short_run(seed: int) -> dict[str, torch.Tensor]:
    labkit.seed_everything(seed)
    x, y = torch.rand(96, 1, 28, 28), torch.randint(0, 10, (96,))
    labkit.seed_everything(seed)
    m = RAM(RAMConfig(glimpses=3, patch_size=6, scales=2))
    cfg = TrainConfig(epochs=2, batch_size=32, lr=1e-3, seed=seed, progress=False, device="cpu")
    hist = fit(m, torch.utils.data.TensorDataset(x, y), ram_step(), cfg)
    assert len(hist.epochs) == 2 and {"loss", "nll", "reinforce", "acc"} <= hist.epochs[-1].keys()
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_training_with_a_fixed_seed_repeats_exactly():
    a, b, c = _short_run(3), _short_run(3), _short_run(4)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="rnn' or 'lstm"):
        RAM(RAMConfig(core="gru"))
    with pytest.raises(ValueError, match="at least one glimpse"):
        RAM(RAMConfig(glimpses=0))
    with pytest.raises(ValueError, match="std"):
        LocationNetwork(std=0.0)


def test_reinforce_into_the_core_trains_core_and_glimpse_nets_too():
    """``reinforce_core=True`` (the paper, Léonard): the policy gradient reaches the core and glimpse networks, never
    the classifier; the baseline stays detached."""
    torch.manual_seed(1)
    m = RAM(RAMConfig(glimpses=3, reinforce_core=True)).train()
    out = m(torch.rand(6, 1, 28, 28))
    reinforce_term(out.log_pi, torch.ones_like(out.log_pi), out.baselines).backward()
    touched = {n.split(".")[0] for n, p in m.named_parameters() if p.grad is not None and bool(p.grad.abs().sum() > 0)}
    assert touched == {"locator", "core", "glimpse"}, touched


def test_location_range_keeps_every_glimpse_inside_it_and_scales_the_random_control():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 60, 60)
    for policy in ("learned", "random"):
        m = RAM(RAMConfig(glimpses=4, patch_size=6, scales=2, std=2.0, loc_range=0.5, policy=policy)).train()
        locs = m(x).locations
        assert locs.abs().max() <= 0.5 and locs[:, 1:].abs().max() == pytest.approx(0.5, abs=0.05), policy
    with pytest.raises(ValueError, match="loc_range"):
        RAM(RAMConfig(loc_range=0.0))


def test_learned_first_location_is_one_policy_choice_shared_by_every_image():
    """``start="learned"`` (Léonard): l_0 ~ π(· | h_0 = 0), so the policy chooses T locations, the first the same
    mean for every image; deterministic passes glimpse first at that mean."""
    torch.manual_seed(0)
    m = RAM(RAMConfig(glimpses=3, start="learned"))
    x = torch.rand(5, 1, 28, 28)
    out = m.train()(x)
    assert out.log_pi.shape == out.baselines.shape == (5, 3) and out.means.shape == (5, 3, 2)
    assert torch.equal(out.means[:, 0], out.means[:1, 0].expand(5, 2))
    det = m.eval()(x)
    torch.testing.assert_close(det.locations[:, 0], det.means[:, 0])
    with pytest.raises(ValueError, match="start"):
        RAM(RAMConfig(start="anywhere"))


def test_constant_baseline_is_one_learned_number_fitted_to_the_mean_reward():
    base = BaselineNetwork(size=8, kind="constant")
    opt = torch.optim.SGD(base.parameters(), lr=0.5)
    reward = torch.tensor([1.0, 0.0, 1.0, 1.0])
    for _ in range(50):
        loss = ((base(torch.randn(4, 8)) - reward) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert base(torch.randn(3, 8)).tolist() == pytest.approx([0.75] * 3, abs=1e-3)
    with pytest.raises(ValueError, match="baseline kind"):
        BaselineNetwork(kind="median")
