# %% [markdown]
# # 02 · ResMem — the published weights, offline and fast, and a ResNet-152 for the course
#
# ResMem (Needell & Bainbridge) puts a MemNet-like AlexNet branch beside a frozen ImageNet ResNet-152 and
# regresses memorability from both with a deep MLP; it reports Spearman ρ ≈ 0.66–0.67 on a LaMem + MemCat mix.
# Its trained weights ship inside the `resmem` wheel, so everything here runs offline.
#
# **After this notebook you can**
# 1. read ResMem's architecture off the module (layer by layer, with parameter counts) and load the real weights;
# 2. rank photos by predicted memorability — and say why those numbers are *pseudo-labels*, not human scores;
# 3. run the sanity check from notebook 01 (does each branch's prediction spread look like memorability?);
# 4. see where the network looks (Grad-CAM on both branches);
# 5. fine-tune the regression head on cached frozen features with `labkit.train.fit`, watching Spearman ρ per epoch;
# 6. measure what batched inference gains over the package's one-image-at-a-time usage, and what bfloat16 adds
#    (on a CPU with bfloat16 instructions; 1.4–1.9× more speed in our runs on 2 cores, for a score
#    change of a few 1e-3);
# 7. reuse the ResNet-152 as `labkit.models.backbones` (notebooks 03, 05, 06 do);
# 8. build TripleMem — ResMem plus a frozen segmentation branch (class-activation maps of the same ResNet) — and
#    measure, on constructed scenes whose score depends on layout, when such a branch pays and when it does not.
#
# Four **exercises** (§2, §3, §4, §8) ask you to write a piece yourself — ResMem's regression head over both branches
# (checked with the published weights loaded into yours), the head's ablated input, ResMem's preprocessing and
# TripleMem's segmentation CNN (Spearman's ρ is notebook 01's exercise; here we use `labkit`'s). A check cell under each says whether it matches
# labkit's, and the cells after it use yours once it passes (labkit's until then).
#
# **Before you start.** Prerequisites: notebook 01 (MemNet, Spearman's ρ and the collapse check), ImageNet
# classifiers and transfer learning in outline, `nn.Linear`, `nn.Conv2d` and dropout. **Study time:** about 2 hours
# for a learner — 1 hour reading and running, 45 min for the four exercises, 15 min with the edit explorer. The quick
# profile runs in about a minute and a half on 2 CPU cores.

# %% tags=["parameters"]
# ruff: noqa: UP045 (papermill reads `Optional[str]`, not `str | None`)
from typing import Optional

profile: str = "quick"  # quick|full: quick uses bundled photos and cached features in about a minute on 2 CPU cores
data_root: Optional[str] = None  # None: bundled photos with ResMem pseudo-labels; a folder: the MemCat or LaMem root
dataset: str = "memcat"  # memcat|lamem: the format of data_root
epochs: int = 6  # 1..: epochs of head training
lr: float = 1e-3  # >0: Adam learning rate of the head (try 1e-5 when fine-tuning the published head on data_root)
head: str = "compact"  # compact|resmem: widths of the fresh head trained on the bundled pseudo-labels
batch_size: int = 32  # 1..: batch size for fine-tuning and for inference
seed: int = 0  # 0..: seed for Python, NumPy and torch

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

import labkit
from labkit.course.exercises import check_function
from labkit.data.images import SOURCES, bundled_images
from labkit.metrics.memorability import distribution_check, spearman
from labkit.metrics.saliency import peak_share
from labkit.models import backbones
from labkit.models import resmem as R
from labkit.viz import architecture, saliency
from labkit.viz.export import as_jpeg

labkit.seed_everything(seed)
threads = labkit.set_threads()
print(f"profile={profile!r}, data_root={data_root!r}, torch threads={threads}")

# %% [markdown]
# ## 1 · The architecture, read off the module
#
# `labkit.models.resmem` is our own module: `branch` (AlexNet-like, conv1 has **48** filters), `backbone` (a
# torchvision ResNet-152, frozen) and `head` (10216 → 4096 → 4096 → 2048 → 1024 → 512 → 256 → 1, sigmoid).
# `load_pretrained()` reads `model.pt` from the installed `resmem` package with `torch.load(weights_only=True)`
# and maps its key names onto ours. The figure below is traced from one real forward pass: one bar per layer,
# its parameter count and its output shape (the 150 layers of the ResNet are summarised as one bar).

# %%
t0 = time.perf_counter()
model = R.load_pretrained()
print(f"weights loaded from {backbones.resmem_weights_file().name} inside the resmem package in {time.perf_counter() - t0:.1f} s")
rows = architecture.trace_layers(model, torch.zeros(1, 3, 227, 227), skip=("backbone",))
fig = architecture.draw_layers(rows, "ResMem: branch (AlexNet-like), backbone (ResNet-152), head (MLP)")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
counts = R.parameter_counts(model)
for part, n in counts.items():
    print(f"{part:9s} {n / 1e6:7.2f} M parameters")
total = sum(counts.values())
print(f"total     {total / 1e6:7.2f} M  (the head alone is {counts['head'] / total:.0%})")
assert counts["backbone"] == 60_192_808  # torchvision's ResNet-152

# %% [markdown]
# ## 2 · Predictions on the bundled photos — pseudo-labels, not memorability
#
# The course ships 18 real photographs that live inside installed packages (scikit-image's `data` folder,
# scikit-learn's sample images) and 306 crops of them at three scales and several positions
# (`labkit.data.images.bundled_images()`). Nobody measured how memorable people find them. What
# `data/resmem/pseudo_labels.csv` holds is **ResMem's own prediction** for each: a *pseudo-label*. It lets us
# train and test heads offline; it says nothing about human memory. Below, 8 of the 18 full photos go
# through the real model now and must reproduce the shipped pseudo-labels; the grid then ranks all 18.

# %%
full = bundled_images(crops=False)
photos = [b.load() for b in full]
n_live = 8 if profile == "quick" else len(full)
live = R.predict(model, photos[:n_live], batch_size=batch_size)
table = np.genfromtxt(labkit.asset_path("resmem/pseudo_labels.csv"), delimiter=",", names=True, dtype=None,
                      encoding="utf-8")
