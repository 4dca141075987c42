"""SA-LSTM: a caption decoder with temporal soft attention (Yao et al., ICCV 2015, "Describing Videos by
Exploiting Temporal Structure"; the PyTorch reproduction hobincar/SA-LSTM).

At every word step t, with frame features v_1..v_T (B, T, D) and the previous LSTM state h_{t-1}::

    e_i = wᵀ tanh(W h_{t-1} + U v_i + b)        attention energies,  (B, T)   padded frames get -inf
    α   = softmax_i(e)                           weights over frames, (B, T)   Σ α = 1 on the real frames
    φ_t = Σ_i α_i v_i                            context,             (B, D)
    h_t = LSTM([E y_{t-1} ; φ_t], h_{t-1})       the previous word's embedding next to the context
    p(y_t) = softmax(V h_t)

Training uses teacher forcing (the true previous word); decoding is greedy or a beam search over
(batch × beam) rows at once, ranked by log p / length^λ (``length_penalty`` λ; λ = 0 is hobincar's plain sum of
log-probabilities).

``SALSTMConfig(context="mean")`` is the ablation without attention: its context is the mean of the real frames'
features at every step (α uniform over the real frames, 0 on padding), with everything else unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from labkit.models.attention_ops import masked_softmax

CONTEXTS: tuple[str, ...] = ("attention", "mean")
LENGTH_PENALTY = 1.0  # default beam ranking: log p / length (hobincar/SA-LSTM: 0, the plain sum of log p)


@dataclass
class SALSTMConfig:
    """Sizes; the defaults are hobincar's MSVD configuration, the notebook's quick profile shrinks them."""

    vocab_size: int
    feature_dim: int = 2048  # D: one frame's feature (ResNet-152 pool5 on MSVD)
    embed: int = 468  # word embedding
    hidden: int = 512  # LSTM state
    attention_dim: int = 256  # A: where W h and U v meet
    dropout: float = 0.5
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    context: str = "attention"  # attention | mean: the ablation whose context is the mean real-frame feature

    def __post_init__(self) -> None:
        if self.context not in CONTEXTS:
            raise ValueError(f"SALSTMConfig.context must be one of {CONTEXTS}, got {self.context!r}")
        for name in ("vocab_size", "feature_dim", "embed", "hidden", "attention_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"SALSTMConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


class TemporalAttention(nn.Module):
    """Soft attention over frames: e_i = wᵀ tanh(W h + U v_i + b), α = masked softmax(e)."""

    def __init__(self, hidden: int, feature_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.W = nn.Linear(hidden, attention_dim, bias=False)
        self.U = nn.Linear(feature_dim, attention_dim, bias=True)  # its bias is b
        self.w = nn.Linear(attention_dim, 1, bias=False)

    def project(self, feats: Tensor) -> Tensor:
        """U v_i + b for all frames, once per video (it does not depend on t): (B, T, D) → (B, T, A)."""
        return self.U(feats)

    def weights(self, h: Tensor, uv: Tensor, mask: Tensor) -> Tensor:
        """h (B, H), uv = U v + b (B, T, A), mask (B, T) bool → α (B, T), exactly 0 on padding."""
        e = self.w(torch.tanh(self.W(h).unsqueeze(1) + uv)).squeeze(-1)  # (B, 1, A) + (B, T, A) → (B, T)
        return masked_softmax(e, mask)  # (B, T)

    def forward(self, h: Tensor, feats: Tensor, uv: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """h (B, H), feats (B, T, D), uv (B, T, A), mask (B, T) bool → context φ (B, D), α (B, T)."""
        alpha = self.weights(h, uv, mask)  # (B, T)
        context = torch.bmm(alpha.unsqueeze(1), feats).squeeze(1)  # (B, D)
        return context, alpha


def select_beams(total: Tensor, length: Tensor, width: int, length_penalty: float = 1.0) -> Tensor:
    """One beam-search choice: of the candidates' summed log p ``total`` (B, N) and their lengths ``length``
    (B, N), the indices (B, width) of the ``width`` best by log p / length^``length_penalty``, best first.
    Without the division a longer caption always loses (every extra word multiplies in a factor below 1)."""
    return (total / length.clamp(min=1.0) ** length_penalty).topk(width, dim=1).indices  # (B, width)


def mean_context(feats: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """The no-attention context: the mean of the real frames' features (B, D) and its uniform weights (B, T),
    exactly 0 on padded frames."""
    alpha = mask.to(feats.dtype) / mask.sum(1, keepdim=True).to(feats.dtype)  # (B, T)
    return torch.bmm(alpha.unsqueeze(1), feats).squeeze(1), alpha


class SALSTM(nn.Module):
    """The SA-LSTM decoder over precomputed frame features (``cfg.context="mean"``: the ablation without attention)."""

    def __init__(self, cfg: SALSTMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.init_h = nn.Linear(cfg.feature_dim, cfg.hidden)  # h_0, c_0 from the mean of the real frames
        self.init_c = nn.Linear(cfg.feature_dim, cfg.hidden)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed, padding_idx=cfg.pad_id)  # E
        self.attention = (TemporalAttention(cfg.hidden, cfg.feature_dim, cfg.attention_dim)
                          if cfg.context == "attention" else None)
        self.lstm = nn.LSTMCell(cfg.embed + cfg.feature_dim, cfg.hidden)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden, cfg.vocab_size)  # V

    @staticmethod
    def _check(feats: Tensor, mask: Tensor) -> None:
        if feats.ndim != 3 or mask.shape != feats.shape[:2]:
            raise ValueError(f"need feats (B, T, D) and mask (B, T), got {tuple(feats.shape)} and {tuple(mask.shape)}")
        if not bool(mask.any(dim=1).all()):
            raise ValueError("every video needs at least one real (unmasked) frame")

    def init_state(self, feats: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        m = mask.unsqueeze(-1).to(feats.dtype)  # (B, T, 1)
        mean = (feats * m).sum(1) / m.sum(1)  # (B, D)
        return torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean))

    def project(self, feats: Tensor) -> Tensor | None:
        """U v + b once per video (attention); ``None`` for the mean-context ablation, which has no U."""
        return self.attention.project(feats) if self.attention is not None else None

    def step(self, word: Tensor, state: tuple[Tensor, Tensor], feats: Tensor, uv: Tensor | None,
             mask: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor], Tensor]:
        """One word: previous word ids (B,) → logits (B, V), new state, α (B, T)."""
        if self.attention is not None:
            context, alpha = self.attention(state[0], feats, uv, mask)  # (B, D), (B, T)
        else:
            context, alpha = mean_context(feats, mask)
        h, c = self.lstm(torch.cat([self.embed(word), context], dim=1), state)  # (B, H)
        return self.out(self.drop(h)), (h, c), alpha

    def forward(self, feats: Tensor, mask: Tensor, captions: Tensor) -> tuple[Tensor, Tensor]:
        """Teacher forcing: captions (B, L) ``<bos> … <eos> <pad>…`` → logits (B, L-1, V) predicting
        captions[:, 1:], and α (B, L-1, T)."""
        self._check(feats, mask)
        uv = self.project(feats)  # (B, T, A)
        state = self.init_state(feats, mask)
        logits, alphas = [], []
        for t in range(captions.shape[1] - 1):
            lg, state, a = self.step(captions[:, t], state, feats, uv, mask)
            logits.append(lg)
            alphas.append(a)
        return torch.stack(logits, 1), torch.stack(alphas, 1)

    def loss(self, feats: Tensor, mask: Tensor, captions: Tensor) -> Tensor:
        """Mean cross-entropy of the next word over the non-pad targets."""
        logits, _ = self(feats, mask, captions)
        return F.cross_entropy(logits.flatten(0, 1), captions[:, 1:].flatten(), ignore_index=self.cfg.pad_id)

    @torch.inference_mode()
    def greedy(self, feats: Tensor, mask: Tensor, max_len: int = 30) -> tuple[Tensor, Tensor]:
        """Most likely word at each step: tokens (B, L) without ``<bos>`` (``<pad>`` after ``<eos>``),
        α (B, L, T) (zeros after ``<eos>``)."""
        self._check(feats, mask)
        b = feats.shape[0]
        uv = self.project(feats)
        state = self.init_state(feats, mask)
        word = torch.full((b,), self.cfg.bos_id, dtype=torch.long, device=feats.device)
        done = torch.zeros(b, dtype=torch.bool, device=feats.device)
        tokens, alphas = [], []
        for _ in range(max_len):
            logits, state, a = self.step(word, state, feats, uv, mask)
            word = logits.argmax(-1).masked_fill(done, self.cfg.pad_id)  # (B,)
            tokens.append(word)
            alphas.append(a.masked_fill(done.unsqueeze(1), 0.0))
            done = done | (word == self.cfg.eos_id)
            if bool(done.all()):
                break
        return torch.stack(tokens, 1), torch.stack(alphas, 1)

    @torch.inference_mode()
    def beam_search(self, feats: Tensor, mask: Tensor, width: int = 5, max_len: int = 30,
                    length_penalty: float = LENGTH_PENALTY, select: Callable = select_beams) -> tuple[Tensor, Tensor, Tensor]:
        """Beam search of ``width`` over all (B × width) hypotheses at once.

        Finished hypotheses stay in the beam and extend only with ``<pad>`` at no cost; hypotheses are ranked
        by log p / length^``length_penalty`` (length counts ``<eos>``), so width 1 is exactly greedy.
        ``select`` makes that choice (:func:`select_beams`; notebook 06 passes the reader's own).
        Returns the best tokens (B, L), α (B, L, T) and its normalised score (B,)."""
        self._check(feats, mask)
        if width < 1:
            raise ValueError(f"beam width must be >= 1, got {width}")
        b, t, _ = feats.shape
        k, v, dev = width, self.cfg.vocab_size, feats.device
        rep = lambda x: x.repeat_interleave(k, dim=0)  # noqa: E731  (B, …) → (B·K, …)
        feats_k, mask_k = rep(feats), rep(mask)
        uv = self.project(feats_k)  # (B·K, T, A)
        state = tuple(rep(s) for s in self.init_state(feats, mask))
        word = torch.full((b * k,), self.cfg.bos_id, dtype=torch.long, device=dev)
        score = torch.full((b, k), float("-inf"), device=dev)
        score[:, 0] = 0.0  # all beams start identical: keep one so the first step yields K distinct words
        length = torch.zeros(b, k, device=dev)
        done = torch.zeros(b, k, dtype=torch.bool, device=dev)
        tokens = torch.zeros(b, k, 0, dtype=torch.long, device=dev)
        alphas = torch.zeros(b, k, 0, t, device=dev)
        pad_only = torch.full((v,), float("-inf"), device=dev)
        pad_only[self.cfg.pad_id] = 0.0
        for _ in range(max_len):
            logits, state, a = self.step(word, state, feats_k, uv, mask_k)
            logp = torch.log_softmax(logits, -1).view(b, k, v)  # (B, K, V)
            logp = torch.where(done.unsqueeze(-1), pad_only, logp)  # finished: only <pad>, free
            total = (score.unsqueeze(-1) + logp).view(b, k * v)  # (B, K·V)
            new_len = (length + (~done).float()).unsqueeze(-1).expand(b, k, v).reshape(b, k * v)
            idx = select(total, new_len, k, length_penalty)  # (B, K)
            parent, word_bk = idx // v, idx % v  # (B, K)
            score, length = total.gather(1, idx), new_len.gather(1, idx)
            prev_done = done.gather(1, parent)  # (B, K)
            done = prev_done | (word_bk == self.cfg.eos_id)
            tokens = torch.cat([tokens.gather(1, parent.unsqueeze(-1).expand_as(tokens)), word_bk.unsqueeze(-1)], 2)
            a_bk = a.view(b, k, t).gather(1, parent.unsqueeze(-1).expand(b, k, t))  # (B, K, T)
            a_bk = a_bk.masked_fill(prev_done.unsqueeze(-1), 0.0)  # nothing attended after <eos>
            alphas = torch.cat([alphas.gather(1, parent[..., None, None].expand_as(alphas)), a_bk.unsqueeze(2)], 2)
            flat = parent + torch.arange(b, device=dev).unsqueeze(1) * k  # (B, K) rows in B·K
            state = tuple(s[flat.view(-1)] for s in state)
            word = word_bk.view(-1)
            if bool(done.all()):
                break
        final = score / length.clamp(min=1.0) ** length_penalty  # (B, K)
        best = final.argmax(1)  # (B,)
        pick = torch.arange(b, device=dev)
        return tokens[pick, best], alphas[pick, best], final[pick, best]


@torch.inference_mode()
def generate(model: SALSTM, feats: Tensor, mask: Tensor, beam_width: int = 1, max_len: int = 20,
             batch_size: int = 128, select: Callable | None = None,
             length_penalty: float = LENGTH_PENALTY) -> tuple[Tensor, Tensor]:
    """Captions for many videos in batches: greedy when ``beam_width == 1``, else beam search ranked by
    log p / length^``length_penalty`` (0: hobincar's plain sum of log-probabilities).
    ``select``: the beam step's choice (default :func:`select_beams`). Returns tokens (N, L) and α (N, L, T),
    padded to the longest caption. Runs in eval mode (no dropout) and gives the model back in the mode it came
    in, so a call between training epochs does not silently switch dropout off for the rest of training."""
    was_training = model.training
    model.eval()
    toks, alphas = [], []
    try:
        for i in range(0, len(feats), batch_size):
            f, m = feats[i:i + batch_size], mask[i:i + batch_size]
            if beam_width == 1:
                t, a = model.greedy(f, m, max_len)
            else:
                t, a = model.beam_search(f, m, beam_width, max_len, length_penalty, select=select or select_beams)[:2]
            toks.append(t)
            alphas.append(a)
    finally:
        model.train(was_training)
    n = max(t.shape[1] for t in toks)
    toks = [F.pad(t, (0, n - t.shape[1]), value=model.cfg.pad_id) for t in toks]
    alphas = [F.pad(a, (0, 0, 0, n - a.shape[1])) for a in alphas]
    return torch.cat(toks), torch.cat(alphas)
