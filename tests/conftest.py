"""Shared test settings: matplotlib off-screen, hypothesis profiles for the parser fuzzing."""

import os

import matplotlib
import pytest
import torch
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
def one_thread():
    """Tiny recurrent or glimpse steps: one thread is faster, and immune to a busy machine's thread contention.
    Test modules opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