shipped = dict(zip(table["name"], table["resmem_pseudo_label"], strict=True))
gap = max(abs(live[i] - shipped[b.name]) for i, b in enumerate(full[:n_live]))
assert gap < 1e-4, f"live ResMem scores differ from the shipped pseudo-labels by {gap:.2e}"
_ = labkit.record("pseudo_label_reproduction_max_abs_diff", float(gap))

# %%
fig = saliency.ranked_gallery(photos, np.array([shipped[b.name] for b in full]),
                              "ResMem PSEUDO-LABELS (model predictions, not human memorability), highest first")
display(as_jpeg(fig))  # a grid of photos: JPEG keeps the committed notebook small

# %% [markdown]
# ### The backbone still knows ImageNet
#
# ResMem's ResNet-152 kept ImageNet's conv and fc weights, but its BatchNorm statistics were re-fitted to
# **un-normalised** [0, 1] input. Its 1000 outputs are therefore still ImageNet logits — with ResMem's
# preprocessing, not the usual mean/std normalisation. Class names come from torchvision's weights metadata
# (no download). The cached features hold those logits for every bundled image, so this costs no forward pass.

# %%
# NBVAL_CHECK_OUTPUT
cache = np.load(labkit.asset_path("resmem/features.npz"))
names, alex, res = list(cache["names"]), cache["alex"].astype(np.float32), cache["resnet"].astype(np.float32)
cats = backbones.imagenet_categories()
for src in ("chelsea", "coffee", "rocket", "motorcycle", "astronaut"):
    top = np.argsort(-res[names.index(src)])[:3]
    print(f"{src:10s} → " + ", ".join(cats[i] for i in top))
assert cats[int(res[names.index("chelsea")].argmax())] in {"Egyptian cat", "tabby", "tiger cat"}

# %% [markdown]
# The cat, the coffee, the rocket and the motorcycle get fitting ImageNet classes. The astronaut gets "plunger,
# barbell, shield", which is wrong but not broken: **ImageNet has no class for a person**, so the network can only
# name objects, and none of its three guesses is about the woman who fills the photo. The ResNet branch describes
# *things*, not people. §8 meets the same gap when it turns these classes into a segmentation.

# %% [markdown]
# ### The head over both branches, written by you
#
# **Exercise 1 · ResMem's regression head.** Write `MemHead`, the module that turns the two branches into one
# score: it takes the AlexNet branch's features `alex` (B, 9216) and the ResNet-152's logits `res` (B, 1000),
# concatenates them **in that order**, and runs fc6 … fc11 (widths 4096, 4096, 2048, 1024, 512, 256, ReLU after
# each), dropout 0.5 after fc6's and fc7's ReLU (`drop6`, `drop7`), and fc12 → 1 → sigmoid, returning (B,) scores.
# Name the layers `fc6` … `fc12`: the check loads the **published** head's weights into yours and compares your
# scores on the cached features with ResMem's to 1e-6 (in eval mode, so dropout is off). §3 then runs your head.

