"""How much of a video model's attention over time falls on the frames that carry the label (notebook 05).

Why: a curve of α_t can be drawn to look convincing; the number that says whether attention found the information
is its mass on the informative frames against the share of the video those frames are (uniform pooling, the
mean-pooling ablation, scores exactly 1×). In notebook 05's constructed event videos a digit is visible for 1–3
frames of 40–80, so the informative frames are about 5 % of a video and a ratio of 3× means 15 % of the weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labkit.metrics.errors import MetricInputError
from labkit.metrics.yt8m import gap, hit_at_one, perr


def informative_mass(alpha: Sequence[np.ndarray], informative: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Per video: ``mass`` = Σ α_t over its informative frames, ``share`` = their fraction of its frames, and
    ``ratio`` = mass / share. ``alpha[i]`` and ``informative[i]`` are (T_i,) over video i's own frames (no
    padding); a video without informative frames gets ratio NaN (it has nothing to find)."""
    if len(alpha) != len(informative):
        raise MetricInputError(f"{len(alpha)} attention rows but {len(informative)} informative masks")
    mass, share = np.empty(len(alpha)), np.empty(len(alpha))
    for i, (a, inf) in enumerate(zip(alpha, informative, strict=True)):
        a, inf = np.asarray(a, dtype=np.float64), np.asarray(inf, dtype=bool)
        if a.shape != inf.shape or a.ndim != 1 or a.size == 0:
            raise MetricInputError(f"video {i}: α has shape {a.shape}, its informative mask {inf.shape}; both must be "
                                   "the same (T,) over the video's own frames (drop the padding first)")
        if not np.isfinite(a).all() or abs(a.sum() - 1.0) > 1e-3:
            raise MetricInputError(f"video {i}: α must be finite and sum to 1 over the video, sums to {a.sum():.4f}")
        mass[i], share[i] = a[inf].sum(), inf.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(share > 0, mass / np.where(share > 0, share, 1.0), np.nan)
    return {"mass": mass, "share": share, "ratio": ratio}


def median_mass_ratio(alpha: Sequence[np.ndarray], informative: Sequence[np.ndarray]) -> float:
    """The median over videos (with informative frames) of mass on them / their share of frames; 1 = uniform."""
    r = informative_mass(alpha, informative)["ratio"]
    r = r[np.isfinite(r)]
    if r.size == 0:
        raise MetricInputError("no video has informative frames, so there is no mass ratio to take")
    return float(np.median(r))


def video_figures(scores: np.ndarray, labels: np.ndarray, alpha: Sequence[np.ndarray],
                  informative: Sequence[np.ndarray]) -> dict[str, float]:
    """The figures a notebook-05 checkpoint is judged by, rounded to 4 decimals: GAP, Hit@1, PERR, and the
    attention mass on the informative frames (median ratio, and mean mass against mean share). The protocol that
    runs a model to get these arrays is :func:`labkit.eval.video.heldout_figures`."""
    m = informative_mass(alpha, informative)
    return {"gap": round(gap(scores, labels), 4), "hit_at_1": round(hit_at_one(scores, labels), 4),
            "perr": round(perr(scores, labels), 4), "median_mass_ratio": round(median_mass_ratio(alpha, informative), 4),
            "mean_mass": round(float(m["mass"].mean()), 4), "mean_share": round(float(m["share"].mean()), 4)}


def top1_failures(scores: np.ndarray, labels: np.ndarray, alpha: Sequence[np.ndarray],
                  informative: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """The videos whose top-scoring class is not one of their labels, with what their attention did.

    Why: a wrong class has two causes that call for different fixes — attention on the label digit's frames with the
    digit misread there (the frame encoder's fault), or attention pulled to clutter frames (the attention's fault).
    Two red examples cannot tell which dominates; these arrays, one entry per wrong video, can. ``index`` (into the
    videos), ``predicted`` (the top class), ``mass`` (α on frames that show a label digit), ``peak_on_label``
    (the frame of largest α shows a label digit), ``label_second`` (a true label is the second-best class)."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.shape != labels.shape or scores.ndim != 2 or len(alpha) != len(scores):
        raise MetricInputError(f"scores {scores.shape} and labels {labels.shape} must be the same (videos, classes), "
                               f"with one α row per video ({len(alpha)} given)")
    top2 = np.argsort(-scores, axis=1, kind="stable")[:, :2]  # ties broken by class id, as Hit@1's argmax
    rows = np.arange(len(scores))
    wrong = np.flatnonzero(labels[rows, top2[:, 0]] == 0)
    m = informative_mass([alpha[i] for i in wrong], [informative[i] for i in wrong])
    peak = np.array([bool(np.asarray(informative[i])[int(np.argmax(alpha[i]))]) for i in wrong], dtype=bool)
    second = labels[wrong, top2[wrong, 1]] > 0 if scores.shape[1] > 1 else np.zeros(len(wrong), dtype=bool)
    return {"index": wrong, "predicted": top2[wrong, 0], "mass": m["mass"], "peak_on_label": peak,
            "label_second": second}
