"""Measured comparisons that train several models the same way and score them once on held-out data.

Why a layer of its own: a study trains (``labkit.train``), scores (``labkit.metrics``) and reads data and models, so it
sits above all of them; a notebook and the ``tools/`` script that ships its figures call the same function.
"""
