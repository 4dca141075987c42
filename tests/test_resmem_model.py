"""labkit.models.resmem against the ``resmem`` package itself, and its loading errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from labkit.data.images import bundled_images
from labkit.models import backbones
from labkit.models import resmem as R


@pytest.fixture(scope="module")
def photos() -> list:
    names = {"chelsea", "coffee_s0.60_r1c1", "moon"}
    return [b.load() for b in bundled_images() if b.name in names]


def test_outputs_equal_the_package_model(resmem_model, photos):
    import resmem

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's 'pretrained is deprecated', raised inside the package
        ref = resmem.ResMem(pretrained=True).eval()
    x = torch.stack([resmem.transformer(p) for p in photos])
    with torch.inference_mode():
        expected = ref(x).squeeze(1).numpy()
    del ref
    ours = R.predict(resmem_model, photos, batch_size=2, progress=False)
    assert ours.shape == (3,)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)
    assert np.ptp(expected) > 1e-3  # the images really differ: equality is not between constants


@pytest.mark.slow
def test_head_on_extracted_features_reproduces_predict(resmem_model, photos):
    x = R.PREPROCESS.batch(photos)
    alex, res = R.extract_features(resmem_model, x, progress=False)
    assert alex.shape == (3, 9216) and res.shape == (3, 1000)
    with torch.inference_mode():
        scores = resmem_model.head(torch.cat([torch.from_numpy(alex), torch.from_numpy(res)], 1)).numpy()
    np.testing.assert_allclose(scores, R.predict(resmem_model, x, progress=False), atol=1e-6)


def test_predict_restores_mode_and_backbone_stays_in_eval(resmem_model, photos):
    resmem_model.train()
    assert resmem_model.head.training and not resmem_model.backbone.training  # BN statistics are part of the model
    R.predict(resmem_model, photos[:1], progress=False)
    assert resmem_model.training
    resmem_model.eval()


def test_wrong_input_size_is_a_clear_error(resmem_model):
    with pytest.raises(ValueError, match="227"):
        resmem_model(torch.zeros(1, 3, 224, 224))


def test_every_package_key_maps_onto_our_module():
    ours = set(R.ResMem().state_dict())
    sd = backbones.load_resmem_state_dict()
    assert set(R.map_package_keys(sd)) == ours
    with pytest.raises(KeyError, match="unexpected key"):
        R.map_package_keys({"optimizer.lr": torch.zeros(1)})


def test_missing_or_broken_weights_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(backbones.WeightsNotFoundError, match="does not exist"):
        R.load_pretrained(tmp_path / "nope.pt")
    pointer = tmp_path / "model.pt"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 527697574\n")
    with pytest.raises(backbones.WeightsNotFoundError, match="git lfs pull"):
        R.load_pretrained(pointer)
    torch.save({"something": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(backbones.WeightsNotFoundError, match="no ResMem state dict"):
        R.load_pretrained(tmp_path / "other.pt")
    monkeypatch.setattr(backbones.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(backbones.WeightsNotFoundError, match="pip install resmem"):
        backbones.resmem_weights_file()
