"""labkit.models.backbones: ImageNet sanity of the ResMem ResNet-152, stages and shapes."""

from __future__ import annotations

import pytest
import torch

from labkit.data.images import bundled_images
from labkit.models import backbones as B


@pytest.fixture(scope="module")
def net():
    torch.set_num_threads(2)
    return B.resnet152("resmem")


@pytest.fixture(scope="module")
def photos() -> dict:
    wanted = ("chelsea", "coffee", "rocket")
    return {b.name: b.load() for b in bundled_images(sources=wanted, crops=False)}


# Each photo's expected label must be among the 5 best ImageNet classes (names from torchvision's
# metadata, offline). With ImageNet mean/std normalisation these weights put none of them there.
EXPECTED = {"chelsea": {"Egyptian cat", "tabby", "tiger cat"}, "coffee": {"espresso", "cup", "coffee mug"},
            "rocket": {"missile", "projectile", "space shuttle"}}


@pytest.mark.parametrize("crop", [227, pytest.param(224, marks=pytest.mark.slow)])
def test_imagenet_top5_on_bundled_photos(net, photos, crop):
    cats = B.imagenet_categories()
    assert len(cats) == 1000
    logits = B.extract(list(photos.values()), "logits", backbone=net, preprocess=B.Preprocess(crop=crop),
                       progress=False)
    for name, row in zip(photos, logits, strict=True):
        top5 = {cats[i] for i in row.topk(5).indices}
        assert top5 & EXPECTED[name], f"{name}: top-5 {top5}"


@pytest.mark.slow
def test_normalised_input_breaks_it(net, photos):
    """The BN statistics were re-fit to [0, 1] input: ImageNet normalisation is the wrong preprocessing."""
    cats = B.imagenet_categories()
    x = B.Preprocess().batch([photos["chelsea"]])
    mean, std = torch.tensor([0.485, 0.456, 0.406])[:, None, None], torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    wrong = B.extract((x - mean) / std, "logits", backbone=net, progress=False)[0]
    assert not {cats[i] for i in wrong.topk(5).indices} & EXPECTED["chelsea"]


def test_stage_shapes_and_consistency(net, photos):
    x = B.Preprocess(crop=224).batch([photos["coffee"]])
    shapes = {s: tuple(B.extract(x, s, backbone=net, progress=False).shape) for s in B.STAGES if s != "pool"}
    assert shapes == {"layer1": (1, 256, 56, 56), "layer2": (1, 512, 28, 28), "layer3": (1, 1024, 14, 14),
                      "layer4": (1, 2048, 7, 7), "logits": (1, 1000)}
    pool = B.extract(x, "pool", backbone=net, progress=False, channels_last=False)
    assert pool.shape == (1, 2048)
    with torch.inference_mode():
        full = net(x)  # torchvision's own forward
    torch.testing.assert_close(net.fc(pool), full, atol=1e-4, rtol=1e-5)


def test_backbone_is_frozen_and_in_eval(net):
    assert not net.training and not any(p.requires_grad for p in net.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match="stage must be one of"):
        B.FeatureExtractor(B.resnet152(None), "layer5")
    with pytest.raises(ValueError, match="weights must be 'resmem' or None"):
        B.resnet152("imagenet")
    with pytest.raises(ValueError, match="batch_size"):
        B.extract(torch.zeros(1, 3, 224, 224), backbone=B.resnet152(None), batch_size=0)
