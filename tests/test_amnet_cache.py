"""The on-disk feature cache: hits return what the extractor gave, and an entry is never reused when
the backbone's weights, the image, the stage or the preprocessing change (each named in the identity)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from labkit.data.feature_cache import FeatureCache, FeatureCacheError, image_key, weights_fingerprint
from labkit.models.backbones import Preprocess

PRE = Preprocess(resize=40, crop=32)


class Counting(nn.Module):
    """A tiny 'backbone' that counts the images it was run on."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, 4, 3, stride=4)
        self.bn = nn.BatchNorm2d(4)
        self.seen = 0

    def forward(self, x):
        self.seen += len(x)
        return self.bn(self.conv(x))  # (B, 4, 8, 8)


def cache_of(net: nn.Module, root, pre: Preprocess = PRE, stage: str = "conv", **kw) -> FeatureCache:
    """The cache as its callers build it: plain callables and an identity naming weights, stage, preprocessing."""
    identity = {"weights": weights_fingerprint(net.state_dict()), "stage": stage, "preprocess": repr(pre)}
    return FeatureCache(net.eval(), pre.batch, identity, root=root, **kw)


def images(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)) for _ in range(n)]


def test_second_call_hits_and_returns_the_same_features(tmp_path):
    net = Counting()
    cache = cache_of(net, tmp_path)
    ims = images()
    first = cache(ims, batch_size=2, progress=False)
    assert first.shape == (3, 4, 8, 8) and net.seen == 3
    with torch.inference_mode():
        torch.testing.assert_close(first, net.eval()(PRE.batch(ims)))
    net.seen = 0
    again = cache_of(net, tmp_path)(ims, progress=False)
    assert net.seen == 0
    torch.testing.assert_close(again, first)


def test_changed_backbone_weights_are_a_miss(tmp_path):
    net = Counting()
    cache_of(net, tmp_path)(images(), progress=False)
    with torch.no_grad():
        net.bn.running_mean[0] += 0.5  # one BN statistic
    net.seen = 0
    cache = cache_of(net, tmp_path)
    out = cache(images(), progress=False)
    assert net.seen == 3 and cache.misses == 3 and cache.hits == 0
    with torch.inference_mode():
        torch.testing.assert_close(out, net.eval()(PRE.batch(images())))


def test_changed_image_is_a_miss_and_others_still_hit(tmp_path):
    net = Counting()
    cache_of(net, tmp_path)(images(), progress=False)
    ims = images()
    a = np.asarray(ims[1]).copy()
    a[0, 0, 0] ^= 1  # one pixel, one bit
    ims[1] = Image.fromarray(a)
    net.seen = 0
    cache = cache_of(net, tmp_path)
    cache(ims, progress=False)
    assert net.seen == 1 and cache.hits == 2 and cache.misses == 1


def test_file_images_are_keyed_by_content_not_name(tmp_path):
    p, q = tmp_path / "a.png", tmp_path / "b.png"
    images(1)[0].save(p)
    images(1)[0].save(q)
    assert image_key(p) == image_key(q)
    images(1, seed=1)[0].save(q)
    assert image_key(p) != image_key(q)
    with pytest.raises(FeatureCacheError, match="no such image"):
        image_key(tmp_path / "missing.png")


def test_stage_and_preprocessing_are_part_of_the_key(tmp_path):
    net = Counting()
    keys = {
        cache_of(net, tmp_path).model_key,
        cache_of(net, tmp_path, stage="other").model_key,
        cache_of(net, tmp_path, Preprocess(resize=36, crop=32)).model_key,
        cache_of(net, tmp_path, dtype="float16").model_key,
    }
    assert len(keys) == 4
    fp = [weights_fingerprint(Counting(seed).state_dict()) for seed in (0, 0, 1)]
    assert fp[0] == fp[1] != fp[2]


def test_truncated_entry_is_recomputed_and_prune_removes_stale(tmp_path):
    net = Counting()
    cache = cache_of(net, tmp_path)
    ims = images()
    cache(ims, progress=False)
    cache.path(image_key(ims[0])).write_bytes(b"\x93NUMPY broken")
    net.seen = 0
    cache(ims, progress=False)
    assert net.seen == 1
    assert cache.prune(ims[:2]) == 1 and len(list(cache.folder.glob("*.npy"))) == 2


def test_float16_storage_and_bad_arguments(tmp_path):
    cache = cache_of(Counting(), tmp_path, dtype="float16")
    out = cache(images(2), progress=False)
    assert out.dtype == torch.float32
    assert np.load(next(cache.folder.glob("*.npy"))).dtype == np.float16
    with pytest.raises(FeatureCacheError, match="dtype"):
        cache_of(Counting(), tmp_path, dtype="int8")
    with pytest.raises(FeatureCacheError, match="no images"):
        cache([], progress=False)
    with pytest.raises(FeatureCacheError, match="identity"):
        FeatureCache(Counting(), PRE.batch, {}, root=tmp_path)


def test_plain_callables_are_enough(tmp_path):
    """The cache knows no model type: any function of a batch tensor is cached under the given identity."""
    calls = []

    def mean_colour(x):
        calls.append(len(x))
        return x.mean(dim=(2, 3))  # (B, 3)

    cache = FeatureCache(mean_colour, PRE.batch, {"function": "mean colour v1"}, root=tmp_path)
    first = cache(images(), progress=False)
    again = FeatureCache(mean_colour, PRE.batch, {"function": "mean colour v1"}, root=tmp_path)(images(), progress=False)
    assert first.shape == (3, 3) and calls == [3]
    torch.testing.assert_close(again, first)
