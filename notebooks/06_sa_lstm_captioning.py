# %% [markdown]
# # 06 · SA-LSTM video captioning — temporal soft attention, beam search, the standard caption metrics
#
# A classifier answers "which digits are in this video?"; a **captioner** answers in words: *"the digit 3 moves down
# while the digit 7 bounces left"*. SA-LSTM (Yao et al., ICCV 2015) writes the sentence one word at a time and, before
# every word, decides **which frames to look at**.
#
# **In this notebook** you will
# 1. see how captioning differs from classification (targets, loss, decoding, evaluation),
# 2. build the decoder: temporal soft attention e_i = wᵀ tanh(W h_{t-1} + U v_i + b), α = softmax over frames, with
#    padded frames masked out, and an LSTM fed the context next to the previous word,
# 3. train it with teacher forcing (quick profile: captioned Moving MNIST with ResNet-152 features, about a minute),
# 4. decode greedily and with beam search, and read the word-by-frame attention,
# 5. score with BLEU-1..4, METEOR, ROUGE-L and CIDEr through `pycocoevalcap`, and see why tokenisation changes them.
#
# Three **exercises** ask you to write the pieces yourself — the attention step (§3), one beam-search choice with
# length normalisation (§5) and BLEU's clipped n-gram matches (§7). A check cell under each compares yours with labkit's;
# later cells use yours once it passes, labkit's until then.

# %% tags=["parameters"]
from typing import Optional

profile: str = "quick"  # quick|full: quick is bundled captioned Moving MNIST and small sizes, full uses the SA-LSTM MSVD sizes
data_root: Optional[str] = None  # None: bundled data; an MSVD folder with the corpus CSV and features.hdf5
embed: int = 64  # 1..: word embedding size (SA-LSTM on MSVD: 468)
hidden: int = 128  # 1..: LSTM state size (SA-LSTM: 512)
attention_dim: int = 64  # 1..: size where W h and U v meet (SA-LSTM: 256)
epochs: int = 8  # 1..: training epochs
batch_size: int = 32  # 1..: captions per batch
lr: float = 0.003  # >0: Adam learning rate (SA-LSTM on MSVD: 5e-5 with AMSGrad)
beam_width: int = 3  # 1..: beam search width (SA-LSTM: 5)
max_len: int = 20  # 2..: longest caption in tokens (SA-LSTM: 30)
seed: int = 0  # 0..: seed for Python, NumPy and torch

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import labkit
from labkit.data.captions import CaptionDataset, Vocabulary, load_mmnist_captions, load_msvd, mmnist_config, tokenize
from labkit.course.exercises import check_function
from labkit.data.moving_mnist import video_from_id
from labkit.data.sequences import pad_or_trim
from labkit.metrics.captioning import clipped_ngram_matches, score, score_systems
from labkit.models.sa_lstm import SALSTM, SALSTMConfig, TemporalAttention, generate
from labkit.models.sa_lstm import select_beams as labkit_select_beams
from labkit.train import TrainConfig, fit
from labkit.viz.curves import plot_history
from labkit.viz.captions import attention_diagram, attention_heatmap, captions_beside_frames

labkit.seed_everything(seed)
labkit.set_threads(1)  # tiny recurrent steps: one thread is faster than two fighting over them
if profile == "full":  # SA-LSTM's configuration (hobincar/SA-LSTM, MSVD)
    embed, hidden, attention_dim, max_len, beam_width = 468, 512, 256, 30, 5

# %% [markdown]
# ## 1 · Captioning vs classification
#
# Both start from the same frame features v_1..v_T (here: a frozen ResNet-152, one 128-d vector per frame). They differ
# in everything after that:
#
# | | classification (notebook 05) | captioning (this notebook) |
# |---|---|---|
# | target | a set of labels | a sentence, and several *different* correct sentences per video |
# | model output | one score per class | a distribution over the next word, at every step |
# | loss | (binary) cross-entropy on the labels | cross-entropy of each next word given the true previous words (teacher forcing) |
# | prediction | threshold / argmax | a search over sentences: greedy or beam |
# | evaluation | accuracy, GAP | n-gram overlap with the references: BLEU, METEOR, ROUGE-L, CIDEr |
#
# The quick profile captions Moving MNIST videos: the captions are generated from each video's digits, headings and
# bounces, in four phrasings (one names the digits in the other order), so references disagree the way people do.

