"""One explorer per notebook: a static figure for readers of the executed notebook, live sliders in a kernel.

Why one helper: every chapter ends its model section with "now move it yourself". Headless runs (``labkit run``,
sweeps, CI) must not create live widgets — nobody can move a slider and widget messages can stall a headless client
(see :func:`labkit.core.env.headless`) — so the same ``draw`` callback is called once with the static values, and,
in a live kernel with ``ipywidgets``, wired to sliders. Tests call ``draw`` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from labkit.core.env import headless


def explore(draw: Callable[..., Any], controls: Mapping[str, Any], static: Mapping[str, Any]) -> None:
    """Call ``draw(**static)`` for the static view; add ``ipywidgets.interact(draw, **controls)`` when live.

    ``controls`` are ipywidgets abbreviations: ``(lo, hi)`` / ``(lo, hi, step)`` for sliders, a list for a dropdown,
    a bool for a checkbox. Returns nothing (a notebook's last line would echo it); what the reader got is printed."""
    unknown = set(static) - set(controls)
    if unknown:
        raise ValueError(f"static values {sorted(unknown)} have no control; controls: {sorted(controls)}")
    draw(**static)
    names = ", ".join(controls)
    if headless():
        print(f"headless run: static view only; in a live kernel, controls for {names} appear here")
        return
    try:
        from ipywidgets import interact
    except ImportError:
        print(f"ipywidgets is not installed: call the draw function with {names} by hand")
        return
    interact(draw, **dict(controls))
