# %% [markdown]
# # 07 · Self-attention — from the course's attention to the transformer, measured on the event videos
#
# Every model so far attends *from outside*: a decoder state scores the frames (06), a learned vector scores the
# BiLSTM states (05), an LSTM step scores image locations (03), a glimpse network picks one (04). **Self-attention**
# lets every position score every other, with scores that are dot products of learned projections; stacked, with
# positions added, it is the transformer (Vaswani et al. 2017) that almost every current model is built from.
#
# **Learning objectives.** After this notebook you can
# 1. rewrite 06's additive score as a **scaled dot product** and say, with a measurement, why it is divided by √d,
# 2. write **multi-head attention** as an `nn.Module` with padding masks, equal to `torch.nn.MultiheadAttention`,
# 3. say why self-attention cannot tell order without **positional encodings**, and measure what they buy,
# 4. train a small **transformer encoder** with a [CLS] token on 05's event videos and compare it with 05's
#    BiLSTM + attention at the same input, a similar parameter count and the same budget,
# 5. read **per head** where the [CLS] token looks, against the frames that are known to carry the labels.
#
# **The data is constructed.** The videos are notebook 05's event videos (a digit visible for 1–3 frames among 40–80
# frames of clutter) and notebook 06's sequence videos (two digits one after the other). Every number below is a
# number about *constructed* data, where the informative frames are known — which is what lets us measure where the
# heads look, something the d2l.ai and UvA transformer chapters, on text and toy sequences, cannot do.
#
# **Before you start.** Prerequisites: notebook 05 (event videos, masked softmax, GAP, the mass ratio) and notebook
# 06 (additive attention, "A then B" videos). **Study time:** about 2½ hours for a learner — 1 h reading and
# running, 1 h for the five exercises, ½ h with the per-head explorer and the open questions. The quick profile runs
# in well under a minute on 2 CPU cores.
#
# Five **exercises**: scaled dot-product attention (§1), multi-head attention as a module (§2), the causal mask (§2),
# relative against absolute positions (§3, open) and a head's mass ratio (§5). A check cell under each compares
# yours with labkit's; later cells use yours once it passes, labkit's until then.

# %% tags=["parameters"]
from typing import Optional

profile: str = "quick"  # quick|full: quick trains the run from scratch on train_videos videos for epochs epochs; full on all videos for 30 epochs, as the shipped checkpoints (train_videos and epochs are then ignored)
data_root: Optional[str] = None  # None: bundled constructed event videos; a folder: YouTube-8M frame-level shards, train and validate files (rgb only)
num_classes: int = 10  # 2..: label classes of the run from scratch (YouTube-8M 2018 needs 3862)
max_frames: int = 80  # 1..: frames kept per video, the first ones (bundled videos have 40 to 80, YouTube-8M up to 300)
train_videos: int = 600  # 0..: training videos for the run from scratch, the first ones (0: all; bundled has 2000)
epochs: int = 6  # 1..: epochs of the run from scratch (the shipped checkpoints had 30)
batch_size: int = 32  # 1..: videos per batch
lr: float = 0.001  # >0: Adam learning rate (after a 2-epoch linear warm-up)
positions: str = "sinusoidal"  # sinusoidal|learned|none: positional encoding of the run from scratch
seed: int = 0  # 0..: seed for Python, NumPy and torch

# %%
import math
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset

import labkit
from labkit.course.exercises import check_function, check_module, check_value
from labkit.data import event_videos, yt8m
from labkit.data.digit_events import event_video_from_id
from labkit.eval.transformer import head_attention, head_mass_ratios, heldout_figures
from labkit.eval.video import predict_split
from labkit.metrics.temporal_attention import informative_mass
from labkit.metrics.yt8m import gap, hit_at_one
from labkit.models import attention_lstm_pretrained as lstm_zoo
from labkit.models import transformer_pretrained as zoo
from labkit.models.attention_lstm import bce_step, predict
from labkit.models.attention_ops import causal_mask as labkit_causal_mask
from labkit.models.attention_ops import scaled_dot_product
from labkit.models.transformer import VideoTransformer, sinusoidal_positions
from labkit.train import TrainConfig, fit
from labkit.viz.curves import plot_history_panels
from labkit.viz.video import head_attention_strip, metric_bars, prediction_title

if profile == "full":
    train_videos, epochs = 0, 30
labkit.seed_everything(seed)
bundled = data_root is None
threads = labkit.set_threads(1)  # a 2-layer, 64-wide encoder on 32 videos is too small to split: 1 thread is fastest
t_start = time.perf_counter()
print(f"profile={profile!r}, data={'bundled constructed videos' if bundled else data_root}, threads={threads}, "
      f"positions of the run from scratch: {positions}")

