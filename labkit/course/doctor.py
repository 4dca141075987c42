"""``labkit doctor``: what a learner checks first when something does not run."""

from __future__ import annotations

import importlib
import importlib.util
import platform
import shutil
import sys
from typing import Any

import torch

from labkit.core.assets import AssetError, asset_status
from labkit.core.env import device


def _version(module: str) -> str:
    try:
        return getattr(importlib.import_module(module), "__version__", "installed")
    except Exception as e:  # noqa: BLE001 - doctor reports, never raises
        return f"NOT IMPORTABLE ({type(e).__name__}: {e})"


def findings() -> dict[str, Any]:
    """A dict of checks; ``problems`` lists what would stop the course from running."""
    out: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform()}
    problems: list[str] = []
    for mod in ("torch", "torchvision", "numpy", "scipy", "sklearn", "matplotlib", "papermill", "nbval", "resmem"):
        out[mod] = _version(mod)
        if out[mod].startswith("NOT IMPORTABLE"):
            problems.append(f"{mod} does not import: {out[mod]}")
    try:
        from torchvision.ops import nms

        nms(torch.zeros(1, 4), torch.ones(1), 0.5)
        out["torchvision_ops"] = "ok (torch and torchvision match)"
    except Exception as e:  # noqa: BLE001
        out["torchvision_ops"] = f"BROKEN: {e}"
        problems.append("torch and torchvision do not match; re-run `bash tools/setup_env.sh`")
    out["threads"] = torch.get_num_threads()
    out["device"] = str(device("auto"))
    out["cuda"] = torch.cuda.is_available()
    spec = importlib.util.find_spec("resmem")
    weights = None
    if spec and spec.submodule_search_locations:
        from pathlib import Path

        weights = Path(next(iter(spec.submodule_search_locations))) / "model.pt"
    # Names, not absolute paths: the findings are rendered into committed notebooks (no machine's paths there).
    out["resmem_weights"] = (f"ok ({weights.name} inside the resmem package, {weights.stat().st_size / 1e6:.0f} MB)"
                             if weights and weights.exists() else "missing")
    if out["resmem_weights"] == "missing":
        problems.append("ResMem weights (resmem package) missing: notebooks 02, 03, 05 need them")
    out["kernel"] = "ok" if importlib.util.find_spec("ipykernel") else "ipykernel missing"
    out["java"] = "ok (java on PATH)" if shutil.which("java") else "missing (METEOR in notebook 06 needs Java)"
    try:
        status = asset_status()
        out["assets"] = {k: sum(v == k for v in status.values()) for k in ("ok", "missing", "corrupt")}
        bad = [n for n, s in status.items() if s != "ok"]
        if bad:
            problems.append(f"bundled assets not ok: {', '.join(bad[:5])}; restore with `git checkout -- data/`")
    except AssetError as e:
        out["assets"] = str(e)
        problems.append(str(e))
    out["problems"] = problems
    return out


def report(info: dict[str, Any]) -> str:
    lines = [f"{k:16s} {v}" for k, v in info.items() if k != "problems"]
    lines.append("problems         " + ("none" if not info["problems"] else ""))
    lines += [f"  - {p}" for p in info["problems"]]
    return "\n".join(lines)
