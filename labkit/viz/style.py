"""The figure constants the course's figures share, so a width or the colour of a meaning is decided once.

Widths are in inches at matplotlib's 100 dpi: a figure as wide as the notebook prints its fonts at their nominal
size (≥ 8 pt), where a wider one would be shrunk to fit and its labels with it.
"""

from __future__ import annotations

COLUMN_WIDTH = 9.5  # a notebook column: caption heatmaps and segmentations (notebooks 02, 06)
FULL_WIDTH = 10.0  # the notebook's whole output width: frame strips, whose thumbnails need every inch (notebook 05)

#: a prediction (or a port) that is right / wrong: titles, marks and bars; dark enough to read as text on white
RIGHT, WRONG = "darkgreen", "firebrick"
