"""The bundled-asset registry: every file under ``data/<group>/`` is listed in
``data/<group>/MANIFEST.json`` (one manifest per group, so topics never edit the same file) with its
sha256, where it came from, its licence and how to restore it.

Notebooks ask for assets by name (``asset_path("memnet/lenet.caffemodel")``); a missing or changed
file is an ``AssetError`` naming the file and the restore command, never a silent wrong result.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from labkit.core.errors import AssetError
from labkit.core.hashing import sha256_of

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["MANIFEST", "Asset", "AssetError", "asset_path", "asset_status", "data_dir", "load_manifest", "register"]

MANIFEST = "MANIFEST.json"


def data_dir() -> Path:
    """The bundled data folder: ``$LABKIT_DATA`` if set, else ``data/`` beside the package."""
    env = os.environ.get("LABKIT_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class Asset:
    name: str
    sha256: str
    bytes: int
    source: str = ""
    license: str = ""
    restore: str = "git checkout -- data/"
    training: dict | None = None  # for a trained checkpoint: command, wall time, machine, held-out figures


_KEYS = {f.name for f in fields(Asset)} - {"name"}
_REQUIRED = ("sha256", "bytes")


def _manifest_entries(path: Path) -> dict[str, Asset]:
    """One group's manifest, checked entry by entry: a hand-edited manifest with a typo in a key or a lost
    ``sha256`` would otherwise surface as a ``TypeError`` from deep inside the dataclass, naming no file."""
    restore = f"restore it with `git checkout -- data/{path.parent.name}/{MANIFEST}`"
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AssetError(f"asset manifest is not valid JSON ({e})", path=path, fix=restore) from e
    if not isinstance(raw, dict):
        raise AssetError('an asset manifest is a JSON object {"<group>/<file>": {...}}, not a JSON '
                         + type(raw).__name__, path=path, fix=restore)
    out = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise AssetError(f"entry is a JSON {type(entry).__name__}, not an object with {sorted(_KEYS)}",
                             path=path, where=f"entry {name!r}", fix=restore)
        unknown = sorted(set(entry) - _KEYS)
        missing = [k for k in _REQUIRED if k not in entry]
        if unknown or missing:
            problem = "; ".join(([f"unknown key(s) {unknown}"] if unknown else [])
                                + ([f"missing key(s) {missing}"] if missing else []))
            raise AssetError(f"{problem} (an entry holds {sorted(_KEYS)})", path=path, where=f"entry {name!r}", fix=restore)
        sha, size = entry["sha256"], entry["bytes"]
        if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
            raise AssetError(f"sha256 must be 64 lowercase hex digits, got {sha!r}", path=path, where=f"entry {name!r}", fix=restore)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise AssetError(f"bytes must be a whole number >= 0, got {size!r}", path=path, where=f"entry {name!r}", fix=restore)
        out[name] = Asset(name=name, **entry)
    return out


def load_manifest(root: Path | None = None) -> dict[str, Asset]:
    """All groups' entries, keyed by path relative to ``data/``."""
    root = root or data_dir()
    if not root.is_dir():
        raise AssetError(f"bundled data folder {root} is missing; restore it with `git checkout -- data/`")
    assets: dict[str, Asset] = {}
    for path in sorted(root.glob(f"*/{MANIFEST}")):
        assets.update(_manifest_entries(path))
    return assets


@lru_cache(maxsize=512)
def _verified(path: str, mtime_ns: int, size: int, sha: str) -> bool:
    return sha256_of(Path(path)) == sha


def asset_path(name: str, verify: bool = True) -> Path:
    """Path of bundled asset ``name`` (relative to ``data/``), checked against the manifest."""
    root = data_dir()
    assets = load_manifest(root)
    if name not in assets:
        close = [n for n in assets if Path(n).name == Path(name).name]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise AssetError(f"{name!r} is not a bundled asset (in no data/*/{MANIFEST}){hint}")
    a = assets[name]
    path = root / name
    restore = a.restore if a.restore != Asset.restore else f"git checkout -- data/{name}"
    if not path.exists():
        raise AssetError(f"bundled asset data/{name} is missing; restore it with `{restore}`")
    st = path.stat()
    if verify and (st.st_size != a.bytes or not _verified(str(path), st.st_mtime_ns, st.st_size, a.sha256)):
        # the committed file is the one the manifest describes: git restores it in a second, whereas the
        # entry's `restore` script may need a toolchain (real Caffe in a chroot) that a learner does not have
        rebuilt = f"; if you rebuilt it on purpose (`{a.restore}`), register it again" if a.restore != Asset.restore else ""
        raise AssetError(
            f"bundled asset data/{name} is corrupt (sha256 or size differs from data/{name.split('/')[0]}/{MANIFEST}); "
            f"restore it with `git checkout -- data/{name}`{rebuilt}"
        )
    return path


def asset_status(root: Path | None = None) -> dict[str, str]:
    """``{name: "ok" | "missing" | "corrupt"}`` for every listed asset (used by ``labkit doctor``)."""
    root = root or data_dir()
    out = {}
    for name, a in load_manifest(root).items():
        p = root / name
        if not p.exists():
            out[name] = "missing"
        elif p.stat().st_size != a.bytes or sha256_of(p) != a.sha256:
            out[name] = "corrupt"
        else:
            out[name] = "ok"
    return out


def register(name: str, source: str, license: str, restore: str | None = None, root: Path | None = None,
             training: dict | None = None) -> Asset:
    """Add or refresh one file's manifest entry (scripts under ``tools/`` call this after writing it)."""
    root = root or data_dir()
    path = root / name
    if not path.is_file():
        raise AssetError(f"cannot register data/{name}: no such file")
    if "/" not in name:
        raise AssetError(f"assets live in a group folder (data/<group>/...), not at data/{name}")
    mpath = root / name.split("/", 1)[0] / MANIFEST
    entry = {"sha256": sha256_of(path), "bytes": path.stat().st_size, "source": source, "license": license}
    entry["restore"] = restore or f"git checkout -- data/{name}"
    if training is not None:
        entry["training"] = training
    # Two training queues may register at the same moment: read-modify-write under a lock, and replace the file
    # atomically, so neither loses the other's entry and a reader never sees half a manifest.
    with open(mpath.with_name(f".{MANIFEST}.lock"), "w") as lock:
        if fcntl is not None:  # POSIX; elsewhere one training queue at a time
            fcntl.flock(lock, fcntl.LOCK_EX)
        raw = json.loads(mpath.read_text()) if mpath.exists() else {}
        raw[name] = entry
        tmp = mpath.with_name(MANIFEST + ".tmp")
        tmp.write_text(json.dumps(dict(sorted(raw.items())), indent=2) + "\n")
        os.replace(tmp, mpath)
    return Asset(name=name, **entry)