# %%
if data_root is None:
    data = load_mmnist_captions()
    cfg_mm = mmnist_config()
else:
    data, cfg_mm = load_msvd(data_root), None
print({k: f"{len(v)} videos" for k, v in data.items()})
vid = next((i for i in data["train"].ids if len(set(data["train"].captions[i][0].split()) & set("0123456789")) == 2),
           data["train"].ids[0])  # a two-digit video when there is one (Moving MNIST)
print("classification target (digits):", video_from_id(vid, cfg_mm).digits if data_root is None else "n/a")
for c in data["train"].captions[vid]:
    print("caption:", c)

# %%
if data_root is None:
    fig = captions_beside_frames(video_from_id(vid, cfg_mm).frames, {"labels": str(video_from_id(vid, cfg_mm).digits),
                                                                    "caption": data["train"].captions[vid][0]})
    fig.suptitle(f"{vid}: one video, two kinds of target", fontsize=10)
    plt.show()

# %% [markdown]
# ## 2 · Words to ids
#
# The vocabulary keeps words seen at least twice in the *training* captions; ids 0–3 are `<pad> <bos> <eos> <unk>`.
# A caption becomes `<bos> w1 … wn <eos>`, padded with `<pad>` to the longest in its batch; the loss ignores `<pad>`.

# %%
# NBVAL_CHECK_OUTPUT
vocab = Vocabulary.build([c for cs in data["train"].captions.values() for c in cs], min_count=2)
example = data["train"].captions[vid][0]
ids = vocab.encode(example)
expected = " ".join(w if w in vocab.stoi else "<unk>" for w in tokenize(example))  # lower case, no punctuation
assert vocab.decode(ids) == expected, "vocabulary round trip failed"
print(len(vocab), "words;", ids)
print(vocab.itos[:24])

# %% [markdown]
# ## 3 · Temporal soft attention
#
# At word step t the decoder scores every frame against its previous state h_{t-1}:
#
#   e_i = wᵀ tanh(W h_{t-1} + U v_i + b),  α = softmax_i(e),  φ_t = Σ_i α_i v_i
#
# and the LSTM reads `[E y_{t-1}; φ_t]`: the previous word's embedding next to a context that can be a *different
# mixture of frames for every word*. U v_i does not depend on t, so it is computed once per video. Videos are padded
# to the longest in the batch; padded frames get e_i = −∞, hence α_i = 0 exactly (see `labkit/models/sa_lstm.py`).

# %%
fig = attention_diagram(5)
plt.show()


# %% [markdown]
# **Exercise 1 · the attention step.** `att` is a `TemporalAttention` module with three linear maps: `att.W`
# (H → A, no bias), `att.U` (D → A, its bias is b) and `att.w` (A → 1, no bias). Write
# `attention_weights(att, h, uv, mask)`: the previous state h (B, H), the precomputed `uv` = U v_i + b (B, T, A) and
# the frame mask (B, T) (True on real frames) → α (B, T): e_i = wᵀ tanh(W h + U v_i + b), then a softmax over the
# frames with padded frames at exactly 0. Mind the shapes: W h is (B, A) and must be broadcast over the T frames.

# %%
def attention_weights(att: TemporalAttention, h: torch.Tensor, uv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """h (B, H), uv (B, T, A), mask (B, T) bool → α (B, T): masked softmax of wᵀ tanh(W h + uv)."""
    ### BEGIN SOLUTION
    e = att.w(torch.tanh(att.W(h).unsqueeze(1) + uv)).squeeze(-1)  # (B, 1, A) + (B, T, A) → (B, T)
    return torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)  # (B, T)
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
with torch.random.fork_rng():  # a toy module; the global random state (and so the model below) is untouched
    torch.manual_seed(0)
    toy_att = TemporalAttention(hidden=3, feature_dim=4, attention_dim=5)
    toy_h, toy_v = torch.randn(2, 3), torch.randn(2, 6, 4)
