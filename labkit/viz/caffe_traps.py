"""Notebook 01's explorer figure: how far each blob of a port with the chosen traps is from real Caffe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from labkit.viz.style import RIGHT, WRONG

TOLERANCE = 1e-5  # what the course calls "equal to Caffe" (float32 round-off over a deep net)


def trap_figure(errors: Mapping[str, float], traps: Sequence[str]) -> Figure:
    """One bar per blob in network order (log scale); the dashed line is the 1e-5 "equal" tolerance."""
    names = list(errors)
    vals = np.array([errors[n] for n in names], dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(names) + 1.2), layout="constrained")
    shown = np.where(np.isnan(vals), 1.0, np.maximum(vals, 1e-9))
    colours = ["#999999" if np.isnan(v) else (RIGHT if v <= TOLERANCE else WRONG) for v in vals]
    ax.barh(names, shown, color=colours)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(1e-9, 10)
    ax.axvline(TOLERANCE, color="k", ls="--", lw=1)
    for i, v in enumerate(vals):
        if np.isnan(v):
            ax.text(1.2e-9, i, "shape differs", va="center", fontsize=8)
    ax.set_xlabel("max |port − Caffe| / max |Caffe|   (dashed: 1e-5, equal)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.set_title("traps on: " + (", ".join(traps) if traps else "none (the correct port)"), fontsize=9)
    return fig
