"""Shared test settings: matplotlib off-screen, every test starts from the same random state, hypothesis profiles
for the parser fuzzing. The shared plain functions (``ROOT``, ``run_labkit``, ``run_tool``, ``load_tool``) live in
tests/helpers.py, imported as ``from helpers import ...``: a conftest is not importable by name."""

import os
import random

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import settings

from labkit.core.env import set_threads

matplotlib.use("Agg")

# "ci": the fast subset every `make test` runs; "fuzz": `make fuzz`, 1,500 inputs per parser (>10,000 total).
settings.register_profile("ci", max_examples=40, deadline=5000, derandomize=True)
settings.register_profile("fuzz", max_examples=1500, deadline=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def same_random_state():
    """Seed torch, numpy and random, and set torch's threads, before every test. Without it a test that draws an
    initialisation or a dropout mask sees whatever the tests before it in the same xdist worker left behind, so it
    passes or fails with the order the workers happen to take (a TripleMem gradient test did exactly that in CI).
    Threads: `make test` runs two workers on two cores and sets ``LABKIT_THREADS=1``, so each worker (and each
    notebook it runs, through ``labkit.set_threads``) keeps to one core instead of four threads fighting over two."""
    set_threads()
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)


@pytest.fixture(scope="module")
def resmem_model():
    """The published ResMem (``load_pretrained``, eval mode, frozen), loaded once per test module (~3 s)."""
    from labkit.models import resmem

    return resmem.load_pretrained()


@pytest.fixture
def one_thread():
    """Tiny recurrent or glimpse steps: one thread is faster, and immune to a busy machine's thread contention.
    Test modules opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
