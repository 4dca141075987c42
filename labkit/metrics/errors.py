"""The one error every metric raises when its inputs cannot be scored, whatever the metric.

One class, so a caller (a sweep, a notebook's evaluation) catches bad metric input with one ``except``
for memorability, YouTube-8M, binary and caption scores alike; the message says what was wrong.
"""

from __future__ import annotations

from labkit.core.errors import DataError


class MetricInputError(DataError):
    """Predictions and targets do not fit together: shape or length, ids that do not match, NaN or inf,
    labels that are not 0/1, too few items or empty references, a bad parameter such as ``top_k`` or ``n``.

    A ``DataError`` (so a ``ValueError``): what a metric is given is data, and the CLI reports it as such."""
