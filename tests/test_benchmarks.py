"""Every script in benchmarks/ runs as documented (tiny sizes) and prints its table.

No timing is asserted (timings belong to the benchmarks, not to tests). What is asserted is what the
tables claim besides speed: the ResMem variants compute the package's scores (float32 rows to 1e-6,
the bfloat16 row to a few 1e-3).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers import ROOT, labkit_env

pytestmark = pytest.mark.slow


def run_benchmark(script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, f"benchmarks/{script}", *args], cwd=ROOT, env=labkit_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_resmem_speed_rows_compute_the_package_scores():
    out = run_benchmark("resmem_speed.py", "--images", "3", "--rounds", "1", "--batch-size", "2")
    rows = {m["name"].strip(): float(m["diff"]) for m in re.finditer(
        r"^(?P<name>(?:package|labkit)[^\n]*?)\s+[\d.]+\s+[\d.]+×\s+(?P<diff>[\d.e+-]+)\s+[\d.]+$", out, re.M)}
    assert len(rows) >= 4, out
    for name, diff in rows.items():
        assert diff < (1e-2 if "bf16" in name else 2e-6), (name, diff)
    assert re.search(r"^SPEED RATIO labkit/package, float32 \(equal to 1e-6\) = [\d.]+×$", out, re.M), out


def test_resmem_speed_rejects_a_compile_run_that_would_recompile():
    proc = subprocess.run([sys.executable, "benchmarks/resmem_speed.py", "--compile", "--images", "3"], cwd=ROOT,
                          env=labkit_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "multiple of --batch-size" in proc.stderr


def test_ram_speed_prints_both_retinas():
    out = run_benchmark("ram_speed.py", "--batch", "8", "--steps", "2")
    assert len(re.findall(r"ratio\s+[\d.]+x", out)) == 4, out


def test_amnet_cache_speed_prints_three_configurations():
    out = run_benchmark("amnet_cache_speed.py", "--images", "4", "--batch-size", "4")
    assert len(re.findall(r"speed-up\s+[\d.]+x", out)) == 3, out


def test_caffe_load_prints_its_ratios():
    out = run_benchmark("caffe_load.py")
    assert re.search(r"read_caffemodel [\d.]+s \([\d.]+x raw\), convert [\d.]+s", out), out
