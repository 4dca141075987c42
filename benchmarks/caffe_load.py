"""How fast does a MemNet-sized (≈230 MB) caffemodel load? Ratios against reading the same bytes raw.

usage: PYTHONPATH=. python benchmarks/caffe_load.py
"""

import tempfile
import time
from pathlib import Path

import numpy as np

from labkit.caffe import read_caffemodel
from labkit.caffe.convert import convert
from labkit.caffe.readers import read_prototxt
from labkit.caffe.writer import write_caffemodel
from labkit.models import memnet

with tempfile.TemporaryDirectory() as d:
    path, proto = Path(d) / "memnet.caffemodel", memnet.write_deploy_prototxt(Path(d) / "deploy.prototxt")
    rng = np.random.default_rng(0)
    write_caffemodel(path, {n: [rng.standard_normal(s, dtype=np.float32) for s in shapes]
                            for n, shapes in memnet.PARAM_SHAPES.items()})
    t0 = time.perf_counter()
    raw = np.frombuffer(path.read_bytes(), np.uint8)
    t_raw = time.perf_counter() - t0
    t0 = time.perf_counter()
    weights = read_caffemodel(path)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    convert(read_prototxt(proto), weights)
    t_convert = time.perf_counter() - t0
    print(f"file {raw.size / 1e6:.0f} MB: raw read {t_raw:.2f}s, read_caffemodel {t_read:.2f}s "
          f"({t_read / t_raw:.1f}x raw), convert {t_convert:.2f}s ({t_convert / t_raw:.1f}x raw)")