toy_uv, toy_mask = toy_att.project(toy_v), torch.tensor([[True] * 6, [True, True, True, False, False, False]])
with torch.no_grad():
    attention_weights = check_function(
        "attention_weights", attention_weights, TemporalAttention.weights,
        cases=[(toy_att, toy_h, toy_uv, toy_mask), (toy_att, toy_h[1:], toy_uv[1:], toy_mask[1:])],
        hint="W(h) is (B, A): unsqueeze(1) to add it to every frame's uv; set padded e_i to -inf before the "
             "softmax over dim=1")

# %%
train_set = CaptionDataset(data["train"], vocab, max_len=max_len)
val_f, val_m = pad_or_trim(data["val"].features)
test_f, test_m = pad_or_trim(data["test"].features)
cfg = SALSTMConfig(vocab_size=len(vocab), feature_dim=train_set.feats.shape[-1], embed=embed, hidden=hidden,
                   attention_dim=attention_dim, dropout=0.2 if profile == "quick" else 0.5)
model = SALSTM(cfg)
print(f"{len(train_set)} (video, caption) pairs; features {tuple(train_set.feats.shape)};",
      f"{sum(p.numel() for p in model.parameters()):,} parameters")


# %% [markdown]
# ## 4 · Training with teacher forcing
#
# Each step feeds the *true* previous word and asks for the next one (cross-entropy over the non-pad positions);
# `labkit.train.fit` runs the loop. After every epoch we caption the validation videos greedily and compute BLEU-4 —
# with `tokenize=False`, the pure-Python path (the PTB tokenizer is a Java start each time): our generated captions
# are already tokenised, and the references go through the same `tokenize` (lower case, no punctuation) first.

# %%
def step(m, batch):
    return m.loss(batch["feats"], batch["mask"], batch["caption"])


def decode_all(m, feats, mask, ids, width):
    tokens, alphas = generate(m, feats, mask, width, max_len, select=select_beams if width > 1 else None)  # §5: yours
    return {i: vocab.decode(t) for i, t in zip(ids, tokens, strict=True)}, tokens, alphas


def evaluate(m):
    cands, _, _ = decode_all(m, val_f, val_m, data["val"].ids, 1)
    refs = {i: [" ".join(tokenize(c)) for c in data["val"].captions[i]] for i in data["val"].ids}  # as we decode
    return {"val_bleu4": score(refs, cands, tokenize=False, metrics=("BLEU-4",))["BLEU-4"]}


# %%
tcfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, grad_clip=5.0, seed=seed, progress=False)
history = fit(model, train_set, step, tcfg, eval_fn=evaluate)
for e in history.epochs:
    print(f"epoch {e['epoch']}: loss {e['loss']:.3f}  val BLEU-4 {e['val_bleu4']:.3f}")
fig = plot_history(history, keys=("loss", "val_bleu4"))
plt.show()
assert len(history.epochs) < 2 or history.epochs[-1]["loss"] < 0.7 * history.epochs[0]["loss"], "training loss did not fall"


# %% [markdown]
# ## 5 · Greedy vs beam search
#
# Greedy decoding takes the most likely word at each step. Beam search keeps the `beam_width` best partial captions,
# all (batch × beam) rows at once, and ranks them by log p / length so that short captions are not favoured just for
# having fewer factors below 1. With width 1 it is exactly greedy — checked here on the test set.

# %% [markdown]
# **Exercise 2 · one beam-search choice.** At every step the beam holds K partial captions per video; each can grow by
# any of V words, so there are N = K·V candidates. Given each candidate's summed log-probability `total` (B, N) and
# its length in words `length` (B, N), write `select_beams(total, length, width, length_penalty=1.0)` → the indices
# (B, width) of the `width` best candidates, best first, ranked by total / max(length, 1)^length_penalty. Rank by
# raw log p instead and beam search prefers captions that stop early (each word adds a negative term).
# `torch.topk` does the picking. Beam search below runs with your function.