# %% [markdown]
# ## 1 · From additive to dot-product scores
#
# Notebook 06's decoder scored frame i with an **additive** score, e_i = wᵀ tanh(W h + U v_i): a small network per
# (query, key) pair. Luong et al. (2015) and then the transformer replace it by a **dot product** of two projections,
# e_i = (W_q h)·(W_k v_i) = q·k_i: no tanh, no extra vector, and for T queries and T keys all the scores are *one*
# matrix product Q Kᵀ. The weights are a softmax over the keys, and the output their weighted sum of values
# V = W_v v: softmax(Q Kᵀ / √d) V.
#
# Why the **√d**? If the entries of q and k have unit variance, q·k is a sum of d such products and has variance d.
# As d grows the logits spread, the softmax puts all its weight on one key, and its gradient — the Jacobian
# diag(p) − p pᵀ — goes to zero, so the scores stop learning. Dividing by √d keeps the logits at unit variance for
# every d. The measurement: random unit-variance q and 32 keys, 2,000 draws per d.

# %%
# NBVAL_CHECK_OUTPUT
gen = torch.Generator().manual_seed(seed)
dims, n_keys = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], 32
study = {False: {"entropy": [], "grad": []}, True: {"entropy": [], "grad": []}}
for d in dims:
    q, k = torch.randn(2000, 1, d, generator=gen), torch.randn(2000, n_keys, d, generator=gen)
    raw = (q @ k.transpose(1, 2)).squeeze(1)  # (2000, 32): logits with variance d
    for scaled in (False, True):
        p = torch.softmax(raw / math.sqrt(d) if scaled else raw, dim=-1)  # (2000, 32)
        jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)  # ∂p/∂logits (2000, 32, 32)
        study[scaled]["entropy"].append(float(-(p * p.clamp_min(1e-30).log()).sum(-1).mean()))
        study[scaled]["grad"].append(float(jac.norm(dim=(-2, -1)).mean()))
