"""The bundled-asset registry: every file under ``data/<group>/`` is listed in
``data/<group>/MANIFEST.json`` (one manifest per group, so topics never edit the same file) with its
sha256, where it came from, its licence and how to restore it.

Notebooks ask for assets by name (``asset_path("memnet/lenet.caffemodel")``); a missing or changed
file is an ``AssetError`` naming the file and the restore command, never a silent wrong result.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MANIFEST = "MANIFEST.json"


class AssetError(FileNotFoundError):
    """A bundled asset is missing, unlisted or corrupt."""


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


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_manifest(root: Path | None = None) -> dict[str, Asset]:
    """All groups' entries, keyed by path relative to ``data/``."""
    root = root or data_dir()
    if not root.is_dir():
        raise AssetError(f"bundled data folder {root} is missing; restore it with `git checkout -- data/`")
    assets: dict[str, Asset] = {}
    for path in sorted(root.glob(f"*/{MANIFEST}")):
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise AssetError(f"asset manifest {path} is not valid JSON ({e}); restore it from git") from e
        assets.update({name: Asset(name=name, **entry) for name, entry in raw.items()})
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
        raise AssetError(
            f"bundled asset data/{name} is corrupt (sha256 or size differs from its MANIFEST.json); "
            f"restore it with `{restore}`"
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


def register(name: str, source: str, license: str, restore: str | None = None, root: Path | None = None) -> Asset:
    """Add or refresh one file's manifest entry (scripts under ``tools/`` call this after writing it)."""
    root = root or data_dir()
    path = root / name
    if not path.is_file():
        raise AssetError(f"cannot register data/{name}: no such file")
    if "/" not in name:
        raise AssetError(f"assets live in a group folder (data/<group>/...), not at data/{name}")
    mpath = root / name.split("/", 1)[0] / MANIFEST
    raw = json.loads(mpath.read_text()) if mpath.exists() else {}
    entry = {"sha256": sha256_of(path), "bytes": path.stat().st_size, "source": source, "license": license}
    entry["restore"] = restore or f"git checkout -- data/{name}"
    raw[name] = entry
    mpath.write_text(json.dumps(dict(sorted(raw.items())), indent=2) + "\n")
    return Asset(name=name, **entry)