# %%
def select_beams(total: torch.Tensor, length: torch.Tensor, width: int, length_penalty: float = 1.0) -> torch.Tensor:
    """total, length (B, N) → indices (B, width) of the best by total / max(length, 1) ** length_penalty."""
    ### BEGIN SOLUTION
    normalised = total / length.clamp(min=1.0) ** length_penalty  # (B, N)
    return normalised.topk(width, dim=1).indices  # (B, width), best first
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
toy_total = torch.tensor([[-1.0, -2.5, -0.9, -4.4], [-3.0, -0.2, -6.0, -1.5]])
toy_len = torch.tensor([[1.0, 3.0, 1.0, 4.0], [2.0, 1.0, 5.0, 2.0]])
select_beams = check_function(
    "select_beams", select_beams, labkit_select_beams,
    cases=[(toy_total, toy_len, 2), (toy_total, toy_len, 3, 0.0),
           (torch.tensor([[-0.5, -0.3, -2.0]]), torch.tensor([[0.0, 1.0, 2.0]]), 2)],
    hint="divide by length.clamp(min=1) ** length_penalty before topk (a length-0 candidate must not give -inf)")

# %%
greedy, g_tok, g_alpha = decode_all(model, test_f, test_m, data["test"].ids, 1)
beam, b_tok, b_alpha = decode_all(model, test_f, test_m, data["test"].ids, beam_width)
one, _, _ = model.beam_search(test_f, test_m, width=1, max_len=max_len, select=select_beams)
assert torch.equal(one[:, : g_tok.shape[1]], g_tok), "beam width 1 must equal greedy"
print(f"beam width 1 == greedy on {len(g_tok)} test videos;",
      f"{sum(greedy[i] != beam[i] for i in greedy)} of them differ between greedy and beam {beam_width}")

# %%
if data_root is None:
    fig, axes = plt.subplots(4, 1, figsize=(10, 8))
    for ax, i in zip(axes, data["test"].ids[:4], strict=True):
        captions_beside_frames(video_from_id(i, cfg_mm).frames, {"greedy": greedy[i], f"beam {beam_width}": beam[i],
                                                                 "reference": data["test"].captions[i][0]}, ax=ax)
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## 6 · Which frames does each word look at?
#
# One row per generated word, one column per frame. Rows sum to 1 over the real frames; the padded frames of a short
# video get exactly 0. Words that name a digit should look where that digit is clearest; function words often spread out. (Soft attention
# is not an explanation: a model can get the word right while attending elsewhere, since the LSTM state carries
# information from earlier steps too.)

# %%
k = int(np.argmin(test_m.sum(1)))  # a short video, so padding shows
n = int((g_tok[k] != vocab.pad).sum())
words = [vocab.itos[t] for t in g_tok[k, :n]]
alpha = g_alpha[k, :n].numpy()
assert np.allclose(alpha.sum(1), 1, atol=1e-5) and (alpha[:, ~test_m[k].numpy()] == 0).all()
frames = video_from_id(data["test"].ids[k], cfg_mm).frames if data_root is None else None
fig = attention_heatmap(alpha, words, frames)
plt.show()
with torch.inference_mode():  # the first word's α again, with your attention_weights from §3
    f1, m1 = test_f[k:k + 1], test_m[k:k + 1]
    a1 = attention_weights(model.attention, model.init_state(f1, m1)[0], model.attention.project(f1), m1)
assert torch.allclose(a1[0], g_alpha[k, 0], atol=1e-5), "attention_weights differs from the decoder's first step"
print(f"{data['test'].ids[k]}: {int(test_m[k].sum())} real frames of {test_m.shape[1]}; caption: {greedy[data['test'].ids[k]]}")

# %% [markdown]
# ## 7 · The metric table
#
# `score` runs pycocoevalcap's PTB tokenizer once over references and candidates, then BLEU-1..4 (n-gram precision with
# a brevity penalty), METEOR (unigram matches with stems and synonyms, Java), ROUGE-L (longest common subsequence) and
# CIDEr (tf-idf weighted n-gram similarity to the consensus of the references). A sanity baseline answers every video
# with the most common training caption: a model that has learnt anything must beat it.

