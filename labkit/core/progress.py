"""The course's progress bars: tqdm's (a widget in Jupyter, text in a terminal), silent in headless runs.

Why silent there: a headless run (``labkit run``, sweeps, nbval; ``LABKIT_HEADLESS=1`` in the kernel) commits its
outputs, and a widget bar is stored as a widget view that renders as "0%|" text on the website and in GitHub, while
a text bar would be stderr noise in the notebook. The learner stepping through a notebook still sees every bar.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm as _tqdm

from labkit.core.env import headless


def tqdm(*args: Any, **kwargs: Any) -> _tqdm:
    """``tqdm.auto.tqdm`` with ``disable=True`` forced inside headless runs (same arguments, same object)."""
    if headless():
        kwargs["disable"] = True
    return _tqdm(*args, **kwargs)
