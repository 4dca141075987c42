"""What many test files need: the repository root, ``labkit`` run as a command, and a ``tools/`` script as a module.

Imported as ``from helpers import ...`` (pyproject's pytest ``pythonpath`` puts tests/ on sys.path); conftest.py keeps
the fixtures and settings, this module the plain functions, which a fixture cannot be."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"


def labkit_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the checkout first on PYTHONPATH (as the README's commands have it)."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **(extra or {})}


def labkit_argv(*args: str) -> list[str]:
    """``python -m labkit ARGS`` with this interpreter (for a test that drives the process itself, e.g. Ctrl-C)."""
    return [sys.executable, "-m", "labkit", *args]


def run_labkit(*args: str, timeout: float = 300, cwd: Path | str | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m labkit ARGS`` to the end; ``env`` adds to (does not replace) :func:`labkit_env`."""
    return subprocess.run(labkit_argv(*args), cwd=cwd, env=labkit_env(env), capture_output=True, text=True,
                          timeout=timeout)


def run_tool(name: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python tools/<name>.py ARGS`` as a script, to the end (its own process: its threads, seeds and
    deterministic-kernel settings stay out of the test worker)."""
    return subprocess.run([sys.executable, str(TOOLS / f"{name}.py"), *args], env=labkit_env(), capture_output=True,
                          text=True, timeout=timeout)


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` by path, a fresh module each call. tools/ is on sys.path while it imports, as
    ``python tools/<name>.py`` has it, so its sibling imports (``shipped_run``) resolve."""
    path = str(TOOLS)
    added = path not in sys.path
    if added:
        sys.path.insert(0, path)
    try:
        spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        if added:
            sys.path.remove(path)