# %%
from collections import Counter

refs = {i: data["test"].captions[i] for i in data["test"].ids}
videos_saying = Counter(c for cs in data["train"].captions.values() for c in set(cs))  # caption → #videos
common = max(videos_saying, key=lambda c: (videos_saying[c], c))
table = score_systems(refs, {"greedy": greedy, f"beam {beam_width}": beam, "constant caption": {i: common for i in refs}})
print(f"{'':18}" + "".join(f"{m:>9}" for m in table["greedy"]))
for name, row in table.items():
    print(f"{name:18}" + "".join(f"{v:9.3f}" for v in row.values()))
for m, v in table["greedy"].items():
    labkit.record(f"test_{m}", round(v, 4))
labkit.record(f"test_beam{beam_width}_CIDEr", round(table[f"beam {beam_width}"]["CIDEr"], 4))
assert table["greedy"]["CIDEr"] > table["constant caption"]["CIDEr"], "the model does not beat a constant caption"

# %% [markdown]
# **Exercise 3 · BLEU's clipped n-gram matches.** BLEU-n multiplies modified n-gram precisions p_1..p_n. For one
# candidate, every n-gram counts as a match at most as often as it occurs in the *one* reference that has it most:
# "the the the the" against "the cat is on the mat" scores 2 of 4, not 4 of 4. Write
# `clipped_matches(candidate, references, n=1)`: a caption string, a list of reference strings (split both on
# whitespace) → `(clipped matches, number of n-grams in the candidate)`, two ints. Summed over all test videos
# they give p_n; below, with the brevity penalty, that reproduces `pycocoevalcap`'s BLEU-1 and BLEU-2.

# %%
from collections import Counter


def clipped_matches(candidate: str, references: list[str], n: int = 1) -> tuple[int, int]:
    """(matches clipped by the largest count in any one reference, candidate n-grams)."""
    ### BEGIN SOLUTION
    def grams(text: str) -> Counter:
        w = text.split()
        return Counter(tuple(w[i:i + n]) for i in range(len(w) - n + 1))

    cand, most = grams(candidate), Counter()
    for ref in references:
        most |= grams(ref)  # union keeps each n-gram's largest count
    return sum(min(c, most[g]) for g, c in cand.items()), sum(cand.values())
    ### END SOLUTION


# %%
# NBVAL_CHECK_OUTPUT
refs_toy = ["the cat is on the mat", "there is a cat on the mat"]
clipped_matches = check_function(
    "clipped_matches", clipped_matches, clipped_ngram_matches,
    cases=[("the the the the", refs_toy), ("the cat the cat on the mat", refs_toy, 2),
           ("a cat", refs_toy, 1), ("mat", refs_toy, 2)],
    hint="count each n-gram in the candidate, clip it by its *largest* count in any one reference (not the "
         "sum over references); a caption shorter than n has 0 n-grams")


# %%
# NBVAL_CHECK_OUTPUT
def bleu_by_hand(cands: dict, refs: dict, n: int) -> float:
    """Corpus BLEU-n from clipped matches, with pycocoevalcap's brevity penalty (closest reference length)."""
    p = [np.array([clipped_matches(cands[i], refs[i], k) for i in refs]).sum(0) for k in range(1, n + 1)]
    c = sum(len(cands[i].split()) for i in refs)
    r = sum(min((len(x.split()) for x in refs[i]), key=lambda L: (abs(L - len(cands[i].split())), L)) for i in refs)
    return float(np.prod([m / t for m, t in p]) ** (1 / n) * min(1.0, np.exp(1 - r / c)))


coco = score(refs, greedy, tokenize=False, metrics=("BLEU-1", "BLEU-2"))
for n in (1, 2):
    assert abs(bleu_by_hand(greedy, refs, n) - coco[f"BLEU-{n}"]) < 1e-6, f"BLEU-{n} by hand differs from pycocoevalcap"
print("BLEU-1 and BLEU-2 from clipped matches equal pycocoevalcap's to 1e-6")

