"""Shared test settings: matplotlib off-screen, hypothesis profiles for the parser fuzzing."""

import json
import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# "ci": the fast subset every `make test` runs; "fuzz": `make fuzz`, 1,500 inputs per parser (>10,000 total).
settings.register_profile("ci", max_examples=40, deadline=5000, derandomize=True)
settings.register_profile("fuzz", max_examples=1500, deadline=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def resmem_model():
    """The published ResMem (``load_pretrained``, eval mode, frozen), loaded once per test module (~3 s)."""
    import torch

    from labkit.models import resmem

    torch.set_num_threads(2)
    return resmem.load_pretrained()


@pytest.fixture
def exercise_status(capsys):
    """Reads what the last ``check_function`` printed: "passed", "wrong" or "unsolved"."""

    def status() -> str:
        out = capsys.readouterr().out
        return "passed" if "✔" in out else "wrong" if "✘" in out else "unsolved"

    return status


def notebook_solutions(path: Path) -> dict:
    """Execute a notebook's exercise cells (those holding a solution region) and return their namespace."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from labkit.course.student import BEGIN

    ns = {"np": np, "torch": torch, "F": F}
    for cell in json.loads(path.read_text())["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and BEGIN in src:
            exec(src, ns)  # noqa: S102 - our own notebook's function definitions
    return ns
