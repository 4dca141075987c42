"""An AMNet checkpoint's feature recipe is checked against the model before any backbone loads: the map size it
gives (ceil(crop / stride) // pool per side) is the one the real backbone gives, and a recipe that does not fit its
model is never saved. The command-line cases (edited recipes, non-finite weights) are in tests/test_predict.py."""

from __future__ import annotations

import pytest
import torch
from torchvision.models import resnet152

from labkit.core.errors import CheckpointError
from labkit.models import amnet
from labkit.models.backbones import FeatureExtractor


def test_feature_side_is_what_the_backbone_gives():
    with torch.device("meta"):  # shapes only: no weights, no arithmetic
        net = resnet152(weights=None).eval()
    for stage in amnet.STAGE_STRIDE:
        fx = FeatureExtractor(net, stage)
        for crop in (32, 33, 100, 224, 227, 255, 257, 1024):
            y = fx(torch.empty(1, 3, crop, crop, device="meta"))
            assert y.shape[1:] == (amnet.STAGE_CHANNELS[stage], amnet.feature_side(crop, stage),
                                   amnet.feature_side(crop, stage)), (stage, crop)
            for pool in (1, 2, 3):
                if pool <= y.shape[-1]:
                    assert torch.nn.functional.avg_pool2d(y, pool).shape[-1] == amnet.feature_side(crop, stage, pool)


def test_a_recipe_that_does_not_fit_its_model_is_never_saved(tmp_path):
    model = amnet.AMNet(amnet.AMNetConfig(locations=196, d=8, hidden=8, lstm_steps=1))
    good = amnet.save_checkpoint(model, tmp_path / "a.pt")  # 224 px, layer3, pool 1: 14×14
    before = good.read_bytes()
    with pytest.raises(CheckpointError, match=r"pool=2 give a 7×7 map .* locations=196 — pool 1 fits crop 224"):
        amnet.save_checkpoint(model, good, pool=2)
    with pytest.raises(CheckpointError, match="features.resize=4096 is not allowed"):
        amnet.save_checkpoint(model, tmp_path / "b.pt", crop=4096, resize=4096)
    assert good.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]
    _, recipe = amnet.load_checkpoint(good)
    assert recipe == {**amnet.FEATURES, "pool": 1}


def test_check_recipe_accepts_other_stages_that_fit():
    cfg = amnet.AMNetConfig(in_channels=2048, locations=64, d=8, hidden=8, lstm_steps=1)
    recipe = {"stage": "layer4", "crop": 256, "resize": 256, "pool": 1}  # ceil(256 / 32) = 8 → 8×8
    assert amnet.check_recipe(recipe, cfg) is recipe
    with pytest.raises(CheckpointError, match="use stage 'layer4'"):
        amnet.check_recipe({**recipe, "stage": "layer3"}, cfg)
