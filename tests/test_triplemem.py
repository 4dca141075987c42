"""TripleMem: ResMem plus a frozen class-activation segmentation branch (``labkit.models.triplemem``), the constructed
layout scenes it is measured on (``labkit.data.composites``), and the shipped comparison, recomputed."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from labkit.core.assets import asset_path
from labkit.core.errors import CheckpointError
from labkit.data.composites import CATEGORIES, WEIGHTS, composite_split, constructed_score, make_composites
from labkit.data.images import bundled_images
from labkit.models import resmem, triplemem
from labkit.models.backbones import imagenet_categories


@pytest.fixture(scope="module")
def model() -> triplemem.TripleMem:
    return triplemem.load_pretrained()


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    return resmem.PREPROCESS.batch([im.load() for im in bundled_images(crops=False)[:6]])


def test_untrained_triplemem_predicts_exactly_resmems_scores(model, photos):
    """The head's segmentation columns start at zero: TripleMem starts where the published ResMem is."""
    with torch.inference_mode():
        np.testing.assert_array_equal(model(photos).numpy(), resmem.load_pretrained()(photos).numpy())


def test_the_segmentation_is_a_class_activation_map_grouped_into_super_categories(model, photos):
    net = model.segmenter.backbone
    with torch.inference_mode():
        seg, logits = model.segmenter(photos)
        assert torch.equal(logits, net(photos))  # the same forward pass gives ResMem's ResNet input
        f = net.layer4(net.layer3(net.layer2(net.layer1(net.maxpool(net.relu(net.bn1(net.conv1(photos))))))))
    cams = torch.einsum("ck,bkhw->bchw", net.fc.weight, f) + net.fc.bias[:, None, None]
    # global average pooling + one linear layer: the image's logits are the mean of its class-activation maps
    torch.testing.assert_close(cams.mean((2, 3)), logits, atol=1e-4, rtol=1e-4)
    groups = torch.tensor(triplemem.group_of_class())
    want = torch.stack([cams.softmax(1)[:, groups == g].sum(1) for g in range(len(triplemem.GROUPS))], 1)
    torch.testing.assert_close(seg, want, atol=1e-5, rtol=1e-5)
    assert seg.shape == (6, 7, 8, 8)
    torch.testing.assert_close(seg.sum(1), torch.ones(6, 8, 8))
    chelsea = [im.name for im in bundled_images(crops=False)[:6]].index("chelsea")
    assert triplemem.GROUPS[int(seg[chelsea].mean((1, 2)).argmax())] == "animals"  # the cat is found as an animal


def test_super_categories_name_real_imagenet_classes():
    names = imagenet_categories()
    group = triplemem.group_of_class()
    by_name = {n: triplemem.GROUPS[g] for n, g in zip(names, group, strict=True)}
    assert by_name["tabby"] == "animals" and by_name["espresso"] == "food" and by_name["alp"] == "landscape"
    assert by_name["sports car"] == "vehicles" and by_name["castle"] == "buildings" and by_name["suit"] == "people"
    assert set(group) == set(range(len(triplemem.GROUPS)))


def _small(model: triplemem.TripleMem, widths: tuple[int, ...] = (16,) * 6) -> triplemem.TripleMem:
    """A TripleMem with a small head on the fixture's frozen ResNet and AlexNet branch (no second weights load)."""
    m = triplemem.TripleMem(backbone=model.segmenter.backbone, widths=widths)
    m.branch.load_state_dict(model.branch.state_dict())
    return m


def test_the_frozen_branch_never_changes_while_triplemem_trains(model, photos):
    # seeded: the head's initialisation and dropout otherwise depend on which tests ran before in this worker, and a
    # large step can leave every ReLU of a small head dead (one seed in 20 at lr 0.5 did; none at lr 0.05)
    torch.manual_seed(0)
    m = _small(model)
    frozen = {k: v.clone() for k, v in m.segmenter.state_dict().items()}
    trainable = [p for p in m.parameters() if p.requires_grad]
    assert not any(p.requires_grad for p in m.segmenter.parameters())
    opt = torch.optim.SGD(trainable, lr=0.05)
    m.train()
    assert not m.segmenter.training and not m.segmenter.backbone.training  # BatchNorm statistics stay published
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.mse_loss(m(photos[:2]), torch.tensor([0.9, 0.1])).backward()
        opt.step()
    assert all(torch.equal(v, m.segmenter.state_dict()[k]) for k, v in frozen.items())
    assert m.seg_cnn.conv1.weight.grad is not None and m.seg_cnn.conv1.weight.grad.abs().sum() > 0


