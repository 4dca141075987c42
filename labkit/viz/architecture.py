"""Draw a network from the module itself: every leaf layer, its output shape and its parameter count.

Why traced rather than hand-drawn: a diagram typed by hand drifts from the code; hooks on one real
forward pass report what the module actually computes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn


def trace_layers(model: nn.Module, *inputs: Tensor, skip: tuple[str, ...] = ()) -> list[dict]:
    """One forward pass with hooks: rows ``{name, type, shape, params}`` for each leaf module, in call order.

    ``skip``: name prefixes whose inner layers are summarised as one row (e.g. ``("backbone",)`` for a
    150-layer ResNet), with the parameters of the whole sub-module.
    """
    rows: list[dict] = []
    handles = []
    seen: set[str] = set()
    modules = dict(model.named_modules())

    def hook_for(name: str, module: nn.Module):
        def hook(_m: nn.Module, _i: tuple, out: Tensor) -> None:
            if name in seen or not isinstance(out, Tensor):
                return
            seen.add(name)
            rows.append({"name": name, "type": type(module).__name__, "shape": tuple(out.shape[1:]),
                         "params": sum(p.numel() for p in module.parameters())})
        return hook

    for name, module in modules.items():
        summarised = name in skip
        inside_skip = any(name.startswith(s + ".") for s in skip)
        if summarised or (not inside_skip and name and not list(module.children())):
            handles.append(module.register_forward_hook(hook_for(name, module)))
    try:
        with torch.inference_mode():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return rows


def draw_layers(rows: list[dict], title: str = "") -> Figure:
    """One bar per layer (log parameter count), labelled with the layer's output shape."""
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(rows) + 1))
    y = np.arange(len(rows))[::-1]
    params = np.array([max(r["params"], 1) for r in rows])
    groups = [r["name"].split(".")[0] for r in rows]
    palette = {g: f"C{i}" for i, g in enumerate(dict.fromkeys(groups))}
    ax.barh(y, params, color=[palette[g] for g in groups], log=True)
    for yi, r in zip(y, rows, strict=True):
        shape = "×".join(map(str, r["shape"]))
        ax.text(1.2, yi, f"{r['name']} ({r['type']}) → {shape}", va="center", fontsize=7)
    ax.set_yticks([])
    ax.set_xlim(1, params.max() * 30)
    ax.set_xlabel("parameters (log scale; layers without weights show as 1)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
