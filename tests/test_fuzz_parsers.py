"""Fuzzing every parser the course has: garbage or mutated input ends in the parser's own clear error.

Default run (CI): a fast subset (hypothesis profile "ci"). `make fuzz` runs the "fuzz" profile: 1,500
inputs per parser, over 10,000 in total. A parser may succeed or raise its own error type; any other
exception, a run past the deadline (a hang) or a large jump in resident memory is a failure.
"""

import gzip
import json
import resource
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.caffe.convert import convert
from labkit.caffe.readers import CaffeFormatError, parse_prototxt_text, read_caffemodel, read_mean_binaryproto
from labkit.caffe.writer import write_caffemodel, write_mean_binaryproto
from labkit.core import assets
from labkit.course.params import Param, ParameterError, parse_cli_value, read_params
from labkit.data.captions import CaptionFormatError, read_h5_features, read_msvd_csv, write_h5_features
from labkit.data.frame_pca import FramePCA, FramePCAError
from labkit.data.lamem import LaMemFormatError, read_split
from labkit.data.memcat import MemCatFormatError, load_memcat
from labkit.data.mnist import IDXFormatError, load_mnist, read_idx
from labkit.data.yt8m import FrameRecord, TFRecordFormatError, read_frame_records, write_frame_records

TMP = Path(tempfile.mkdtemp(prefix="labkit-fuzz-"))
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(autouse=True)
def _no_memory_blowup():
    before = _rss_mb()
    yield
    assert _rss_mb() - before < 1024, "a parser's peak memory grew by more than 1 GB on fuzzed input"