def test_a_trained_feature_head_loads_into_triplemem(model, photos, tmp_path):
    torch.manual_seed(0)
    head = triplemem.FeatureHead()
    m = _small(model, head.head.widths).eval()
    m.seg_cnn.load_state_dict(head.seg_cnn.state_dict())
    m.head.load_state_dict(head.head.state_dict())
    with torch.inference_mode():
        alex, res, seg = m.features(photos)
        np.testing.assert_allclose(m(photos).numpy(), head.eval()(alex, res, seg).numpy(), atol=1e-6)
        again = triplemem.load_checkpoint(triplemem.save_checkpoint(m, tmp_path / "t.pt"))
        np.testing.assert_allclose(again(photos).numpy(), m(photos).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="inputs must be distinct names"):
        triplemem.FeatureHead(("alex", "depth"))


@pytest.mark.parametrize(("edit", "says"), [
    (lambda s: s.pop("seg_cnn"), "lacks seg_cnn"),
    (lambda s: s.update(widths=[0, 1, 2]), "six layer sizes"),
    (lambda s: s["head"].update({"fc12.bias": torch.tensor([float("nan")])}), "non-finite"),
    (lambda s: s["seg_cnn"].update({"conv1.weight": torch.zeros(3, 3)}), "do not fit TripleMem"),
])
def test_a_bad_checkpoint_names_the_problem(edit, says, tmp_path):
    torch.manual_seed(0)
    m = triplemem.TripleMem(widths=(8, 8, 8, 8, 8, 8))
    path = triplemem.save_checkpoint(m, tmp_path / "t.pt")
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=says):
        triplemem.load_checkpoint(path)


def test_constructed_scenes_are_reproducible_and_scored_by_their_visible_areas():
    a, b = make_composites(5, seed=3), make_composites(5, seed=3)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.targets, b.targets)
    shares = np.stack([(a.masks == c).mean((1, 2)) for c in range(len(CATEGORIES))], 1)
    np.testing.assert_allclose(a.shares, shares, atol=1e-7)
    np.testing.assert_allclose(a.targets, 0.15 + shares @ np.array([WEIGHTS[c] for c in CATEGORIES]), atol=1e-6)
    assert constructed_score(np.eye(len(CATEGORIES))[[1]])[0] == pytest.approx(0.15 + 0.9)  # a scene all person
    assert not np.array_equal(composite_split("val", 4).images, composite_split("test", 4).images)


def test_the_shipped_features_are_the_frozen_branches_outputs(model):
    """Recompute the first test scenes' features with the models and compare with data/triplemem/features.npz."""
    cache = np.load(asset_path("triplemem/features.npz"))
    scenes = composite_split("test", 4)
    x = torch.from_numpy(scenes.images).permute(0, 3, 1, 2).float().div(255)
    alex, res, seg = triplemem.extract_features(model, x, progress=False)
    np.testing.assert_allclose(cache["test_alex"][:4].astype(np.float32), alex, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(cache["test_res"][:4].astype(np.float32), res, rtol=2e-3, atol=2e-2)
    np.testing.assert_allclose(cache["test_seg"][:4].astype(np.float32), seg, atol=1e-3)
    np.testing.assert_allclose(cache["test_y"][:4], scenes.targets, atol=1e-7)


def test_the_shipped_comparison_holds_when_recomputed():
    """Seed 0 of every variant, retrained on the shipped features, reproduces data/triplemem/comparison.csv (the
    other seeds run the same code; CI time goes to one of each)."""
    from labkit.studies.triplemem import VARIANTS, compare

    cache = np.load(asset_path("triplemem/features.npz"))
    data = {s: {k: cache[f"{s}_{k}"] for k in ("alex", "res", "seg", "oracle", "y")} for s in ("train", "val", "test")}
    with open(asset_path("triplemem/comparison.csv"), newline="") as f:
        shipped = {(r["variant"], int(r["seed"])): r for r in csv.DictReader(f)}
    assert set(shipped) == {(v, s) for v in VARIANTS for s in (0, 1, 2)}
    runs = compare(data["train"], data["val"], data["test"], seeds=(0,))
    for r in runs:
        row = shipped[(r.variant, r.seed)]
        assert r.best_epoch == int(row["best_epoch"]), (r.variant, r.seed)
        assert r.test_rho == pytest.approx(float(row["test_rho"]), abs=1e-4), (r.variant, r.seed)


def test_the_segmentation_agreement_is_measured_per_category():
    from labkit.metrics.segmentation import share_agreement

    true = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    maps = np.repeat(np.repeat(true[:, :, None, None], 2, 2), 2, 3) * np.array([1.0, 0.2])[None, :, None, None]
    assert share_agreement(maps, true, ["a", "b"]) == {"a": pytest.approx(1.0), "b": pytest.approx(1.0)}
    assert share_agreement(maps[::-1], true, ["a", "b"])["a"] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="C = 3"):
        share_agreement(maps, true, ["a", "b", "c"])