# %%
class MemHead(torch.nn.Module):
    """[alex; res] → fc6 … fc11 (ReLU; dropout after fc6 and fc7) → fc12 → sigmoid: one memorability score."""

    def __init__(self, alex_dim: int = 9216, res_dim: int = 1000,
                 widths: tuple[int, ...] = (4096, 4096, 2048, 1024, 512, 256), dropout: float = 0.5):
        super().__init__()
        ### BEGIN SOLUTION
        sizes = [alex_dim + res_dim, *widths]
        for i in range(6):
            setattr(self, f"fc{6 + i}", torch.nn.Linear(sizes[i], sizes[i + 1]))
        self.fc12 = torch.nn.Linear(sizes[-1], 1)
        self.drop6, self.drop7 = torch.nn.Dropout(dropout), torch.nn.Dropout(dropout)
        ### END SOLUTION

    def forward(self, alex: torch.Tensor, res: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        h = torch.cat([alex, res], dim=1)  # (B, 10216): AlexNet's features first, as fc6's weights expect
        h = self.drop6(torch.relu(self.fc6(h)))
        h = self.drop7(torch.relu(self.fc7(h)))
        for fc in (self.fc8, self.fc9, self.fc10, self.fc11):
            h = torch.relu(fc(h))
        return torch.sigmoid(self.fc12(h)).squeeze(1)  # (B,)
        ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
from labkit.course.exercises import check_module


class PublishedHead(torch.nn.Module):
    """ResMem's head called the way the exercise's is: on the two branches (the weights are the published ones)."""

    def __init__(self, head: torch.nn.Module):
        super().__init__()
        self.head = head

    def forward(self, alex: torch.Tensor, res: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([alex, res], dim=1))


published = PublishedHead(model.head).eval()
cached = (torch.from_numpy(alex[:32]), torch.from_numpy(res[:32]))
my_head = check_module("resmem_head", MemHead, published, [cached, (cached[0][:2], cached[1][:2])],
                       rename=lambda k: k.removeprefix("head."),
                       hint="concatenate [alex, res] in that order; ReLU after fc6 … fc11, none after fc12; "
                            "squeeze to (B,) after the sigmoid")


# %% [markdown]
# ## 3 · Sanity check: does each branch's prediction spread look like memorability?
#
# Notebook 01 showed MemNet's single-crop outputs collapsing into a sliver (σ ≈ 0.0025 against a human
# σ ≈ 0.15). Here we ask what each of ResMem's branches contributes: keep one branch's features and replace the
# other's by its average over the bundled set (a *single-branch* ResMem), then compare the three prediction
# distributions with `distribution_check`. All from cached features: 324 images, no CNN forward.

# %% [markdown]
# **Exercise 2 · the head's input with one branch ablated.** The head reads one vector per image: the AlexNet
# branch's 9216 features *followed by* the ResNet's 1000 logits (that order is baked into fc6's weights). Write
# `single_branch_input(alex, res, keep)`: `alex` (B, A) and `res` (B, R) NumPy arrays, `keep` is `"alex"` or
# `"resnet"`; return the (B, A + R) head input in which the *other* branch's rows are all replaced by that
# branch's mean over the B images. The head then sees only how the kept branch varies — the ablation below.

# %%
def single_branch_input(alex: np.ndarray, res: np.ndarray, keep: str) -> np.ndarray:
    """(B, A), (B, R), "alex"|"resnet" → (B, A + R), the other branch replaced by its mean over the B rows."""
    ### BEGIN SOLUTION
    if keep == "alex":
        res = np.broadcast_to(res.mean(axis=0), res.shape)  # (B, R)
    else:
        alex = np.broadcast_to(alex.mean(axis=0), alex.shape)  # (B, A)
    return np.concatenate([alex, res], axis=1)  # (B, A + R)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
toy_a, toy_r = np.arange(12.0).reshape(3, 4), np.array([[1.0, -2.0], [3.0, 0.0], [8.0, 5.0]])
single_branch_input = check_function(
    "single_branch_input", single_branch_input, R.single_branch_input,
    cases=[(toy_a, toy_r, "alex"), (toy_a, toy_r, "resnet"), (toy_a[:1], toy_r[:1], "alex")],
    hint="average over the images (axis 0), not over the features; AlexNet's columns come first")

# %%
scores_all = np.array([shipped[n] for n in names], dtype=np.float32)


def head_on(x: np.ndarray) -> np.ndarray:
    """Exercise 1's head (yours once it passed, the published one until then) on (B, 10216) head inputs."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return my_head(t[:, : R.ALEX_DIM], t[:, R.ALEX_DIM:]).numpy()


with torch.inference_mode():
    both = head_on(np.concatenate([alex, res], 1))  # (324, 10216) → (324,)
    alex_only = head_on(single_branch_input(alex, res, "alex"))
    res_only = head_on(single_branch_input(alex, res, "resnet"))
checks = {k: distribution_check(v, both) for k, v in {"AlexNet branch only": alex_only, "ResNet branch only": res_only}.items()}
assert np.abs(both - scores_all).max() < 5e-3  # cached float16 features reproduce the pseudo-labels

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
bins = np.linspace(min(both.min(), alex_only.min(), res_only.min()), max(both.max(), alex_only.max(), res_only.max()), 40)
for label, v in (("ResMem (both branches)", both), ("AlexNet branch only", alex_only), ("ResNet branch only", res_only)):
    ax.hist(v, bins=bins, alpha=0.5, label=f"{label}: σ = {v.std():.3f}")
ax.set_xlabel("predicted memorability (pseudo-label scale)")
ax.set_ylabel("images")
ax.legend(fontsize=8)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
for k, d in checks.items():
    print(f"{k:20s} σ ratio {d['std_ratio']:.2f}  ρ vs ResMem {d['spearman']:.2f}  collapsed: {d['collapsed']}")
    labkit.record(f"single_branch_{k.split()[0].lower()}_std_ratio", d["std_ratio"])
    labkit.record(f"single_branch_{k.split()[0].lower()}_spearman", d["spearman"])
print(f"ResMem σ over the bundled set: {both.std():.3f} (LaMem's human scores: σ ≈ 0.15)")
print(f"feature scale: AlexNet branch |max| {np.abs(alex).max():.3f}, ResNet logits |max| {np.abs(res).max():.1f}")
assert checks["AlexNet branch only"]["collapsed"] and checks["ResNet branch only"]["spearman"] > 0.99

# %% [markdown]
# **Reading it.** Keep only the AlexNet branch and the predictions collapse (σ a tiny fraction of ResMem's) —
# the failure notebook 01 found in MemNet's single crop. Keep only the ResNet branch and nothing changes: in
# the published weights the memorability signal flows through the ResNet-152 logits. The printed scales say
# why: with un-normalised [0, 1] input the AlexNet branch's features stay below 0.1, while the ResNet logits
# reach ±20, so fc6 sees almost nothing of the first branch. (A finding about these weights on these photos;
# exercise: check it on MemCat with `data_root`.)

# %% [markdown]
# ## 4 · Where does it look? Grad-CAM on both branches
#
# Grad-CAM weights each channel of a convolutional layer by how much the memorability score's gradient flows
# through it, sums, and keeps the positive part (`labkit.viz.saliency.grad_cam`: one forward and one backward
# pass, for both layers at once). We take the ResNet's last stage (`layer4`, 8×8 at 227 px) and the AlexNet
# branch's `conv5` (13×13). After section 3, expect the ResNet map to be the one that matters: the AlexNet
# map shows what *would* raise the score through a branch whose total effect is tiny.

# %% [markdown]
# **Exercise 3 · ResMem's preprocessing.** Grad-CAM needs the input tensor itself. Write
# `resmem_preprocess(image)`: a PIL RGB image of any size → a float32 tensor (3, 227, 227) in [0, 1]. ResMem
# resizes to 256×256 (*both* sides, so the aspect ratio changes), centre-crops 227×227 and converts to a tensor —
# and **does not** subtract the ImageNet mean or divide by its std: its BatchNorm statistics were fitted to
# [0, 1] input, so the usual normalisation silently shifts every prediction. `torchvision.transforms` has
# every piece.

# %%
from torchvision import transforms


def resmem_preprocess(image) -> torch.Tensor:
    """PIL RGB image → (3, 227, 227) float32 in [0, 1]: resize to 256×256, centre crop 227, no normalisation."""
    ### BEGIN SOLUTION
    steps = [transforms.Resize((256, 256)), transforms.CenterCrop(227), transforms.ToTensor()]
    return transforms.Compose(steps)(image)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
from PIL import Image

strip = Image.fromarray((np.arange(40 * 300 * 3) % 251).astype(np.uint8).reshape(40, 300, 3))  # 300×40, very wide
resmem_preprocess = check_function(
    "resmem_preprocess", resmem_preprocess, R.PREPROCESS, cases=[(photos[0],), (photos[5],), (strip,)],
    hint="Resize((256, 256)) with both sides (Resize(256) keeps the aspect ratio), then CenterCrop(227) and "
         "ToTensor(); no Normalize")

# %%
pick = [names.index(n) for n in ("chelsea", "coffee", "astronaut")]
by_name = dict(zip([b.name for b in full], photos, strict=True))
x = torch.stack([resmem_preprocess(by_name[names[i]]) for i in pick])  # (3, 3, 227, 227)
maps = saliency.grad_cam(model, x, {"ResNet layer4": model.backbone.layer4, "AlexNet conv5": model.branch.conv5})
fig = saliency.show_maps(x, maps, [f"{names[i]}: {shipped[names[i]]:.3f}" for i in pick])
display(as_jpeg(fig))
assert all(torch.isfinite(m).all() and m.amax() > 0 for m in maps.values()), "an all-zero or NaN Grad-CAM map"
share = {layer: peak_share(m) for layer, m in maps.items()}  # mass in the hottest 10 % of pixels
print("share of each map's mass in its hottest 10 % of pixels (10 % = spread evenly, 100 % = one spot):")
for k, i in enumerate(pick):
    print(f"  {names[i]:10s} " + "   ".join(
        f"{layer}: {'no positive part' if share[layer][k].isnan() else f'{share[layer][k]:.0%}'}" for layer in maps))

# %% [markdown]
# **Reading the maps.** The ResNet maps lie on the photo's subject and cover a good part of it: the cup and its
# crema, the astronaut's face and the top of her suit, the cat's lower cheek and whiskers (not its eyes, which is
# where a person would look first). Their hottest tenth of pixels holds 23–30 % of each map's mass.
# The AlexNet maps are single spots off the subject (a patch of fur, the corner of the helmet), holding all their
# mass in the hottest tenth, and the coffee's has no positive part at all. That is what section 3 predicts: a
# branch that moves the score by almost nothing has gradients that are tiny, and after each map is scaled to
# its own peak one small value wins. Grad-CAM shows where a change would raise the score, not that the model
# "sees" memorability there; the occlusion exercise at the end tests that claim the other way round.


# %% [markdown]
# ## 5 · Fine-tuning the head on cached frozen features
#
# The two CNN branches are frozen, so their outputs can be computed once and cached
# (`tools/make_resmem_assets.py` wrote them, float16, for all bundled images). Training the head then never
# touches an image.
#
# * **No `data_root`**: a *fresh* head (random init; `head="compact"` keeps ResMem's depth at 1/16 of its width,
#   2.7 M instead of 69 M parameters, so it trains in seconds) learns to reproduce ResMem's pseudo-labels
#   from its frozen features — distillation, so the validation ρ measures how much of ResMem's ranking the head
#   recovers from a few hundred images, not memorability. The split is **by source photo**: crops of one photo
#   share content, and letting them straddle the split would flatter the score.
# * **With `data_root`**: the published head is fine-tuned on human scores of MemCat or LaMem images
#   (features computed on the fly, a few dozen images in the quick profile).

# %%
def load_real(root: str, kind: str, limit: int):
    """(image paths, human scores) of the first ``limit`` images of a MemCat or LaMem root."""
    if kind == "memcat":
        from labkit.data.memcat import load_memcat

        rows = load_memcat(root, limit=limit)
        return [r.path for r in rows], np.array([r.score for r in rows], dtype=np.float32)
    from pathlib import Path

    from labkit.data.lamem import read_split

    rows = read_split(Path(root) / "splits" / "test_1.txt")[:limit]  # LaMem: "relative.jpg score" lines
    return [Path(root) / "images" / rel for rel, _ in rows], np.array([s for _, s in rows], dtype=np.float32)


# %%
rng = np.random.default_rng(seed)
if data_root is None:
    X = torch.from_numpy(np.concatenate([alex, res], 1))  # (324, 10216)
    y = torch.from_numpy(scores_all)
    val_sources = set(rng.permutation(sorted(SOURCES))[:4])
    is_val = np.array([b.source in val_sources for b in bundled_images()])
    labkit.seed_everything(seed)
    head_model = R.RegressionHead(widths=R.COMPACT_WIDTHS if head == "compact" else R.HEAD_WIDTHS)  # fresh
else:
    paths, human = load_real(data_root, dataset, 48 if profile == "quick" else 10**9)
    a, r = R.extract_features(model, paths, batch_size=batch_size)
    X, y = torch.from_numpy(np.concatenate([a, r], 1)), torch.from_numpy(human)
    is_val = rng.permutation(len(y)) < max(2, len(y) // 5)
    head_model = R.load_pretrained().head.requires_grad_(True)  # fine-tune the published head (loaded frozen)
print(f"train {int((~is_val).sum())} / validation {int(is_val.sum())} images")


# %%
from torch.utils.data import TensorDataset

from labkit.train import TrainConfig, fit
from labkit.viz.curves import plot_history

tr, va = torch.from_numpy(~is_val), torch.from_numpy(is_val)
train_set = TensorDataset(X[tr], y[tr])
step = lambda m, batch: torch.nn.functional.mse_loss(m(batch[0]), batch[1])  # noqa: E731


def evaluate(m):
    p = m(X[va]).detach().numpy()
    return {"val_spearman": spearman(p, y[va].numpy()), "val_mse": float(((p - y[va].numpy()) ** 2).mean())}


rho_before = evaluate(head_model.eval())["val_spearman"]
# monitor: the epoch with the best validation ρ is kept (its weights restored), not simply the last one
cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device="cpu", monitor="val_spearman")
history = fit(head_model, train_set, step, cfg, eval_fn=evaluate)

# %%
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
plot_history(history, keys=("loss", "val_mse"), ax=a1)
plot_history(history, keys=("val_spearman",), ax=a2)
a2.axhline(rho_before, ls="--", c="0.5", label="before training")
a2.axvline(history.best_epoch, ls=":", c="C3", label="epoch kept (best validation ρ)")
a2.legend()
plt.show()
best_epoch = history.best_epoch
rho_after = history.epochs[best_epoch - 1]["val_spearman"]
labkit.record("head_val_spearman_before", rho_before)
_ = labkit.record("head_val_spearman_after", rho_after)

# %%
# NBVAL_CHECK_OUTPUT
print(f"validation Spearman ρ: before {rho_before:.2f} → after {rho_after:.2f} (best of {epochs} epochs: epoch "
      f"{best_epoch}, whose weights the head now holds)")
if data_root is None:
    assert rho_after > rho_before + 0.2, "the head did not learn ResMem's ranking from its frozen features"

# %% [markdown]
# ## 6 · Speed: the package's documented usage vs batched inference
#
# The `resmem` README runs one image at a time: `model(transformer(img).view(-1, 3, 227, 227))`, with autograd
# on. `labkit.models.resmem.predict` batches, runs under `torch.inference_mode()` (no graph kept) and stores
# activations channels-last, which lets oneDNN use its fastest CPU convolutions. Both run here on the same images,
# alternately; `benchmarks/resmem_speed.py` does the same with more images and rounds. Timings depend on the
# machine, so nothing below is compared with a committed output.
#
# Expect a modest ratio from batching alone on a CPU. ResMem is 27 GFLOP of convolutions per image, so even one
# image at a time keeps the cores busy; batching mainly saves the autograd graph, the per-call overhead and
# re-reading the head's 280 MB of weights for every image. We have measured 1.1–1.6× on different 2-core machines
# (on a shared VM other tenants' load moves single runs by as much). On a GPU, where one image leaves most of the
# device idle, batching is worth far more.
#
# To go further on a CPU the arithmetic itself has to get cheaper. `labkit.models.inference.for_inference`
# makes a copy of the model for prediction only:
#
# * every BatchNorm is **folded** into the convolution before it (the same function, one pass less over every
#   activation; scores move by about 1e-6);
# * ResNet-152's `layer2`–`layer4`, 92 % of the multiply-adds, run in **bfloat16**: float32's 8-bit exponent
#   with only 8 significant bits. CPUs with AVX512-BF16 (or AMX) do twice as many bfloat16 multiply-adds per
#   cycle as float32 ones, accumulating in float32. The stem and `layer1` stay float32: the pixels (k/255) and
#   the first feature maps are where rounding to 8 bits cost most (all-bfloat16 moved scores up to 5× more).
#
# The price is a score change of a few 1e-3, printed below next to the ranking it leaves (Spearman ρ against
# the float32 model). `R.predict(model, …)` itself stays exact; you opt in with
# `R.predict(for_inference(model), …)`. Without bfloat16 instructions the row is left out: emulated bfloat16
# is slower than float32.

# %%
import warnings

import resmem

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # torchvision's 'pretrained is deprecated', inside the package
    package_model = resmem.ResMem(pretrained=True).eval()  # pretrained=True: loads the wheel's file, offline
speed_images = photos[: 4 if profile == "quick" else 24]
documented_warmup = package_model(resmem.transformer(photos[0]).view(-1, 3, 227, 227))  # first call pays setup


def documented(imgs):
    return torch.cat([package_model(resmem.transformer(im).view(-1, 3, 227, 227)) for im in imgs]).detach()[:, 0]


# %%
from labkit.models.inference import bf16_is_native, for_inference

variants = {
    "package, documented (1 image, autograd on)": documented,
    f"labkit predict (batch {batch_size})": lambda im: R.predict(model, im, batch_size=batch_size, progress=False),
}
if bf16_is_native():
    fast_model = for_inference(model, "bf16")  # BN folded, layer2-4 in bfloat16; shares the head with `model`
    R.predict(fast_model, speed_images[:1], progress=False)  # warm-up: bfloat16 kernels are chosen on first use
    variants[f"labkit predict, bf16 (batch {batch_size})"] = lambda im: R.predict(
        fast_model, im, batch_size=batch_size, progress=False
    )
else:
    print("this CPU has no bfloat16 instructions (AVX512-BF16/AMX): bf16 row left out")
timings = {name: [] for name in variants}
scores = {}
for _ in range(1 if profile == "quick" else 3):
    for name, fn in variants.items():
        t0 = time.perf_counter()
        scores[name] = np.asarray(fn(speed_images), dtype=np.float32)
        timings[name].append(time.perf_counter() - t0)
best = {k: min(v) for k, v in timings.items()}
base, reference = next(iter(best.values())), next(iter(scores.values()))
print(f"{len(speed_images)} images; max |Δ score| against the package")
print(f"{'variant':45s} {'images/s':>9s} {'speed-up':>9s} {'max |Δ|':>9s}")
for k, v in best.items():
    print(f"{k:45s} {len(speed_images) / v:9.2f} {base / v:8.2f}× {np.abs(scores[k] - reference).max():9.1e}")
names = list(best)
labkit.record("speedup_vs_package", base / best[names[1]])
if len(names) > 2:
    labkit.record("speedup_bf16_vs_package", base / best[names[2]])

# %% [markdown]
# Four images say little about a ranking, so here is the bfloat16 model on all 18 bundled photos against their
# shipped float32 scores (the pseudo-labels, which section 2 reproduced to 1e-4).

# %%
if bf16_is_native():
    exact = np.array([shipped[b.name] for b in full], dtype=np.float32)
    approx = R.predict(fast_model, photos, batch_size=batch_size, progress=False)
    rho_bf16 = spearman(approx, exact)
    print(f"{len(photos)} photos: max |Δ score| {np.abs(approx - exact).max():.1e}, "
          f"mean {np.abs(approx - exact).mean():.1e}; Spearman ρ(bf16, float32) = {rho_bf16:.4f}")
    assert rho_bf16 > 0.99, "bfloat16 changed the ranking: check the conversion"

# %% [markdown]
# ## 7 · The ResNet-152 as the course's backbone
#
# Notebooks 03 (AMNet: `layer3` maps, 1024×14×14 at 224 px), 05 and 06 (video: pooled 2048-d features) reuse
# this network through `labkit.models.backbones`. The preprocessing travels with it (`Preprocess`: resize,
# centre crop, **no normalisation**), and `extract` batches under `inference_mode` with a progress bar.

# %%
# NBVAL_CHECK_OUTPUT
net = model.backbone  # the same weights as backbones.resnet152("resmem")
maps224 = backbones.extract(photos[:1], "layer3", backbone=net, preprocess=backbones.Preprocess(crop=224))
print("layer3 at 224 px:", tuple(maps224.shape), "| stages:", ", ".join(backbones.STAGES))
assert tuple(maps224.shape) == (1, 1024, 14, 14), "AMNet needs a 14×14 grid of 1024-d vectors at 224 px"

# %% [markdown]
# ## 8 · TripleMem: a third, frozen branch that sees *where* things are
#
# The MemNet → ResMem account ends with a third model, **TripleMem**: ResMem's two branches plus the output of a
# *pretrained semantic-segmentation model, frozen*, turned into features by a small CNN and concatenated before the
# regression head. The account calls it "not fully tested; preliminary results promising", about 4× slower to train
# than ResMem. Nothing may be downloaded here, so the segmentation model has to be one that ships. We use
# **class-activation maps** (Zhou et al., CVPR 2016) of the ResNet-152 that is already inside ResMem. The other honest
# route would be a small segmentation network trained on constructed scenes, but it would only see what we pasted.
#
# The ResNet ends in global average pooling and one linear layer, so class *c*'s score at every location of the last
# 8×8 map is Σ_k w_ck f_k(x, y). The image's logit is the mean of that map. A softmax over the 1000 classes at each
# location, summed within seven super-categories (people and what they wear, animals, food, vehicles, buildings,
# landscape, other things), turns the maps into a coarse, weakly supervised segmentation of shape (B, 7, 8, 8). These
# are the `labkit.models.triplemem` pieces:
#
# | part | what it is | trained? |
# |---|---|---|
# | `branch` | ResMem's AlexNet branch, published weights | in the full model |
# | `segmenter` | ResNet-152 → logits (ResMem's input) *and* grouped class-activation maps | **never** (frozen, eval) |
# | `seg_cnn` | 3×3 conv 7→16 → ReLU → 3×3 conv 16→32, stride 2 → ReLU → average-pool to 2×2 → 128 features | yes |
# | `head` | ResMem's regression head on 9216 + 1000 + 128 inputs | yes |
#
# `load_pretrained()` starts TripleMem **as** the published ResMem: the head's weights on the 128 segmentation
# features are zero, so until it is trained it predicts exactly ResMem's scores (checked below).

# %%
# NBVAL_CHECK_OUTPUT
from labkit.models import triplemem as TM
from labkit.viz.segmentation import comparison_figure, segmentation_figure

tm = TM.load_pretrained()
names_all = [b.name for b in full]
some = [photos[names_all.index(n)] for n in ("astronaut", "chelsea", "coffee", "motorcycle")]
x_some = R.PREPROCESS.batch(some)
with torch.inference_mode():
    tm_scores, (seg_some, _) = tm(x_some).numpy(), tm.segmenter(x_some)
gap = float(np.abs(tm_scores - R.predict(model, some, progress=False)).max())
# the gap is float rounding, whose last digits depend on the thread count: print it only if it is not negligible
print("untrained TripleMem vs ResMem on 4 photos: max |Δ score| " + ("< 1e-6" if gap < 1e-6 else f"= {gap:.1e}"))
counts = {name: sum(p.numel() for p in part.parameters()) for name, part in tm.named_children()}
print("parameters:", ", ".join(f"{k} {v:,}" for k, v in counts.items()), "(segmenter = the shared ResNet-152)")
assert gap < 1e-6, "an untrained TripleMem must predict ResMem's scores"

# %%
fig = segmentation_figure([np.asarray(p.resize((227, 227))) for p in some], {"class-activation\nsegmentation":
                          seg_some.numpy()}, TM.GROUPS, [f"TripleMem {s:.3f}" for s in tm_scores],
                          "Four photos, their frozen segmentation (colour: the likeliest super-category; opacity: its "
                          "probability) and TripleMem's score")
display(as_jpeg(fig))

# %% [markdown]
# The map finds the cat (animals), the coffee (food) and the motorcycle (vehicles) where they are. The astronaut is
# mostly "other things": **ImageNet has no class for a person**, so people are found only through what they wear
# (suit, jersey, sunglasses…), and a space suit is none of those. Keep this in mind for what follows.
#
# **Exercise 4 · the segmentation CNN.** Write `SegCNN`, the module that turns the (B, 7, 8, 8) segmentation into
# (B, 128) features: `conv1` 3×3 from 7 to 16 channels with padding 1, ReLU, `conv2` 3×3 from 16 to 32 channels with
# stride 2 and padding 1, ReLU, then average-pool to 2×2 (`nn.AdaptiveAvgPool2d(2)`) and flatten. Name the layers
# `conv1` and `conv2`. The check loads labkit's weights into yours and compares the features on two batches of maps.
# The comparison below trains *your* CNN once it passes.

# %%
class SegCNN(torch.nn.Module):
    """(B, 7, 8, 8) segmentation → (B, 128): two 3×3 convolutions (the second with stride 2), pooled to 2×2."""

    def __init__(self, in_channels: int = 7, width: int = 16):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = torch.nn.Conv2d(in_channels, width, kernel_size=3, padding=1)
        self.conv2 = torch.nn.Conv2d(width, 2 * width, kernel_size=3, stride=2, padding=1)
        self.pool = torch.nn.AdaptiveAvgPool2d(2)
        ### END SOLUTION

    def forward(self, seg: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        x = torch.relu(self.conv1(seg))  # (B, 16, 8, 8)
        x = torch.relu(self.conv2(x))  # (B, 32, 4, 4)
        return torch.flatten(self.pool(x), 1)  # (B, 128)
        ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
my_seg_cnn = check_module("segmentation_cnn", SegCNN, tm.seg_cnn.eval(), [(seg_some,), (torch.rand(3, 7, 8, 8),)],
                          hint="conv1: 7→16, 3×3, padding 1; conv2: 16→32, 3×3, stride 2, padding 1; ReLU after each; "
                               "AdaptiveAvgPool2d(2), then flatten to (B, 128)")
SegCNNClass = type(my_seg_cnn)

# %% [markdown]
# ### 8.1 · A target that neither model produced: constructed scenes
#
# ResMem's own scores would crown ResMem, and no human-rated data ships here. So `labkit.data.composites`
# **constructs** scenes: a backdrop of landscape or texture (grass, gravel, brick, the moon, the Hubble deep field)
# with one to three tiles pasted on it, each a crop of a bundled photo whose content we know. Each scene gets a
# **constructed score**: 0.15 + Σ_c w_c × (share of the scene that category c covers). The weights are people 0.9,
# animals 0.7, food and vehicles 0.5, buildings 0.3, other things 0.2 and backdrop 0, following Isola et al.
# (CVPR 2011): people and close-up objects are memorable, landscapes are not. A big person scores high and a scene
# that is mostly backdrop scores low. The scores are **constructed**, not memorability. The features of 240 / 80 / 80
# scenes (train / validation / test) ship in `data/triplemem/features.npz`, built by
# `tools/make_triplemem_assets.py`: the ResNet runs at about 6 images/s on 2 CPU cores.
#
# Beside the class-activation segmentation we keep the scenes' **true layout** at the same 8×8 resolution, as an
# *oracle* control: what would TripleMem gain if its segmentation were right?

# %%
from labkit.data.composites import CATEGORIES, composite_split
from labkit.metrics.segmentation import share_agreement

cache = np.load(labkit.asset_path("triplemem/features.npz"))
scene_data = {s: {k: cache[f"{s}_{k}"].astype(np.float32) for k in ("alex", "res", "seg", "oracle", "y", "shares")}
              for s in ("train", "val", "test")}
shown = composite_split("test", 4)  # the first test scenes, made again (the same seed gives the same pixels)
assert np.allclose(shown.targets, scene_data["test"]["y"][:4])
fig = segmentation_figure(list(shown.images), {"true layout\n(oracle)": scene_data["test"]["oracle"][:4],
                                               "class-activation\nsegmentation": scene_data["test"]["seg"][:4]},
                          TM.GROUPS, [f"constructed score {t:.2f}" for t in shown.targets],
                          "CONSTRUCTED scenes: the layout that decides the score, and what the frozen segmentation sees")
display(as_jpeg(fig))

# %%
# NBVAL_CHECK_OUTPUT
order = [CATEGORIES.index("backdrop" if g == "landscape" else g) for g in TM.GROUPS]
agreement = share_agreement(scene_data["test"]["seg"], scene_data["test"]["shares"][:, order], TM.GROUPS)
print("Spearman ρ between a category's segmented share and its true share, 80 test scenes (constructed):")
print("  " + ", ".join(f"{g} {v:.2f}" for g, v in agreement.items()))
_ = labkit.record("triplemem_segmentation_agreement", {g: round(v, 4) for g, v in agreement.items()}, quiet=True)

# %% [markdown]
# Every category is seen, but only weakly: ρ between 0.25 and 0.49, and weakest for **people**, the category that
# weighs most in the score. A coarse class-activation map is a blurry view of layout, and ImageNet's classes barely
# know a person.
#
# ### 8.2 · The comparison: same features, same budget, epoch picked on validation
#
# Five variants train through `labkit.train.fit` on the cached features (`labkit.studies.triplemem`). Each gets 60
# epochs of Adam at 1e-3 with batch 32. The epoch is picked on validation ρ, and the test scenes are scored once.
#
# | variant | the head reads |
# |---|---|
# | ResMem (head retrained) | AlexNet branch + ResNet logits |
# | TripleMem | the same + `seg_cnn`(class-activation segmentation) |
# | segmentation alone | `seg_cnn`(class-activation segmentation) |
# | TripleMem, true layout | AlexNet + ResNet + `seg_cnn`(true layout, 8×8) — the oracle |
# | true layout alone | `seg_cnn`(true layout) |
#
# The quick profile trains seed 0 of the first four variants here, with your `SegCNN`, and checks each against the
# shipped table of all three seeds; the full profile trains them all. With `data_root`, the same comparison runs on
# the real images and their human scores (the oracle needs a known layout, so it is left out there).

# %%
import csv

from labkit.studies.triplemem import VARIANTS, compare, summary

LABELS = {"resmem": "ResMem (head retrained)", "triplemem": "TripleMem", "segmentation": "segmentation alone",
          "triplemem_oracle": "TripleMem, true layout", "segmentation_oracle": "true layout alone"}
with open(labkit.asset_path("triplemem/comparison.csv"), newline="") as f:
    shipped_rows = list(csv.DictReader(f))
shipped_table = {v: {"test_rho": [float(r["test_rho"]) for r in shipped_rows if r["variant"] == v]} for v in VARIANTS}
t0 = time.perf_counter()
if data_root is None:
    quick = profile == "quick"
    runs = compare(scene_data["train"], scene_data["val"], scene_data["test"], seeds=(0,) if quick else (0, 1, 2),
                   variants=tuple(VARIANTS)[:4] if quick else tuple(VARIANTS), seg_cnn=SegCNNClass)
    for r in runs:  # trained here, the shipped figure recomputed
        want = next(float(s["test_rho"]) for s in shipped_rows if s["variant"] == r.variant and int(s["seed"]) == r.seed)
        assert abs(r.test_rho - want) < 0.02, f"{r.variant} seed {r.seed}: ρ {r.test_rho:.4f}, shipped {want:.4f}"
    table = shipped_table if quick else summary(runs)
else:  # the real images and their human scores: 60 / 20 / 20 %, the same protocol minus the oracle
    real_paths, human = load_real(data_root, dataset, 48 if profile == "quick" else 10**9)
    runs, table = [], {}
    if len(human) < 10:  # validation and test need a few images each for a rank correlation to mean anything
        print(f"comparison skipped: {data_root} holds {len(human)} rated images, the comparison needs at least 10")
    else:
        ra, rr, rs = TM.extract_features(tm, real_paths, batch_size=batch_size)
        cut = rng.permutation(len(human))
        n_tr, n_va = int(0.6 * len(human)), int(0.2 * len(human))
        parts = {"train": cut[:n_tr], "val": cut[n_tr:n_tr + n_va], "test": cut[n_tr + n_va:]}
        real = {s: {"alex": ra[i], "res": rr[i], "seg": rs[i], "y": human[i]} for s, i in parts.items()}
        runs = compare(real["train"], real["val"], real["test"], seeds=(0,) if profile == "quick" else (0, 1, 2),
                       variants=("resmem", "triplemem", "segmentation"), seg_cnn=SegCNNClass)
        table = summary(runs)
print(f"trained {len(runs)} run(s) in {time.perf_counter() - t0:.0f} s")
_ = labkit.record("triplemem_comparison", {v: {"test_rho": t["test_rho"]} for v, t in table.items()}, quiet=True)

# %%
if table:
    what = "CONSTRUCTED layout scores, 3 seeds" if data_root is None else f"human scores of {dataset}"
    fig = comparison_figure(table, LABELS, f"Held-out ρ: {what}")
    plt.show()

# %%
# NBVAL_CHECK_OUTPUT
if data_root is None:
    mean = {v: float(np.mean(t["test_rho"])) for v, t in shipped_table.items()}
    print("held-out ρ, mean of 3 seeds (constructed scores): " + ", ".join(f"{LABELS[v]} {m:.3f}" for v, m in mean.items()))
    print(f"TripleMem − ResMem: {mean['triplemem'] - mean['resmem']:+.3f} (goal +0.05); "
          f"with the true layout: {mean['triplemem_oracle'] - mean['resmem']:+.3f}")

# %% [markdown]
# **What the comparison says (constructed scores, mean of 3 seeds).** The goal was TripleMem ahead of ResMem's
# retrained head by at least 0.05. It is **missed**: ResMem 0.897, TripleMem 0.896, a gap of −0.001. The
# segmentation branch alone reaches 0.543. The architecture is not the reason. Given the **true** layout at the same
# 8×8 resolution, TripleMem reaches 0.988 (+0.091), and the layout alone 0.995. What holds TripleMem back is its
# segmentation. The class-activation maps follow the true shares with ρ 0.25–0.49 (people: 0.25). ResMem's AlexNet
# features (256 × 6 × 6, pooled but still spatial) already carry most of what those maps add. So a third branch pays
# only when its segmentation sees something the other two cannot; ImageNet's class list cannot see people.
#
# **Cost.** The account's TripleMem ran a separate segmentation network and trained about 4× slower than ResMem.
# Ours reuses the ResNet forward pass that ResMem makes anyway. It adds one 1000×2048 product per location and a
# 5.7 k-parameter CNN, and runs at ResMem's speed:

# %%
x_cost = torch.from_numpy(shown.images).permute(0, 3, 1, 2).float().div(255)
best = {"ResMem": 0.0, "TripleMem": 0.0}
with torch.inference_mode():
    for _ in range(2):  # alternated, best of two: the machine's load moves single timings
        for name, net in (("ResMem", model), ("TripleMem", tm)):
            t0 = time.perf_counter()
            net(x_cost)
            best[name] = max(best[name], len(x_cost) / (time.perf_counter() - t0))
params = {"ResMem": sum(p.numel() for p in model.parameters()), "TripleMem": sum(p.numel() for p in tm.parameters())}
for name in best:
    print(f"{name:9s} {best[name]:4.1f} images/s, {params[name]:,} parameters")
print(f"TripleMem takes {best['ResMem'] / best['TripleMem']:.2f}× ResMem's time per image (the account: about 4×)")

# %% [markdown]
# ## Explore: what moves the predicted score?
#
# Crop, shift, darken, blur or desaturate one of the bundled photos and watch ResMem's prediction (one forward pass
# per change, about half a second on CPU). Remember what the number is: the model's guess, not a human
# measurement. Questions to try: does zooming on the subject of a photo raise the score? Does the score survive
# a grey-scale copy? Headless, one static view: the astronaut photo zoomed 1.5× on its upper left.

# %%
from labkit.course.explorer import explore
from labkit.data.images import edit_image
from labkit.viz.saliency import edit_figure

photo_names = [b.name for b in full]


def edit_view(photo: str = "astronaut", zoom: float = 1.5, dx: float = -0.6, dy: float = -0.6,
              brightness: float = 1.0, blur: float = 0.0, grayscale: bool = False):
    original = photos[photo_names.index(photo)]
    edited = edit_image(original, zoom, dx, dy, brightness, blur, grayscale)
    before, after = R.predict(model, [original, edited], progress=False)
    display(as_jpeg(edit_figure(original, edited, (float(before), float(after)), "ResMem")))


explore(edit_view, {"photo": photo_names, "zoom": (1.0, 4.0, 0.25), "dx": (-1.0, 1.0, 0.1), "dy": (-1.0, 1.0, 0.1),
                    "brightness": (0.2, 2.0, 0.1), "blur": (0.0, 10.0, 0.5), "grayscale": False},
        {"photo": "astronaut", "zoom": 1.5, "dx": -0.6, "dy": -0.6})

# %% [markdown]
# ## What to remember
# - ResMem = an AlexNet-like branch **beside** a frozen ImageNet ResNet-152, a deep MLP head on both; its weights
#   ship in the `resmem` wheel, loadable with `weights_only=True` once the key names are mapped.
# - Scores on photos nobody rated are **pseudo-labels**: useful to test code and train heads offline, never
#   evidence about human memory.
# - Ablate a branch by replacing its input with its mean: in the published weights the ResNet logits carry the
#   signal and the AlexNet branch alone collapses (notebook 01's check, reused).
# - Cache frozen features and train heads on them; batch inference under `torch.inference_mode()`; bfloat16 buys
#   1.4–1.9× in our runs (at most 2×: only the multiply-adds speed up) for a score change of a few 1e-3.
# - TripleMem's third branch is a frozen segmentation (here: class-activation maps of ResMem's own ResNet, grouped
#   into super-categories) read by a small CNN. It pays only when the segmentation sees what the other branches do
#   not: on constructed layout scores it adds nothing (−0.001 ρ) with ImageNet's maps and +0.091 with the true layout.
#   Compare against a retrained baseline with the same budget, and add an oracle control to find *which* part fails.
#
# ## Exercises
#
# The four exercises above are checked in place (§2, §3, §4, §8). More to try: give TripleMem's segmentation a finer
# grid (class-activation maps at a larger input) and see whether the people share improves; occlusion maps vs Grad-CAM; fine-tune with SGD at the package's
# learning rate (1e-5); train a head on the ResNet branch only and compare its spread with the full head's;
# run `layer1` in bfloat16 too (`fast = for_inference(model, "fp32")`, then
# `to_bfloat16(fast.backbone, ("layer1", "layer2", "layer3", "layer4"))`, both in `labkit.models.inference`) and
# measure how speed and score error move.
#
# ## References
# - C. D. Needell, W. A. Bainbridge, *Embracing New Techniques in Deep Learning for Estimating Image
#   Memorability*, Computational Brain & Behavior, 2022 (arXiv 2105.10598); package `resmem` 1.1.6 on PyPI,
#   <https://github.com/Brain-Bridge-Lab/resmem> (weights: non-commercial licence).
# - A. Khosla, A. S. Raju, A. Torralba, A. Oliva, *Understanding and Predicting Image Memorability at a Large
#   Scale*, ICCV 2015 (LaMem, MemNet).
# - L. Goetschalckx, J. Wagemans, *MemCat: a new category-based image set quantified on memorability*, PeerJ 2019.
# - K. He, X. Zhang, S. Ren, J. Sun, *Deep Residual Learning for Image Recognition*, CVPR 2016.
# - B. Zhou, A. Khosla, A. Lapedriza, A. Oliva, A. Torralba, *Learning Deep Features for Discriminative
#   Localization*, CVPR 2016 (class-activation maps).
# - P. Isola, J. Xiao, A. Torralba, A. Oliva, *What makes an image memorable?*, CVPR 2011.
# - C. D. Needell, *TripleMem* in the MemNet → ResMem account (Brain Bridge Lab, 2020): ResMem plus a frozen
#   semantic-segmentation branch.
# - R. R. Selvaraju et al., *Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization*,
#   ICCV 2017.