# %% [markdown]
# Beam search finds captions the *model* finds more likely (per word, after length normalisation), not captions the
# *references* like more. Here it changes most of the test captions but moves the scores only a little: when the model
# is unsure of a digit, a wider search cannot recover what the features did not give it, and a longer two-clause
# caption with one wrong digit can lose n-gram matches. Whether beam beats greedy is an empirical question per model
# and dataset, which is why papers report the width they used.

# %% [markdown]
# ## 8 · Why tokenisation changes the scores
#
# People write "The digit 3 moves down." — capital letter, full stop. The PTB tokenizer lower-cases and splits off
# punctuation, so "down." matches "down". Score *without* it and every sentence-final word and every capitalised first
# word stops matching: the same captions get lower numbers. That is what hobincar/SA-LSTM does with its references,
# which is why its MSVD numbers cannot be compared with published ones. Below: our references written the human way.

# %%
human = {i: [c[0].upper() + c[1:] + "." for c in cs] for i, cs in refs.items()}
with_ptb = score(human, greedy)
without = score(human, greedy, tokenize=False)
print(f"{'':22}" + "".join(f"{m:>9}" for m in with_ptb))
for name, row in (("PTB tokenised", with_ptb), ("raw (split on spaces)", without)):
    print(f"{name:22}" + "".join(f"{v:9.3f}" for v in row.values()))
assert all(abs(with_ptb[m] - table["greedy"][m]) < 1e-9 for m in with_ptb), "PTB should undo case and punctuation"
assert without["BLEU-4"] < with_ptb["BLEU-4"]
labkit.record("test_BLEU-4_untokenised_refs", round(without["BLEU-4"], 4))

# %% [markdown]
# ## Published numbers, and ours
#
# | | data, features | BLEU-4 | METEOR | ROUGE-L | CIDEr |
# |---|---|---|---|---|---|
# | SA-LSTM paper (Yao et al. 2015) | MSVD, GoogLeNet + 3-D CNN | 41.92 | 29.6 | – | 51.67 |
# | hobincar/SA-LSTM (PyTorch) | MSVD, ResNet-152, **references not PTB-tokenised** | 50.8 | 33.3 | 69.8 | 79.5 |
# | this notebook, quick profile | captioned Moving MNIST (240 training videos), ResNet-152 | see §7 (× 100) | | | |
#
# None of these rows is comparable with another: the first two differ in features *and* in tokenisation (§8), and ours
# is a toy with a 40-word vocabulary and captions generated from templates, sized for a laptop CPU. What carries over
# is the pipeline: `-p profile full -p data_root /path/to/msvd` runs the same model, decoder and metrics on MSVD
# (the corpus CSV and an HDF5 file of ResNet-152 frame features keyed `VideoID_Start_End`; reading it needs `h5py`),
# with SA-LSTM's sizes and the standard 1200 / 100 / 670 split.
#
# ## References
# - L. Yao, A. Torabi, K. Cho, N. Ballas, C. Pal, H. Larochelle, A. Courville, *Describing Videos by Exploiting Temporal Structure*, ICCV 2015.
# - hobincar/SA-LSTM, a PyTorch reproduction (MSVD / MSR-VTT, ResNet-152 features, beam search).
# - D. Chen, W. Dolan, *Collecting Highly Parallel Data for Paraphrase Evaluation*, ACL 2011 (MSVD).
# - S. Venugopalan et al., *Sequence to Sequence — Video to Text*, ICCV 2015 (the 1200/100/670 split).
# - X. Chen et al., *Microsoft COCO Captions: Data Collection and Evaluation Server*, arXiv:1504.00325 (pycocoevalcap, PTB tokenisation).
# - K. Papineni et al., BLEU, ACL 2002; M. Denkowski, A. Lavie, METEOR 1.5, 2014; C.-Y. Lin, ROUGE, 2004; R. Vedantam et al., CIDEr, CVPR 2015.
# - K. Xu et al., *Show, Attend and Tell*, ICML 2015 (soft attention for captioning; initial state from the mean feature).