@st.composite
def mutated(draw, seed: bytes):
    """A valid file with bytes flipped, a slice cut out or random bytes spliced in, or truncated."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i : i + draw(st.integers(1, 64))]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[i:]
    return bytes(data)


def _file(name: str, data: bytes) -> Path:
    p = TMP / name
    p.write_bytes(data)
    return p


def _either(parse, error, *args):
    try:
        parse(*args)
    except error:
        pass


# ---------------------------------------------------------------- seeds (valid files of each format)
def _valid_caffemodel() -> bytes:
    p = TMP / "seed.caffemodel"
    write_caffemodel(p, {"conv1": [np.ones((2, 1, 3, 3), np.float32), np.zeros(2, np.float32)]},
                     types={"conv1": "Convolution"})
    return p.read_bytes()


def _valid_mean() -> bytes:
    p = TMP / "seed.binaryproto"
    write_mean_binaryproto(p, np.arange(3 * 4 * 4, dtype=np.float32).reshape(3, 4, 4))
    return p.read_bytes()


def _valid_tfrecord() -> bytes:
    p = TMP / "seed.tfrecord"
    rng = np.random.default_rng(0)
    write_frame_records(p, [FrameRecord(f"v{i}", [i, 3], {"rgb": rng.integers(0, 256, (3, 1024), dtype=np.uint8)})
                            for i in range(2)])
    return p.read_bytes()


def _valid_idx() -> bytes:
    return struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">III", 2, 3, 3) + bytes(range(18))


def _valid_labels() -> bytes:
    return struct.pack(">BBBB", 0, 0, 8, 1) + struct.pack(">I", 2) + bytes([3, 9])


def _valid_pca() -> bytes:
    x = np.random.default_rng(0).normal(size=(8, 6))
    return FramePCA(3).fit(x).save(TMP / "seed_pca.npz").read_bytes()


PROTOTXT = 'name: "n"\ninput: "data"\ninput_dim: 1\ninput_dim: 1\ninput_dim: 4\ninput_dim: 4\n' \
           'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 3 } }\n'


@FUZZ
@given(st.one_of(st.binary(max_size=512), mutated(_valid_caffemodel())))
def test_caffemodel_reader(data):
    _either(read_caffemodel, CaffeFormatError, _file("f.caffemodel", data))


@FUZZ
@given(st.one_of(st.binary(max_size=256), mutated(_valid_mean())))
def test_mean_binaryproto_reader(data):
    _either(read_mean_binaryproto, CaffeFormatError, _file("f.binaryproto", data))


@FUZZ
@given(st.one_of(st.text(max_size=300), mutated(PROTOTXT.encode()).map(lambda b: b.decode("latin-1"))))
def test_prototxt_parser(text):
    _either(parse_prototxt_text, CaffeFormatError, text)


NET = ('input: "data"\ninput_shape { dim: 1 dim: 2 dim: 9 dim: 9 }\n'
       'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 3 alpha: 0.1 } }\n'
       'layer { name: "p" type: "Pooling" bottom: "n" top: "p" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }\n'
       'layer { name: "c" type: "Convolution" bottom: "p" top: "c" convolution_param { num_output: 2 kernel_size: 2 } }\n'
       'layer { name: "r" type: "ReLU" bottom: "c" top: "c" }\n'
       'layer { name: "s" type: "Softmax" bottom: "c" top: "s" softmax_param { axis: 1 } }\n')
NET_WEIGHTS = {"c": [np.ones((2, 2, 2, 2), np.float32), np.zeros(2, np.float32)]}


@FUZZ
@given(st.one_of(st.text(max_size=300), mutated(NET.encode()).map(lambda b: b.decode("latin-1"))))
def test_prototxt_converter(text):
    """Past the parser: layer geometry (zero strides, groups, kernels wider than the input, bad axes) and input
    shapes end in a CaffeFormatError naming the layer, never a ZeroDivisionError or a torch error."""
    _either(lambda t: convert(parse_prototxt_text(t), NET_WEIGHTS), CaffeFormatError, text)


MANIFEST = json.dumps({"demo/x.txt": {"sha256": "0" * 64, "bytes": 5, "source": "s", "license": "CC0",
                                      "restore": "git checkout -- data/demo/x.txt"}})


@FUZZ
@given(st.one_of(st.text(max_size=200), mutated(MANIFEST.encode()).map(lambda b: b.decode("latin-1"))))
def test_asset_manifest_reader(text):
    root = TMP / "assets"
    (root / "demo").mkdir(parents=True, exist_ok=True)
    (root / "demo" / assets.MANIFEST).write_text(text, errors="surrogateescape")
    _either(assets.load_manifest, assets.AssetError, root)


@FUZZ
@given(st.one_of(st.binary(max_size=512), mutated(_valid_tfrecord())))
def test_tfrecord_reader(data):
    _either(lambda p: list(read_frame_records(p)), TFRecordFormatError, _file("f.tfrecord", data))


@FUZZ
@given(st.one_of(st.binary(max_size=512), mutated(_valid_pca())))
def test_frame_pca_basis_reader(data):
    _either(FramePCA.load, FramePCAError, _file("f_pca.npz", data))


@FUZZ
@given(st.one_of(st.binary(max_size=128), mutated(_valid_idx())), st.booleans())
def test_mnist_idx_reader(data, compress):
    name = "f-idx3-ubyte.gz" if compress else "f-idx3-ubyte"
    _either(read_idx, IDXFormatError, _file(name, gzip.compress(data) if compress else data))


@FUZZ
@given(st.one_of(st.binary(max_size=128), mutated(_valid_idx())), mutated(_valid_labels()))
def test_mnist_folder_reader(images, labels):
    """load_mnist on a folder of fuzzed image and label files: type, dims, size and label checks included."""
    root = TMP / "mnist"
    root.mkdir(exist_ok=True)
    (root / "train-images-idx3-ubyte").write_bytes(images)
    (root / "train-labels-idx1-ubyte").write_bytes(labels)
    _either(load_mnist, IDXFormatError, root, "train", None)


SPLIT = "images/a.jpg 0.75\nimages/b.jpg 0.5\n"


@FUZZ
@given(st.one_of(st.text(max_size=200), mutated(SPLIT.encode()).map(lambda b: b.decode("latin-1"))))
def test_lamem_split_reader(text):
    _either(read_split, LaMemFormatError, _file("train_1.txt", text.encode("utf-8", "surrogatepass")))


MEMCAT = ("image_file,category,subcategory,memorability_w_fa_correction\n"
          "a.jpg,animal,bird,0.8\nb.jpg,food,fruit,0.6\n")


@FUZZ
@given(st.one_of(st.text(max_size=200), mutated(MEMCAT.encode()).map(lambda b: b.decode("latin-1"))))
def test_memcat_csv_reader(text):
    root = TMP / "memcat"
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "memcat_image_data.csv").write_text(text, errors="surrogateescape")
    _either(load_memcat, MemCatFormatError, root, False)


CELL = 'from typing import Optional\n\nprofile: str = "quick"  # quick|full: profile\ndata_root: Optional[str] = None  # root\nepochs: int = 3  # epochs\n'


@FUZZ
@given(st.one_of(st.text(max_size=200), mutated(CELL.encode()).map(lambda b: b.decode("latin-1"))))
def test_notebook_parameters_cell(text):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(text)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    path = TMP / "p.ipynb"
    path.write_text(json.dumps(nb))
    _either(read_params, ParameterError, path)


@FUZZ
@given(st.text(max_size=60), st.sampled_from(["int", "float", "str", "bool", "Optional[str]", "list[int]"]))
def test_notebook_parameter_values(raw, annotation):
    _either(parse_cli_value, ParameterError, raw, Param("x", annotation, None))


MSVD_CSV = (Path(__file__).parent / "fixtures" / "msvd" / "corpus.csv").read_bytes()


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode), mutated(MSVD_CSV)))
def test_msvd_corpus_csv_reader(data):
    _either(read_msvd_csv, CaptionFormatError, _file("corpus.csv", data))


def _valid_h5() -> bytes:
    p = TMP / "seed.hdf5"
    write_h5_features(p, {"a_1_2": np.ones((2, 3), np.float32), "b_3_9": np.arange(4, dtype=np.float32)[:, None]})
    return p.read_bytes()


@FUZZ
@given(st.one_of(st.binary(max_size=256), mutated(_valid_h5())))
def test_msvd_hdf5_feature_reader(data):
    _either(read_h5_features, CaptionFormatError, _file("features.hdf5", data))
