"""Seeds, devices and threads: the three things that decide whether a run is reproducible."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int = 0, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels.

    Returns a ``torch.Generator`` seeded the same way, for code that wants a private stream
    (data shuffling) that later model changes cannot disturb.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r})")
    if not 0 <= seed < 2**64:  # torch.manual_seed's range; a larger seed failed there without naming `seed`
        from labkit.core.errors import ParameterError

        raise ParameterError(f"seed must be between 0 and 2**64 - 1, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    if deterministic:
        # warn_only: a few CUDA kernels have no deterministic version; CPU runs are exact anyway.
        torch.use_deterministic_algorithms(True, warn_only=True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.Generator().manual_seed(seed)


def device(name: str = "auto") -> torch.device:
    """Resolve ``"auto"`` to the best available device (cuda > mps > cpu); pass others through."""
    if not isinstance(name, str):
        raise TypeError(f"device name must be a string such as 'auto', 'cpu' or 'cuda', got {name!r}")
    if name != "auto":
        dev = torch.device(name)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {name!r} requested but CUDA is not available; use 'auto' or 'cpu'")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


#: The cores a process may use when it shares the machine with others started alongside it: each run of a local
#: sweep (the machine's cores over the sweep's workers) and each test worker of ``make test``.
THREADS_ENV = "LABKIT_THREADS"


def shared_threads() -> int | None:
    """The share of the cores set in ``LABKIT_THREADS`` (a positive integer), or None when the process has the
    machine to itself.

    Why: a notebook's "every core" default, times two processes side by side, puts four torch threads on two
    cores, and spinning threads make every run several times slower (a 50 s notebook took 9 minutes so)."""
    value = os.environ.get(THREADS_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads and return the count. Default: the process's share of the cores
    (:func:`shared_threads`) when it has one, else every core this process may use.

    On a 2-core machine oversubscription (BLAS threads × data-loader workers) costs more than it
    gains, so the course sets this once per notebook instead of trusting defaults.
    """
    if n is None:
        n = shared_threads() or (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"thread count must be a positive int, got {n!r}")
    torch.set_num_threads(n)
    return n


HEADLESS_ENV = "LABKIT_HEADLESS"


def headless() -> bool:
    """True inside ``labkit run`` / sweeps / ``make test`` (they set ``LABKIT_HEADLESS=1`` for the kernel).

    Notebooks skip live widgets then: nobody is there to move a slider, and widget messages can stall a
    headless Jupyter client indefinitely (jupyter/nbclient#312), which in CI means a hung job.
    """
    return os.environ.get(HEADLESS_ENV) == "1"
