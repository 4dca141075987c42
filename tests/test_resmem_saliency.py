"""Grad-CAM on a case computed by hand, and the layer tracer on a small network."""

from __future__ import annotations

import torch
from torch import nn

from labkit.viz.architecture import trace_layers
from labkit.viz.saliency import grad_cam


def test_grad_cam_of_a_linear_score_is_the_positive_activation():
    # One channel, identity 1×1 conv: A = x. score = Σ A·m, so ∂score/∂A = m and the channel weight
    # is mean(m) > 0: the map is relu(A) / max relu(A).
    conv = nn.Conv2d(1, 1, 1, bias=False)
    conv.weight.data.fill_(1.0)
    conv.requires_grad_(False)
    m = torch.rand(4, 4) + 0.1
    x = torch.randn(2, 1, 4, 4)
    cam = grad_cam(lambda t: (conv(t)[:, 0] * m).sum((1, 2)), x, conv)
    expected = x[:, 0].clamp_min(0)
    expected = expected / expected.flatten(1).amax(1)[:, None, None]
    torch.testing.assert_close(cam, expected)


def test_grad_cam_ignores_negative_evidence():
    conv = nn.Conv2d(1, 1, 1, bias=False)
    conv.weight.data.fill_(1.0)
    x = torch.ones(1, 1, 3, 3)
    cam = grad_cam(lambda t: -conv(t).sum((1, 2, 3)), x, conv)
    assert cam.abs().max() == 0


def test_grad_cam_of_several_layers_in_one_pass_matches_one_at_a_time():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, padding=1))
    x = torch.randn(2, 3, 6, 6)
    score = lambda t: net(t).mean((1, 2, 3))  # noqa: E731
    both = grad_cam(score, x, {"a": net[0], "b": net[2]})
    torch.testing.assert_close(both["a"], grad_cam(score, x, net[0]))
    torch.testing.assert_close(both["b"], grad_cam(score, x, net[2]))


def test_trace_layers_reports_shapes_and_params_in_call_order():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    rows = trace_layers(net, torch.zeros(1, 3, 8, 8))
    assert [(r["type"], r["shape"], r["params"]) for r in rows] == [
        ("Conv2d", (4, 6, 6), 4 * 27 + 4), ("ReLU", (4, 6, 6), 0), ("Flatten", (144,), 0), ("Linear", (2,), 290)]
    summary = trace_layers(nn.Sequential(net, nn.Sigmoid()), torch.zeros(1, 3, 8, 8), skip=("0",))
    assert [r["name"] for r in summary] == ["0", "1"] and summary[0]["params"] == 402


def test_peak_share_is_a_tenth_for_an_even_map_and_one_for_a_spot():
    from labkit.metrics.saliency import peak_share

    even, spot = torch.ones(1, 10, 10), torch.zeros(1, 10, 10)
    spot[0, 3, 4] = 0.7
    half = torch.zeros(1, 10, 10)
    half[0, :5] = 1.0  # 50 hot pixels: the hottest 10 hold 10 / 50 of the mass
    torch.testing.assert_close(peak_share(torch.cat([even, spot, half])), torch.tensor([0.1, 1.0, 0.2]))
    assert peak_share(torch.zeros(2, 4, 4)).isnan().all()  # no positive part: no hotspot to measure
