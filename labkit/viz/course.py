"""The course map figure of notebook 00."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

COURSE = [
    ("00", "start here"), ("01", "MemNet\nCaffe→PyTorch"), ("02", "ResMem\nResNet-152"),
    ("03", "AMNet\nspatial attention"), ("04", "RAM\nglimpses"), ("05", "Attention-LSTM\nvideo"),
    ("06", "SA-LSTM\ncaptioning"), ("07", "self-attention\ntransformer"),
]
BUILDS_ON = [("00", "01"), ("01", "02"), ("02", "03"), ("00", "04"), ("04", "05"), ("05", "06"), ("05", "07"), ("06", "07")]  # 05–07 read frames with 04's convnet
POS = {"00": (0, 1), "01": (1, 1.6), "02": (2, 1.6), "03": (3, 2.2), "04": (1, 0.2), "05": (3, 1.0), "06": (4, 1.0), "07": (5, 0.4)}


def draw_course_map() -> Figure:
    """Boxes for notebooks, arrows for 'builds on'."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    boxes = {}
    for num, label in COURSE:
        x, y = POS[num]
        boxes[num] = ax.text(x, y, f"{num}\n{label}", ha="center", va="center", fontsize=8.5, zorder=2,
                             bbox=dict(boxstyle="round,pad=0.5", fc="#e8f0fe" if num != "00" else "#fde8e8", ec="0.4"))
    for a, b in BUILDS_ON:  # clipped at the two boxes' outlines, so every arrowhead shows whatever the angle
        ax.annotate("", xy=POS[b], xytext=POS[a], zorder=1,
                    arrowprops=dict(arrowstyle="->", color="0.5", shrinkA=2, shrinkB=2,
                                    patchA=boxes[a].get_bbox_patch(), patchB=boxes[b].get_bbox_patch()))
    ax.set_xlim(-0.5, 5.5)
    ax.set_ylim(-0.3, 2.7)
    ax.set_axis_off()
    ax.set_title("Course map: an arrow means 'reuses what the earlier notebook built'")
    fig.tight_layout()
    return fig