print(f"{'d':>5s} {'entropy (nats) unscaled':>24s} {'÷√d':>6s} {'|∂p/∂e| unscaled':>18s} {'÷√d':>6s}")
for i, d in enumerate(dims):
    print(f"{d:5d} {study[False]['entropy'][i]:24.2f} {study[True]['entropy'][i]:6.2f} "
          f"{study[False]['grad'][i]:18.3f} {study[True]['grad'][i]:6.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9.5, 3))
for scaled, style in ((False, "o-"), (True, "s-")):
    label = "q·k / √d (scaled)" if scaled else "q·k (unscaled)"
    axes[0].plot(dims, study[scaled]["entropy"], style, label=label)
    axes[1].plot(dims, study[scaled]["grad"], style, label=label)
axes[0].axhline(math.log(n_keys), color="k", ls="--", lw=0.9, label=f"uniform over {n_keys} keys")
axes[0].set(xscale="log", xlabel="d (query and key width)", ylabel="softmax entropy (nats)")
axes[1].set(xscale="log", xlabel="d (query and key width)", ylabel="‖∂softmax/∂logits‖ (mean)")
for ax in axes:
    ax.set_xticks(dims[::2], [str(d) for d in dims[::2]])
    ax.legend(fontsize=8)
fig.suptitle(f"without √d the softmax saturates: entropy {study[False]['entropy'][-1]:.2f} nats and gradient "
             f"{study[False]['grad'][-1]:.3f} at d = {dims[-1]} (scaled: {study[True]['entropy'][-1]:.2f}, "
             f"{study[True]['grad'][-1]:.3f})", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Exercise 1 · scaled dot-product attention.** Write `dot_product_attention(q, k, v, mask=None)`: q (…, Tq, d),
# k (…, Tk, d), v (…, Tk, dv) and an optional bool `mask` broadcastable to (…, Tq, Tk), True where query i may look
# at key j → (out (…, Tq, dv), weights (…, Tq, Tk)). Scores q kᵀ / √d; masked scores to −∞ **before** the softmax
# over the keys (05's masked softmax, one axis more); out = weights @ v. The check compares yours with labkit's
# `scaled_dot_product` and then with PyTorch's fused `F.scaled_dot_product_attention`, which returns only `out`.

# %%
def dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                          mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √d) v over the last two axes, masked keys at exactly 0 weight."""
    ### BEGIN SOLUTION
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Tq, Tk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
    ### END SOLUTION

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(1)
q_toy, k_toy, v_toy = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))  # (B=2, heads=3, T=5, d=8)
pad = torch.tensor([[True] * 5, [True, True, True, False, False]])[:, None, None, :]  # (2, 1, 1, 5)
dot_product_attention = check_function(
    "dot_product_attention", dot_product_attention, scaled_dot_product,
    cases=[(q_toy, k_toy, v_toy), (q_toy, k_toy, v_toy, pad), (q_toy[0, 0], k_toy[0, 0], v_toy[0, 0])],
    hint="divide q @ k.transpose(-2, -1) by sqrt(d), fill masked scores with -inf before the softmax over dim=-1")
fused = F.scaled_dot_product_attention(q_toy, k_toy, v_toy, attn_mask=pad)
print(f"yours against F.scaled_dot_product_attention (masked): max |Δ| = "
      f"{(dot_product_attention(q_toy, k_toy, v_toy, pad)[0] - fused).abs().max():.1e}")

# %% [markdown]
# ## 2 · Multi-head attention, as your module
#
# One softmax can look at one place per query. **Multi-head** attention runs h attentions side by side, each on its
# own d/h-wide projections of the same input, and concatenates their outputs before a last projection W_o. For
# self-attention, queries, keys and values are the same sequence X (B, T, E):
#
#     Q, K, V = X W_qᵀ + b_q, X W_kᵀ + b_k, X W_vᵀ + b_v          (B, T, E) each
#     split each into h heads of width E/h                        (B, h, T, E/h)
#     out_j, A_j = dot_product_attention(Q_j, K_j, V_j, mask)     per head j
#     MHA(X) = concat_j(out_j) W_oᵀ + b_o                         (B, T, E)
#
# The **padding mask** is 05's mask generalised: (B, T) True on real frames becomes (B, 1, 1, T), so every query of
# every head ignores the padded keys. PyTorch's `key_padding_mask` means the opposite (True = *ignore*): a classic
# source of silent bugs when switching between the two.
#
# **Exercise 2 · `MyMultiHeadAttention`.** Use PyTorch's parameter layout, so the check can load a trained layer into
# yours: `in_proj_weight` (3E, E) holding W_q, W_k, W_v stacked (`chunk(3)` splits it), `in_proj_bias` (3E,), and
# `out_proj` an `nn.Linear(E, E)`. `forward(query, key=None, value=None, key_mask=None, attn_mask=None)` →
# (out (B, Tq, E), weights (B, h, Tq, Tk)); `key_mask` (B, Tk) True on real positions, `attn_mask` (Tq, Tk) True
# where query i may look at key j. The check loads the first self-attention layer of the shipped transformer
# (§4) into yours; then PyTorch's `nn.MultiheadAttention` gets the same weights and must agree to 1e-6.

# %%
class MyMultiHeadAttention(torch.nn.Module):
    """h heads of scaled dot-product attention on E/h-wide projections, concatenated and projected."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        ### BEGIN SOLUTION
        self.d_model, self.heads = d_model, heads
        self.in_proj_weight = torch.nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = torch.nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = torch.nn.Linear(d_model, d_model)
        torch.nn.init.xavier_uniform_(self.in_proj_weight)
        ### END SOLUTION

    def forward(self, query, key=None, value=None, key_mask=None, attn_mask=None):
        ### BEGIN SOLUTION
        key = query if key is None else key
        value = key if value is None else value
        b, tq, e = query.shape
        split = lambda x: x.view(b, -1, self.heads, e // self.heads).transpose(1, 2)  # noqa: E731 (B, h, T, E/h)
        (w_q, w_k, w_v), (b_q, b_k, b_v) = self.in_proj_weight.chunk(3), self.in_proj_bias.chunk(3)
        q, k, v = split(F.linear(query, w_q, b_q)), split(F.linear(key, w_k, b_k)), split(F.linear(value, w_v, b_v))
        mask = None if key_mask is None else key_mask[:, None, None, :]
        if attn_mask is not None:
            mask = attn_mask if mask is None else mask & attn_mask
        out, weights = dot_product_attention(q, k, v, mask)  # (B, h, Tq, E/h)
        return self.out_proj(out.transpose(1, 2).reshape(b, tq, e)), weights
        ### END SOLUTION

# %%
# NBVAL_CHECK_OUTPUT
shipped_attn = zoo.load_pretrained("events", "sinusoidal", 0).layers[0].self_attn  # trained weights
E, H = shipped_attn.d_model, shipped_attn.heads
x_toy = torch.randn(4, 9, E, generator=g)
frames_toy = torch.tensor([[True] * 9, [True] * 6 + [False] * 3, [True] * 2 + [False] * 7, [True] * 9])
my_attention = check_module(
    "multi_head_attention", lambda: MyMultiHeadAttention(E, H), shipped_attn,
    [(x_toy,), (x_toy, None, None, frames_toy), (x_toy, None, None, None, torch.ones(9, 9).tril().bool())],
    hint="chunk in_proj_weight into W_q, W_k, W_v; split heads with view(B, T, h, E/h).transpose(1, 2); "
         "merge them back with transpose(1, 2).reshape(B, T, E) before out_proj")

# %%
torch_mha = torch.nn.MultiheadAttention(E, H, batch_first=True).eval()
torch_mha.load_state_dict(my_attention.state_dict())  # the same parameter names: the weights load as they are
with torch.inference_mode():
    mine_out, mine_w = my_attention.eval()(x_toy, key_mask=frames_toy)
    ref_out, ref_w = torch_mha(x_toy, x_toy, x_toy, key_padding_mask=~frames_toy, average_attn_weights=False)
mha_diff = max((mine_out - ref_out).abs().max().item(), (mine_w - ref_w).abs().max().item())
labkit.record("mha_max_abs_diff", float(f"{mha_diff:.2e}"), quiet=True)
print(f"{'your' if my_attention is not shipped_attn else 'labkit’s'} multi-head attention against "
      f"torch.nn.MultiheadAttention with the same weights: max |Δ| = {mha_diff:.1e} over outputs and weights "
      f"({'reached' if mha_diff <= 1e-6 else 'MISSED'}: goal ≤ 1e-6)")

# %% [markdown]
# **Exercise 3 · the causal mask.** A decoder that generates a caption word by word (06) may only look at the past.
# In self-attention that is a mask: query i may see key j only if j ≤ i. Write `causal_mask(t)` → (t, t) bool, True
# on and below the diagonal. The check compares it with labkit's and then tests what it is *for*: with your mask,
# changing the last frames of a sequence must leave the outputs of the earlier positions unchanged.

# %%
def causal_mask(t: int) -> torch.Tensor:
    """(t, t) bool: True where query i may look at key j, i.e. j ≤ i."""
    ### BEGIN SOLUTION
    return torch.ones(t, t, dtype=torch.bool).tril()
    ### END SOLUTION

# %%
# NBVAL_CHECK_OUTPUT
causal_mask = check_function("causal_mask", causal_mask, labkit_causal_mask, cases=[(1,), (4,), (9,)],
                             hint="torch.ones(t, t, dtype=torch.bool).tril(): row i is query i, column j key j")

# %%
# NBVAL_CHECK_OUTPUT
changed = x_toy.clone()
changed[:, 6:] = torch.randn(4, 3, E, generator=g)  # a different future after position 5
with torch.inference_mode():
    before = my_attention(x_toy, attn_mask=causal_mask(9))[0]
    after = my_attention(changed, attn_mask=causal_mask(9))[0]
    free = my_attention(changed)[0]
print(f"positions 0–5 with the causal mask: max change {(after - before)[:, :6].abs().max():.1e} when frames 6–8 "
      f"change (0: they cannot see the future); without it: {(free - before)[:, :6].abs().max():.2f}")

# %% [markdown]
# ## 3 · Positions: self-attention cannot tell order
#
# Shuffle the frames of a video and self-attention shuffles its outputs the same way: every score q_i·k_j depends
# only on the two frames' contents, not on where they are. With a [CLS] token that reads out the class, the
# prediction does not change at all (up to float rounding, about 1e-6) — a transformer without positions sees a
# *set* of frames. The shipped model trained without positions shows it; the one with sinusoidal positions does not:

# %%
# NBVAL_CHECK_OUTPUT
order_test = event_videos.order_items("test")
one = yt8m.collate_frames(order_test[:8])
perm = torch.randperm(one["rgb"].shape[1], generator=g)
shuffled = {**one, "rgb": one["rgb"][:, perm], "mask": one["mask"][:, perm]}
with torch.inference_mode():
    for pos in ("none", "sinusoidal"):
        net = zoo.load_pretrained("order", pos, 0)
        d_logits = (net(one) - net(shuffled)).abs().max().item()
        print(f"positions={pos:10s}: max change of the logits when the frames are shuffled = {d_logits:.2e}")

# %% [markdown]
# **Sinusoidal positions** (Vaswani et al.) add to frame t's embedding a vector of sines and cosines of t at
# geometrically spaced frequencies: each pair of columns is a clock, fast ones tell neighbouring frames apart, slow
# ones tell the start from the end, and "k frames later" is the same rotation at every t. **Learned** positions are
# one trained vector per index instead (BERT, ViT). Below: the table the model adds (the [CLS] token is position 0),
# and the similarity of position 10 to every other — high near 10, falling off with distance.

# %%
pe = sinusoidal_positions(41, E).numpy()
fig, axes = plt.subplots(1, 2, figsize=(9.5, 2.8), gridspec_kw={"width_ratios": [1.6, 1]})
im = axes[0].imshow(pe.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
axes[0].set(xlabel="position t (0 = [CLS])", ylabel="dimension", title="sinusoidal positions PE[t]")
fig.colorbar(im, ax=axes[0], fraction=0.04)
axes[1].plot(pe @ pe[10] / (np.linalg.norm(pe, axis=1) * np.linalg.norm(pe[10])), "o-", ms=3)
axes[1].axvline(10, color="k", ls="--", lw=0.8)
axes[1].set(xlabel="position t", ylabel="cosine(PE[t], PE[10])", title="nearby positions look alike")
plt.tight_layout()
plt.show()

# %% [markdown]
# **The measured ablation.** Notebook 06's sequence videos (12–20 frames) show two different digits, each for 3–5
# frames, one after the other. The **order task** asks which digit came *first* (10 classes). A model that knows *which* two digits it saw but not
# their order can do no better than a coin flip between them; only positions can take it further (the features of
# these videos carry no time column — 06 added one to its SA-LSTM for exactly this reason). Shipped checkpoints,
# `tools/train_video_transformer.py order --positions P`, three seeds each, same model and budget, epoch picked on
# the 200 validation videos, scored once on the 300 test videos. **Goal:** removing the positions costs ≥ 10 points.

# %%
# NBVAL_CHECK_OUTPUT
records = zoo.shipped()
order_acc = {}
for pos in ("sinusoidal", "learned", "none"):
    order_acc[pos] = []
    for s in zoo.SEEDS:
        name = zoo.checkpoint_name("order", pos, s)
        got = heldout_figures(zoo.load_pretrained("order", pos, s), order_test, task="order")
        assert abs(got["accuracy"] - records[name]["heldout"]["accuracy"]) <= 1.01e-4, (name, got, records[name])
        order_acc[pos].append(got["accuracy"])
drop = 100 * (np.mean(order_acc["sinusoidal"]) - np.mean(order_acc["none"]))
labkit.record("positions_ablation_drop", round(float(drop), 2), quiet=True)
print("order task, 300 constructed test videos, accuracy (mean ± sd of 3 seeds; recomputed = recorded):")
for pos, acc in order_acc.items():
    print(f"  positions={pos:10s} {np.mean(acc):.3f} ± {np.std(acc, ddof=1):.3f}   seeds: {acc}")
print(f"removing the positions costs {drop:.1f} points ({'reached' if drop >= 10 else 'MISSED'}: goal ≥ 10)")

# %%
shown_as = {"sinusoidal": "sinusoidal positions", "learned": "learned positions", "none": "no positions"}
fig = metric_bars({shown_as[p]: {"accuracy": order_acc[p]} for p in order_acc}, keys=("accuracy",),
                  title=f"order task (which digit came first), constructed test videos, mean ± sd of 3 seeds\n"
                        f"no positions: {drop:.1f} points lower (goal ≥ 10 {'reached' if drop >= 10 else 'MISSED'}); "
                        "dashed: a coin flip between the two digits")
fig.axes[0].axhline(0.5, color="k", ls="--", lw=0.9)
plt.show()

# %% [markdown]
# **Exercise 4 · relative against absolute positions (open).** Both encodings above are *absolute*: frame 12 gets
# the same vector whether the video starts with a digit or with 30 frames of clutter. The question here is "which of
# two digits came first", which depends only on the *difference* of their positions. Shaw et al. (2018) and T5 add a
# learned bias b_{j−i} to the score q_i·k_j instead (relative positions); ALiBi (Press et al. 2022) makes it a fixed
# slope −m·|j − i| per head. Add a relative bias to `MultiHeadAttention` (a learned table of 2·max_len − 1 values
# per head, indexed by j − i), train it on the order task with `tools/train_video_transformer.py` and compare: does
# it need fewer epochs, does it generalise to videos longer than any it trained on (make some with 06's generator
# and a longer `length`), and what does its bias table look like after training? There is no check cell: write down
# what you expect first.

# %% [markdown]
# ## 4 · A small transformer on 05's event videos
#
# The model (`labkit.models.transformer.VideoTransformer`) is 05's classifier with the BiLSTM + attention pooling
# replaced by self-attention: the 32 frame features are projected to d = 64, a learned **[CLS]** token is put in
# front, positions are added, two **pre-LN** encoder layers (4 heads, feed-forward 192; layer norm *before* each
# block trains more stably than the original's after) run over [CLS] + frames with padding masked, and the [CLS]
# state reads out the 10 digits. [CLS] pooling is attention pooling done inside the encoder: in the last layer, the
# [CLS] token's attention row over the frames plays the part of 05's α. 86,410 parameters against the BiLSTM's
# 86,603. First a short run from scratch through the course's loop (quick profile: 600 videos, 6 epochs), so you
# see it learn; then the shipped checkpoints, trained on all 2,000 videos for 30 epochs. With `data_root`, the run
# from scratch reads YouTube-8M frame-level shards instead (`rgb` only; the `validate` shards split in two halves,
# validation and test, as in 05) and the sections on shipped checkpoints are skipped.

# %%
if bundled:
    train_ds = event_videos.preload(event_videos.event_dataset("train", max_frames), train_videos or None)
    val_ds, test_ds = (event_videos.preload(event_videos.event_dataset(s, max_frames)) for s in ("val", "test"))
    config = zoo.model_config(positions)
else:
    files = {s: sorted(Path(data_root).glob(f"{s}*.tfrecord")) for s in ("train", "validate")}
    assert files["train"] and files["validate"], f"{data_root} needs train*.tfrecord and validate*.tfrecord shards"
    rgb = {"rgb": yt8m.detect_features(files["train"][0])["rgb"]}  # the transformer reads one modality
    full = yt8m.YT8MFrameDataset(files["train"], num_classes, max_frames, rgb)
    train_ds = Subset(full, range(min(train_videos, len(full)))) if train_videos else full
    held = yt8m.YT8MFrameDataset(files["validate"], num_classes, max_frames, rgb)
    val_ds, test_ds = Subset(held, range(len(held) // 2)), Subset(held, range(len(held) // 2, len(held)))
    config = zoo.model_config(positions, features=rgb, num_classes=num_classes, max_len=max_frames)
val_loader = DataLoader(val_ds, batch_size=100, collate_fn=yt8m.collate_frames)

torch.manual_seed(seed)
model = VideoTransformer(config)
print(f"parameters: {sum(p.numel() for p in model.parameters()):,} "
      f"(05's BiLSTM + attention: {sum(p.numel() for p in lstm_zoo.load_pretrained().parameters()):,})")
opt = torch.optim.Adam(model.parameters(), lr=lr)
warmup = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: min(1.0, (e + 1) / 2))  # 2-epoch linear warm-up
cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device="cpu", monitor="val_gap",
                  monitor_mode="max", progress=False)
t0 = time.perf_counter()
history = fit(model, train_ds, bce_step, cfg, eval_fn=lambda m: {"val_gap": gap(*predict(m, val_loader))},
              collate_fn=yt8m.collate_frames, optimizer=opt, scheduler=warmup)
labkit.record("scratch_train_seconds", round(time.perf_counter() - t0, 1), quiet=True)
plot_history_panels(history, [("loss",), ("val_gap",)], best_epoch=history.best_epoch,
                    title=f"transformer ({positions} positions), {len(train_ds)} training videos: best validation "
                          f"epoch {history.best_epoch}")
plt.show()
scratch_scores, scratch_labels = predict(model, DataLoader(test_ds, batch_size=100, collate_fn=yt8m.collate_frames))
scratch_gap = gap(scratch_scores, scratch_labels)
labkit.record("test_gap", round(scratch_gap, 4), quiet=True)
labkit.record("test_hit_at_1", round(hit_at_one(scratch_scores, scratch_labels), 4), quiet=True)
print(f"run from scratch, {'constructed ' if bundled else ''}test videos: GAP {scratch_gap:.3f}, Hit@1 "
      f"{hit_at_one(scratch_scores, scratch_labels):.3f}" + (" (the shipped checkpoints below had all 2,000 videos)"
                                                            if bundled else ""))

# %% [markdown]
# **The comparison.** `tools/train_video_transformer.py events` trained the transformer with the same data, frame
# features, epochs (30), batch (32) and seeds (0, 1, 2) as 05's shipped BiLSTM + attention checkpoints, the epoch
# picked on the 300 validation videos by GAP and the 500 test videos scored once (`data/video/MANIFEST.json`).
# Both are re-scored here. CPU time per video is measured now, on this machine: all 500 test videos in batches of
# 100 under `torch.inference_mode()`, 1 thread, best of 3. **Goal:** the transformer's GAP ≥ the BiLSTM's − 0.01.

# %%
if bundled:
    lstm_records = lstm_zoo.shipped()
    runs = {"transformer": {s: zoo.load_pretrained("events", "sinusoidal", s) for s in zoo.SEEDS},
            "BiLSTM + attention": {s: lstm_zoo.load_pretrained("attention", s) for s in lstm_zoo.SEEDS}}
    preds = {kind: {s: predict_split(m, "test", test_ds) for s, m in ms.items()} for kind, ms in runs.items()}
    table = {kind: {"gap": [gap(p["scores"], p["labels"]) for p in ps.values()],
                    "hit@1": [hit_at_one(p["scores"], p["labels"]) for p in ps.values()]} for kind, ps in preds.items()}
    for s in zoo.SEEDS:  # recomputed = recorded
        assert abs(table["transformer"]["gap"][s] - records[zoo.checkpoint_name("events", "sinusoidal", s)]["heldout"]["gap"]) <= 1.01e-4
        assert abs(table["BiLSTM + attention"]["gap"][s] - lstm_records[lstm_zoo.checkpoint_name("attention", s)]["heldout"]["gap"]) <= 1.01e-4


    def seconds_per_video(net: torch.nn.Module) -> float:
        loader = DataLoader(test_ds, batch_size=100, collate_fn=yt8m.collate_frames)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            predict(net, loader)
            best = min(best, time.perf_counter() - t)
        return best / len(test_ds)


    cpu_ms = {kind: 1000 * seconds_per_video(ms[0]) for kind, ms in runs.items()}
    params = {kind: sum(p.numel() for p in ms[0].parameters()) for kind, ms in runs.items()}

# %%
# NBVAL_CHECK_OUTPUT
if bundled:
    ms_ = lambda v: f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}"  # noqa: E731
    print(f"{'500 constructed test videos, 3 seeds':36s} {'GAP':>15s} {'Hit@1':>15s} {'parameters':>11s}")
    for kind in runs:
        print(f"{kind:36s} {ms_(table[kind]['gap']):>15s} {ms_(table[kind]['hit@1']):>15s} {params[kind]:>11,}")
    t_gap, l_gap = float(np.mean(table["transformer"]["gap"])), float(np.mean(table["BiLSTM + attention"]["gap"]))
    labkit.record("transformer_gap", round(t_gap, 4), quiet=True)
    labkit.record("bilstm_attention_gap", round(l_gap, 4), quiet=True)
    print(f"transformer GAP − BiLSTM + attention GAP = {t_gap - l_gap:+.3f} "
          f"({'reached' if t_gap >= l_gap - 0.01 else 'MISSED'}: goal ≥ −0.01)")

# %%
if bundled:
    speed = cpu_ms["transformer"] / cpu_ms["BiLSTM + attention"]
    print("CPU time per video (this machine, now): " + ", ".join(f"{kind} {cpu_ms[kind]:.2f} ms" for kind in runs) +
          f"; the transformer takes {speed:.1f}× the BiLSTM's time")
    labkit.record("transformer_ms_per_video", round(cpu_ms["transformer"], 3), quiet=True)
    labkit.record("bilstm_ms_per_video", round(cpu_ms["BiLSTM + attention"], 3), quiet=True)
    fig = metric_bars({k: table[k] for k in runs}, keys=("hit@1", "gap"),
                      title=f"constructed test videos, mean ± sd of 3 seeds\ntransformer − BiLSTM GAP {t_gap - l_gap:+.3f} "
                            f"(goal ≥ −0.01 {'reached' if t_gap >= l_gap - 0.01 else 'MISSED'})")
    plt.show()

# %% [markdown]
# **Which one is faster depends on where it runs.** The BiLSTM's 80 steps must run one after the other, but each is
# one small fused kernel (PyTorch's LSTM on packed sequences); self-attention computes all 81 positions of a layer at
# once, but in more, separate operations — projections, a (T + 1)² score matrix per head, the softmax, the
# feed-forward block — twice, for two layers. On a 2-core CPU with widths of 64, the line above is the measurement
# (on the machine that ran this copy the transformer took about twice the BiLSTM's time). On a GPU, where the steps
# of an LSTM leave most of the chip idle, and with a fused attention kernel (`F.scaled_dot_product_attention`),
# the parallel model wins; at thousands of frames the quadratic score matrix becomes its main cost.
#
# ## 5 · Where does each head look?
#
# 05 measured one α per video: its mass on the frames that show a label digit, divided by their share of the video
# (1× = uniform). A transformer has one such α per layer and head — the [CLS] token's attention row over the frames,
# renormalised over the frames (the weight [CLS] gives itself is left out). The table gives each head's median ratio
# over the 500 test videos, for the three shipped seeds. **Goal:** at least one head ≥ 3×.

# %%
# NBVAL_CHECK_OUTPUT
if bundled:
    rows = {s: head_attention(m, test_ds) for s, m in runs["transformer"].items()}
    informative = preds["transformer"][0]["informative"]
    ratios = {s: head_mass_ratios(r, informative) for s, r in rows.items()}
    best_ratio = float(max(r.max() for r in ratios.values()))
    labkit.record("best_head_mass_ratio", round(best_ratio, 2), quiet=True)
    for s, r in ratios.items():
        print(f"seed {s}: " + "   ".join(f"layer {li + 1}: " + " ".join(f"{v:5.1f}×" for v in r[li]) for li in range(len(r))))
    print(f"best head: {best_ratio:.1f}× ({'reached' if best_ratio >= 3 else 'MISSED'}: goal ≥ 3×); the last layer's "
          f"head mean (what §4's α is): {np.median(informative_mass(preds['transformer'][0]['alpha'], informative)['ratio']):.1f}× (seed 0)")

# %% [markdown]
# **Exercise 5 · a head's mass ratio.** From `rows` — per test video a (layers, heads, T_i) array of [CLS] weights
# over its own frames — and `informative` — per video a (T_i,) bool array, True on the frames that show a label
# digit — compute, for layer 2 head 1 of seed 0 (`rows[0]`, indices [1, 0]), the median over videos of
# (Σ weights on informative frames) / (number of informative frames / T_i). Skip videos without informative frames.

# %%
def head_ratio(video_rows: list, informative: list, layer: int, head: int) -> float:
    """Median over videos of the head's mass on the informative frames ÷ their share of the video's frames."""
    ### BEGIN SOLUTION
    out = [r[layer, head][m].sum() / m.mean() for r, m in zip(video_rows, informative, strict=True) if m.any()]
    return float(np.median(out))
    ### END SOLUTION

# %%
# NBVAL_CHECK_OUTPUT
if bundled:
    check_value("head_ratio", lambda: head_ratio(rows[0], informative, 1, 0), ratios[0][1, 0],
                hint="mass = r[layer, head][mask].sum(); share = mask.mean(); the median of mass/share over videos",
                rtol=1e-6)

# %% [markdown]
# **Per head, per video.** The frames of a test video, and under them one row per (layer, head): where the [CLS]
# token looks, each row scaled to its own peak; orange marks the frames that show a label digit. The title says
# whether the top class is a label (green ✓) or not (red ✗); the line under each figure counts the heads whose
# peak sits on a frame that shows a label digit. The heads need not agree: in one of these two videos most of them
# look at the digit, in the other several peak on one clutter frame and few on the digit — and the class is still
# read right. One video shows a case; the table above is the measurement over all 500.

# %%
if bundled:
    top2 = np.argsort(-preds["transformer"][0]["scores"], axis=1, kind="stable")[:, :2]
    ids = preds["transformer"][0]["ids"]
    gen_cfg = event_videos.event_config()
    best_layer, best_head = np.unravel_index(int(np.argmax(ratios[0])), ratios[0].shape)


    def head_view(index: int = 3, layer: int = int(best_layer) + 1, head: int = int(best_head) + 1):
        v = event_video_from_id(ids[index], gen_cfg)
        title, right = prediction_title(v.id, v.digits, top2[index].tolist())
        head_attention_strip(v.frames, rows[0][index], f"{title} — outlined: layer {layer} head {head}", informative[index],
                             right=right, selected=(layer - 1, head - 1))
        plt.show()
        peaks = rows[0][index].argmax(-1)  # (L, h): the frame each head weights most
        on_label = informative[index][peaks]
        others = sorted(set(peaks[~on_label].tolist()))
        print(f"{v.id}: {int(on_label.sum())} of {on_label.size} heads peak on a frame that shows a label digit"
              + (f"; the others on frames {others}, where no label digit is shown" if others else ""))


    for i in (3, 7):
        head_view(i)

# %% [markdown]
# **Explore heads, layers and videos.** Flip through the 500 test videos and the 8 heads: which heads follow the
# digits, which spread out, and does a head that looks at the right frames in one video do so in the next?
# Headless, one static view.

# %%
from labkit.course.explorer import explore

if bundled:
    explore(head_view, {"index": (0, len(ids) - 1), "layer": (1, rows[0][0].shape[0]), "head": (1, rows[0][0].shape[1])},
            {"index": 10})

# %% [markdown]
# ## What to remember
#
# - A dot-product score q·k is additive attention without the tanh network: all T×T scores are one matrix product.
#   Divide by √d, or the softmax saturates and stops learning as d grows (§1's measurement).
# - Multi-head attention is h small attentions on split projections, concatenated and projected; masks say which
#   keys a query may see (padding, the future). Mind the sign of the mask when you switch libraries.
# - Self-attention with a [CLS] read-out is blind to order; positions — sinusoidal or learned — are what let it
#   answer "which came first" (§3).
# - On 05's event videos a transformer of the same size and budget comes within 0.01 GAP of the BiLSTM + attention
#   (0.881 against 0.888, §4), and its heads, measured like 05's α, look at the frames that carry the labels — some
#   far more than others (3.4× to 14.8× for seed 0).
#
# ## Open-ended exercises
# 1. **Attention pooling without [CLS].** Replace the [CLS] token by 05's attention pooling over the encoder's
#    outputs. Does the GAP move? Do the heads' mass ratios change when they no longer feed one token?
# 2. **One layer, one head.** Train `VideoTransformer(TransformerConfig(layers=1, heads=1))` on the event videos:
#    how close does it come, and what does its single head look at?
# 3. **Causal video model.** Use your causal mask in every layer and read the class from the *last* frame's state
#    instead of [CLS] (a "streaming" classifier). What does that cost on the event videos, and why?
#
# The closing lines list each goal with the figure reached on the held-out constructed videos.

# %%
# NBVAL_CHECK_OUTPUT
print("goals (held-out constructed videos; shipped checkpoints, mean of 3 seeds where seeds apply):")
print(f"  {'reached' if mha_diff <= 1e-6 else 'MISSED '}  multi-head attention vs torch.nn.MultiheadAttention: "
      f"max |Δ| {mha_diff:.1e} (goal ≤ 1e-6)")
print(f"  {'reached' if drop >= 10 else 'MISSED '}  positional-encoding ablation on the order task: −{drop:.1f} "
      f"points (goal ≥ 10)")
if bundled:
    print(f"  {'reached' if t_gap >= l_gap - 0.01 else 'MISSED '}  transformer GAP {t_gap:.3f} vs BiLSTM + attention "
          f"{l_gap:.3f} (goal ≥ BiLSTM − 0.01)")
    print(f"  {'reached' if best_ratio >= 3 else 'MISSED '}  best head's median [CLS] mass ratio {best_ratio:.1f}× "
          "(goal ≥ 3×)")
else:
    print("  the transformer-vs-BiLSTM and per-head goals are measured on the bundled constructed videos only")

# %%
elapsed = time.perf_counter() - t_start
labkit.record("notebook_seconds", round(elapsed, 1), quiet=True)
print(f"notebook body ran in {elapsed:.0f} s")

# %% [markdown]
# ## References
# - A. Vaswani et al., *Attention Is All You Need*, NeurIPS 2017.
# - M.-T. Luong, H. Pham, C. D. Manning, *Effective Approaches to Attention-based Neural Machine Translation*, EMNLP 2015 (dot-product scores).
# - D. Bahdanau, K. Cho, Y. Bengio, *Neural Machine Translation by Jointly Learning to Align and Translate*, ICLR 2015 (additive scores, notebook 06).
# - J. Devlin et al., *BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding*, NAACL 2019 ([CLS], learned positions).
# - R. Xiong et al., *On Layer Normalization in the Transformer Architecture*, ICML 2020 (pre-LN).
# - P. Shaw, J. Uszkoreit, A. Vaswani, *Self-Attention with Relative Position Representations*, NAACL 2018; O. Press et al., *Train Short, Test Long* (ALiBi), ICLR 2022.
# - A. Zhang et al., *Dive into Deep Learning*, chapter 11 (attention mechanisms and transformers); P. Lippe, *UvA Deep Learning Tutorial 6: Transformers and Multi-Head Attention*.
