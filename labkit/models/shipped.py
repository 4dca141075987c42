"""The shipped checkpoints (``data/<group>/*.pt``): one registry that lists, names, reads and builds them all.

Why one registry (torchvision's weights registry is the model): every chapter ships checkpoints trained once by a
script in ``tools/`` and recorded in its group's MANIFEST with the configuration they were trained with, the
command that trained them and their held-out figures. Listing them, naming one from (variant, seed), reading its
file as data and building the model it fits are the same steps for every chapter; only the architecture differs.
So a chapter's module declares one :class:`Family` (where its files live, how a model is built from a record and
how to train a missing one) and its ``load_pretrained`` is a thin wrapper of :meth:`Family.load`.

Every file is read by :func:`labkit.core.files.load_model_file` (``weights_only=True``, the checks that
:func:`labkit.train.load_checkpoint` applies too) after :func:`labkit.core.assets.asset_path` has checked it
against the MANIFEST; a checkpoint that is not shipped, missing, damaged, or whose weights do not fit its recorded
configuration is an ``AssetError`` or ``CheckpointError`` naming the file and the command that trains it again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from labkit.core.assets import asset_path, load_manifest
from labkit.core.errors import AssetError, CheckpointError
from labkit.core.files import load_model_file

# (training record, file contents, file path) → the model the record describes, weights not yet loaded
Builder = Callable[[dict, dict, Path], nn.Module]

# The chapters' modules that declare families; importing them registers their families (see :func:`families`).
FAMILY_MODULES = ("labkit.models.ram_pretrained", "labkit.models.attention_lstm_pretrained",
                  "labkit.models.transformer_pretrained",
                  "labkit.models.sa_lstm_pretrained", "labkit.models.amnet_pretrained")

_FAMILIES: dict[str, Family] = {}


def _plain(contents: dict) -> dict:
    return contents


@dataclass(frozen=True)
class Family:
    """The checkpoints of one architecture: ``data/<group>/<stem>_<variant>_s<seed>.pt``.

    ``build`` makes the model from its MANIFEST record (``record["config"]``; AMNet's files carry their own
    configuration, so the file's contents are passed too); ``weights`` picks the state dict out of the file
    (default: the file is the state dict); ``train(variant, seed)`` is the command that trains a missing one."""

    group: str  # the folder under data/, e.g. "ram"
    stem: str  # the file names' common start, e.g. "ram" or "convnet"
    title: str  # how messages name the architecture, e.g. "RAM"
    build: Builder
    train: Callable[[str, int], str]
    weights: Callable[[dict], dict] = _plain

    @property
    def prefix(self) -> str:
        return f"{self.group}/{self.stem}_"

    def name(self, variant: str, seed: int = 0) -> str:
        """The asset name of (variant, seed): ``<group>/<stem>_<variant>_s<seed>.pt``."""
        return f"{self.prefix}{variant}_s{seed}.pt"

    def parse(self, name: str) -> tuple[str, int]:
        """(variant, seed) of one of this family's names (the inverse of :meth:`name`)."""
        if not (name.startswith(self.prefix) and name.endswith(".pt") and "_s" in name):
            raise ValueError(f"{name!r} is not a {self.title} checkpoint name ({self.name('<variant>', 0)})")
        variant, seed = name.removeprefix(self.prefix).removesuffix(".pt").rsplit("_s", 1)
        return variant, int(seed)

    def shipped(self) -> dict[str, dict]:
        """Every shipped checkpoint of this family with its training record."""
        return shipped(self.prefix)

    def load(self, variant: str, seed: int = 0, path: str | Path | None = None) -> nn.Module:
        """The shipped checkpoint (variant, seed) as an eval-mode model built from its recorded configuration.

        ``path``: read this copy of the file instead of the shipped one (a retrained file before it is registered);
        the MANIFEST record still gives the configuration."""
        return _load(self, self.name(variant, seed), path)


def register(family: Family) -> Family:
    """Add ``family`` to the registry (a chapter's module calls this once, at import); returns it."""
    _FAMILIES[family.prefix] = family
    return family


def families() -> dict[str, Family]:
    """Every family, keyed by its name prefix (the chapters' modules are imported so that all are registered)."""
    for module in FAMILY_MODULES:
        importlib.import_module(module)
    return dict(_FAMILIES)


def family_of(name: str) -> Family:
    """The family a shipped checkpoint's name belongs to."""
    matches = [f for prefix, f in families().items() if name.startswith(prefix)]
    if not matches:
        raise AssetError(f"{name!r} belongs to no shipped-checkpoint family; the families: "
                         f"{', '.join(p + '*.pt' for p in sorted(_FAMILIES))}")
    return max(matches, key=lambda f: len(f.prefix))


def shipped(prefix: str = "") -> dict[str, dict]:
    """``{name: training record}`` of every trained checkpoint in the MANIFEST whose name starts with ``prefix``
    (the record holds the command, configuration, wall time and held-out figures)."""
    return {name: a.training for name, a in load_manifest().items()
            if name.startswith(prefix) and name.endswith(".pt") and a.training}


def record(name: str) -> dict:
    """The training record of shipped checkpoint ``name``; an AssetError lists the shipped ones if it is not one."""
    records = shipped(name.split("/", 1)[0] + "/")
    if name not in records:
        fix = None
        try:
            family = family_of(name)
            fix = f"train it: {family.train(*family.parse(name))}"
        except (AssetError, ValueError):
            pass
        raise AssetError(f"no shipped checkpoint {name!r}; shipped: {', '.join(records) or 'none'}", fix=fix)
    return records[name]


def read(name: str, path: str | Path | None = None) -> dict[str, Any]:
    """The file of shipped checkpoint ``name`` as data (``weights_only=True``), checked against the MANIFEST
    (or the copy at ``path``); a missing, damaged or unreadable file names itself and the command that retrains it."""
    command = record(name)["command"]
    file = Path(path) if path is not None else asset_path(name)
    return load_model_file(file, f"shipped checkpoint {name}", f"restore it (git checkout -- data/{name}) or "
                           f"retrain it: {command}")


def load(name: str, path: str | Path | None = None) -> nn.Module:
    """Any shipped checkpoint by name, as an eval-mode model (its family is found from the name)."""
    return _load(family_of(name), name, path)


def load_weights(model: nn.Module, weights: dict, path: str | Path, fix: str | None = None) -> nn.Module:
    """``model.load_state_dict(weights)`` (strict), or a CheckpointError naming ``path`` if they do not fit."""
    try:
        model.load_state_dict(weights)
    except (TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise CheckpointError(f"its weights do not fit its configuration ({str(e).splitlines()[0][:200]})",
                              path=path, fix=fix) from None
    return model


def _load(family: Family, name: str, path: str | Path | None) -> nn.Module:
    rec = record(name)
    file = Path(path) if path is not None else asset_path(name)
    contents = read(name, file)
    fix = f"retrain it: {rec['command']}"
    try:
        model = family.build(rec, contents, file)
    except (TypeError, ValueError, KeyError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"its recorded configuration builds no {family.title} ({type(e).__name__}: {e})",
                              path=file, fix=fix) from None
    return load_weights(model, family.weights(contents), file, fix).eval()


__all__ = ["FAMILY_MODULES", "Builder", "Family", "families", "family_of", "load", "load_weights", "read", "record",
           "register", "shipped"]
