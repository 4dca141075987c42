"""Content hashes of files: the one sha256 loop that the asset manifests and the feature cache share.

Why one function: both decide "is this the same file as before?" from its bytes; two loops could
drift (chunk size, a forgotten prefix) and make the same file hash differently in two places.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_of(path: str | os.PathLike, prefix: bytes = b"") -> str:
    """Hex sha256 of ``prefix`` followed by the bytes of file ``path``, read in 1 MiB chunks.

    ``prefix`` namespaces a hash (the feature cache uses ``b"file:"`` so a file's key can never
    equal the key of decoded pixels); the asset manifests use none, so their sums match ``sha256sum``.
    """
    h = hashlib.sha256(prefix)
    with open(Path(path), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
