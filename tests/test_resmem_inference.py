"""labkit.models.inference: BatchNorm folding and bfloat16 stages, against the float32 networks they replace."""

from __future__ import annotations

import platform
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn
from torchvision.models import resnet18, resnet50

from labkit.data.images import bundled_images
from labkit.models import inference as I
from labkit.models import resmem as R
from labkit.models.backbones import FeatureExtractor, batched_forward


def _with_random_bn(net: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics and affine parameters (fresh ones are identity maps, which hide bugs)."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return net.eval()


@pytest.mark.parametrize("make", [resnet18, resnet50], ids=["basic-blocks", "bottlenecks"])
def test_fold_batchnorm_computes_the_same_function(make):
    torch.manual_seed(0)
    net = _with_random_bn(make(weights=None))
    x = torch.rand(2, 3, 64, 64)
    folded = I.fold_batchnorm(net)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # the original is left alone
    with torch.inference_mode():
        ref, got = net(x), folded(x)
    assert ref.abs().max() > 1e-2  # not comparing zeros
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))


def test_fold_batchnorm_rejects_other_networks_and_converted_ones():
    with pytest.raises(TypeError, match="torchvision ResNet"):
        I.fold_batchnorm(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)))
    converted = I.to_bfloat16(I.fold_batchnorm(resnet18(weights=None)), ("layer3", "layer4"))
    with pytest.raises(ValueError, match="already converted"):
        I.fold_batchnorm(converted)


def test_to_bfloat16_converts_only_the_stages_asked_and_keeps_float32_at_the_borders():
    torch.manual_seed(0)
    ref = _with_random_bn(resnet50(weights=None))
    net = I.to_bfloat16(I.fold_batchnorm(ref))
    dtypes = {name: {p.dtype for p in getattr(net, name).parameters()} for name in ("conv1", "layer1", "layer2", "layer4", "fc")}
    assert dtypes == {"conv1": {torch.float32}, "layer1": {torch.float32}, "layer2": {torch.bfloat16},
                      "layer4": {torch.bfloat16}, "fc": {torch.float32}}
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        y, y_ref = net(x), ref(x)
        maps = FeatureExtractor(net, "layer3")(x)
    assert y.dtype == torch.float32 and maps.dtype == torch.bfloat16  # inside the bf16 stages
    rel = float((y - y_ref).norm() / y_ref.norm())
    assert 0 < rel < 0.05, rel  # rounded, not broken
    pooled = batched_forward(FeatureExtractor(net, "pool"), x, batch_size=2, progress=False)
    assert pooled.dtype == torch.float32 and pooled.shape == (2, 2048)


@pytest.mark.parametrize("stages, match", [((), "non-empty"), (("layer5",), "subset"), (("layer2", "layer4"), "consecutive")])
def test_to_bfloat16_rejects_bad_stage_lists(stages, match):
    with pytest.raises(ValueError, match=match):
        I.to_bfloat16(resnet18(weights=None), stages)


def test_bf16_is_native_answers_for_devices_without_it():
    assert I.bf16_is_native("meta") is False
    if not torch.cuda.is_available():
        assert I.bf16_is_native("cuda") is False


def test_bf16_is_native_on_this_cpu_matches_its_instruction_flags():
    """Native means bfloat16 multiply-add instructions (AVX512-BF16 or AMX-BF16), as the kernel lists them."""
    cpuinfo = Path("/proc/cpuinfo")
    if platform.machine() not in ("x86_64", "AMD64") or not cpuinfo.is_file():
        pytest.skip("reads the x86 flags of /proc/cpuinfo")
    flags = set(next(line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")).split())
    assert I.bf16_is_native("cpu") is bool({"avx512_bf16", "amx_bf16"} & flags and torch.backends.mkldnn.is_available())


# --- on the published ResMem weights ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos() -> list:
    """Twelve different scenes (whole photos, not crops of one another), so a ranking means something."""
    return [b.load() for b in bundled_images(crops=False)[:12]]


def test_for_inference_shares_branch_and_head_and_leaves_the_model_alone(resmem_model):
    fast = I.for_inference(resmem_model, "fp32")
    assert fast.head is resmem_model.head and fast.branch is resmem_model.branch
    assert fast.backbone is not resmem_model.backbone
    assert any(isinstance(m, nn.BatchNorm2d) for m in resmem_model.backbone.modules())
    assert not fast.training and not any(p.requires_grad for p in fast.backbone.parameters())


def test_folded_float32_model_still_equals_the_published_one(resmem_model, photos):
    ref = R.predict(resmem_model, photos[:4], batch_size=4, progress=False)
    got = R.predict(I.for_inference(resmem_model, "fp32"), photos[:4], batch_size=4, progress=False)
    np.testing.assert_allclose(got, ref, rtol=0, atol=3e-6)


@pytest.mark.slow
def test_bf16_scores_stay_close_to_float32_and_keep_the_ranking(resmem_model, photos):
    assert len(photos) == 12
    ref = R.predict(resmem_model, photos, batch_size=6, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # emulated (slow) on CPUs without bf16: still correct
        fast = I.for_inference(resmem_model, "bf16")
    got = R.predict(fast, photos, batch_size=6, progress=False)
    assert got.dtype == np.float32 and got.shape == ref.shape
    err = np.abs(got - ref)
    assert err.max() < 5e-3, err.max()  # all-bf16 (stem included) reached 1.3e-2 on the bundled set
    assert err.max() > 0  # it really ran in bfloat16
    assert spearmanr(got, ref)[0] > 0.99


def test_for_inference_bad_arguments_are_clear_errors(resmem_model):
    with pytest.raises(ValueError, match="precision must be one of"):
        I.for_inference(resmem_model, "fp16")
    with pytest.raises(TypeError, match="labkit ResMem"):
        I.for_inference(resmem_model.backbone)


def test_for_inference_warns_where_bfloat16_would_be_emulated(resmem_model, monkeypatch):
    monkeypatch.setattr(I, "bf16_is_native", lambda device="cpu": False)
    with pytest.warns(RuntimeWarning, match="no bfloat16 multiply-add instructions"):
        I.for_inference(resmem_model, "bf16")
