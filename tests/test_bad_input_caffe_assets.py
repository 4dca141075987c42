"""Bad input to the Caffe readers, the converter and the bundled-asset registry: each case is a clear error of its
family that names the file (and the layer, blob or manifest entry), never a ZeroDivisionError, a torch error
naming no layer, or a net that silently computes NaN.

One table: (case id, what builds the bad input in a temporary folder and calls the entry point, the error type,
the pieces of text the message must hold — the file's name first).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from labkit.caffe import (
    CaffeFormatError,
    load_caffe_model,
    read_caffemodel,
    read_mean_binaryproto,
    read_prototxt,
    schema,
)
from labkit.caffe.writer import _field, encode_net, write_caffemodel, write_mean_binaryproto
from labkit.core import assets
from labkit.core.assets import AssetError
from labkit.core.errors import CaffeError, LabkitError

HEAD = 'input: "data"\ninput_shape { dim: 1 dim: 2 dim: 6 dim: 6 }\n'


def _conv(params: str, name: str = "conv") -> str:
    return (f'layer {{ name: "{name}" type: "Convolution" bottom: "data" top: "{name}"\n'
            f"  convolution_param {{ {params} }} }}\n")


def _pool(params: str) -> str:
    return f'layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool"\n  pooling_param {{ {params} }} }}\n'


def _relu(bottom: str = "data") -> str:
    return f'layer {{ name: "relu" type: "ReLU" bottom: "{bottom}" top: "{bottom}" }}\n'


def _convert(file: str, layers: str, head: str = HEAD, **kw) -> Callable[[Path], object]:
    """Write ``head + layers`` as ``file`` beside a caffemodel without weights, and convert the pair."""

    def run(tmp: Path):
        proto = tmp / file
        proto.write_text(head + layers)
        weights = tmp / "w.caffemodel"
        write_caffemodel(weights, {"data": []}, types={"data": "Input"})  # one named layer, no blobs
        return load_caffe_model(proto, weights, **kw)

    return run


def _caffemodel(file: str, blobs: list[np.ndarray], reader=read_caffemodel) -> Callable[[Path], object]:
    def run(tmp: Path):
        write_caffemodel(tmp / file, {"conv": blobs})
        return reader(tmp / file)

    return run


def _mean(file: str, mean: np.ndarray) -> Callable[[Path], object]:
    def run(tmp: Path):
        write_mean_binaryproto(tmp / file, mean)
        return read_mean_binaryproto(tmp / file)

    return run


def _with_nan(shape: tuple[int, ...], where=slice(None)) -> np.ndarray:
    a = np.ones(shape, np.float32)
    a.reshape(-1)[where] = np.nan
    return a


def _double_data_nan(tmp: Path):
    """A blob stored as ``double_data`` (the other payload field) with a NaN in it."""
    blob = schema.BlobProto()
    blob.shape.dim.extend([2])
    blob.double_data.extend([1.0, float("nan")])
    layer = schema.LayerParameter(name="conv", type="Convolution")
    path = tmp / "double.caffemodel"
    path.write_bytes(_field(100, layer.SerializeToString() + _field(7, blob.SerializeToString())))
    return read_caffemodel(path)


def _swap(kind_written: str, file: str, reader) -> Callable[[Path], object]:
    """Write one kind of Caffe file under ``file`` and hand it to the reader of another kind."""

    def run(tmp: Path):
        path = tmp / file
        if kind_written == "caffemodel":
            path.write_bytes(encode_net([("conv1", "Convolution", [np.ones((2, 1, 3, 3), np.float32)]),
                                         ("fc", "InnerProduct", [np.ones((4, 2), np.float32)])]))
        elif kind_written == "mean":
            write_mean_binaryproto(path, np.full((3, 4, 4), 100.0, np.float32))
        else:
            path.write_text(HEAD + _relu())
        return reader(path)

    return run


def _mean_as_weights(tmp: Path):
    proto = tmp / "net.prototxt"
    proto.write_text(HEAD + _relu())
    write_mean_binaryproto(tmp / "mean.binaryproto", np.ones((3, 4, 4), np.float32))
    return load_caffe_model(proto, tmp / "mean.binaryproto")


def _nan_weights_through_the_converter(tmp: Path):
    proto = tmp / "net.prototxt"
    proto.write_text(HEAD + _conv("num_output: 2 kernel_size: 3"))
    write_caffemodel(tmp / "diverged.caffemodel", {"conv": [_with_nan((2, 2, 3, 3)), np.zeros(2, np.float32)]})
    return load_caffe_model(proto, tmp / "diverged.caffemodel")


# ---------------------------------------------------------------- asset manifests (data/<group>/MANIFEST.json)
def _bundle(tmp: Path, restore: str | None = None) -> Path:
    """A data folder with one registered file, ``demo/x.txt``; returns its manifest."""
    (tmp / "demo").mkdir(exist_ok=True)
    (tmp / "demo" / "x.txt").write_text("hello")
    assets.register("demo/x.txt", source="a test", license="CC0", restore=restore, root=tmp)
    return tmp / "demo" / assets.MANIFEST


def _manifest(edit: Callable[[dict], object]) -> Callable[[Path], object]:
    """Register ``demo/x.txt``, rewrite its manifest as ``edit(parsed manifest)``, and read the manifests."""

    def run(tmp: Path):
        path = _bundle(tmp)
        path.write_text(json.dumps(edit(json.loads(path.read_text()))))
        return assets.load_manifest(tmp)

    return run


def _entry(**change) -> Callable[[dict], dict]:
    def edit(raw: dict) -> dict:
        entry = {k: v for k, v in raw["demo/x.txt"].items() if k not in change or change[k] is not None}
        entry.update({k: v for k, v in change.items() if v is not None})
        return {"demo/x.txt": entry}

    return edit


def _not_json(tmp: Path):
    _bundle(tmp).write_text('{"demo/x.txt": {"sha256": ')
    return assets.load_manifest(tmp)


def _corrupt(restore: str | None, name: str = "x.txt") -> Callable[[Path], object]:
    """A bundled file whose bytes changed after it was registered, asked for through ``asset_path``."""

    def run(tmp: Path):
        _bundle(tmp, restore)
        (tmp / "demo" / "x.txt").write_text("hellO")  # same size, other bytes
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LABKIT_DATA", str(tmp))
            return assets.asset_path(f"demo/{name}")

    return run


def _missing(tmp: Path):
    _bundle(tmp)
    (tmp / "demo" / "x.txt").unlink()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABKIT_DATA", str(tmp))
        return assets.asset_path("demo/x.txt")


CHROOT = "sudo tools/caffe_reference/make_goldens.sh  (real Caffe in a Debian bullseye chroot)"
E = CaffeFormatError
CASES = [
    # prototxt geometry, through the converter: Caffe CHECKs these at setup; unchecked they crash far away
    ("conv-group-0", _convert("g0.prototxt", _conv("num_output: 2 kernel_size: 3 group: 0")), E,
     ("g0.prototxt", "layer 'conv'", "group must be >= 1, got 0")),
    ("conv-group-not-dividing", _convert("g3.prototxt", _conv("num_output: 3 kernel_size: 3 group: 3")), E,
     ("g3.prototxt", "'conv'", "not divisible by group 3")),
    ("pool-stride-0", _convert("s0.prototxt", _pool("pool: MAX kernel_size: 3 stride: 0")), E,
     ("s0.prototxt", "layer 'pool'", "stride must be >= 1")),
    ("pool-stride_h-0", _convert("sh0.prototxt", _pool("pool: MAX kernel_size: 3 stride_h: 0 stride_w: 2")), E,
     ("sh0.prototxt", "layer 'pool'", "stride must be >= 1, got (0, 2)")),
    ("conv-stride-0", _convert("cs0.prototxt", _conv("num_output: 2 kernel_size: 3 stride: 0")), E,
     ("cs0.prototxt", "layer 'conv'", "stride must be >= 1")),
    ("conv-kernel-0", _convert("k0.prototxt", _conv("num_output: 2 kernel_size: 0")), E,
     ("k0.prototxt", "layer 'conv'", "kernel_size must be >= 1")),
    ("conv-kernel_h-0", _convert("kh0.prototxt", _conv("num_output: 2 kernel_h: 0 kernel_w: 3")), E,
     ("kh0.prototxt", "layer 'conv'", "kernel_size must be >= 1, got (0, 3)")),
    ("pool-kernel-0", _convert("pk0.prototxt", _pool("pool: AVE kernel_size: 0")), E,
     ("pk0.prototxt", "layer 'pool'", "kernel_size must be >= 1")),
    ("conv-dilation-0", _convert("d0.prototxt", _conv("num_output: 2 kernel_size: 3 dilation: 0")), E,
     ("d0.prototxt", "layer 'conv'", "dilation must be >= 1")),
    ("conv-num_output-0", _convert("n0.prototxt", _conv("num_output: 0 kernel_size: 3")), E,
     ("n0.prototxt", "layer 'conv'", "num_output must be >= 1, got 0")),
    ("fc-num_output-0", _convert("fc0.prototxt", 'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc"\n'
                                                 "  inner_product_param { num_output: 0 } }\n"), E,
     ("fc0.prototxt", "layer 'fc'", "num_output must be >= 1")),
    ("conv-pad-negative", _convert("pad.prototxt", _conv("num_output: 2 kernel_size: 3 pad: -1")), E,
     ("pad.prototxt", "-1", "unsigned")),
    ("pool-stride-negative", _convert("neg.prototxt", _pool("pool: MAX kernel_size: 3 stride: -2")), E,
     ("neg.prototxt", "-2", "unsigned")),
    ("conv-kernel-wider-than-input", _convert("wide.prototxt", _conv("num_output: 2 kernel_size: 9")), E,
     ("wide.prototxt", "layer 'conv'", "kernel 9 (dilation 1) is larger than the input 6")),
    ("pool-kernel-wider-than-input", _convert("pwide.prototxt", _pool("pool: MAX kernel_size: 9")), E,
     ("pwide.prototxt", "layer 'pool'", "larger than the input (6, 6)")),
    ("lrn-even-local_size", _convert("lrn.prototxt", 'layer { name: "norm" type: "LRN" bottom: "data" top: "norm"\n'
                                                     "  lrn_param { local_size: 4 } }\n"), E,
     ("lrn.prototxt", "layer 'norm' (LRN)", "odd")),
    # input shapes: `dim: -1` is no wildcard in Caffe, and a 0 is an empty blob
    ("input_shape-dim-minus-1", _convert("m1.prototxt", _relu(), 'input: "data"\ninput_shape { dim: 1 dim: -1 dim: 6 dim: 6 }\n'),
     E, ("m1.prototxt", "`input_shape` of input 'data'", "(1, -1, 6, 6)")),
    ("input_dim-0", _convert("id0.prototxt", _relu(), 'input: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 0\ninput_dim: 6\n'),
     E, ("id0.prototxt", "`input_dim` of input 'data'", "(1, 3, 0, 6)")),
    ("input-layer-dim-minus-1", _convert("in.prototxt", _relu(), 'layer { name: "in" type: "Input" top: "data"\n'
                                         "  input_param { shape { dim: 1 dim: 3 dim: -1 dim: 6 } } }\n"), E,
     ("in.prototxt", "layer 'in' (Input)", "(1, 3, -1, 6)")),
    ("input-layer-dim-0", _convert("in0.prototxt", _relu(), 'layer { name: "in" type: "Input" top: "data"\n'
                                   "  input_param { shape { dim: 0 dim: 3 dim: 6 dim: 6 } } }\n"), E,
     ("in0.prototxt", "layer 'in' (Input)", "below 1")),
    ("memorydata-batch-0", _convert("md.prototxt", _relu(), 'layer { name: "md" type: "MemoryData" top: "data"\n'
                                    "  memory_data_param { batch_size: 0 channels: 3 height: 6 width: 6 } }\n"), E,
     ("md.prototxt", "layer 'md' (MemoryData)", "below 1")),
    ("input_shape-argument-0", _convert("arg.prototxt", _relu(), 'input: "data"\n', input_shape=(1, 0, 6, 6)), E,
     ("arg.prototxt", "the input_shape argument", "below 1")),
    # caffemodel blobs: NaN or inf would make every output NaN, silently
    ("caffemodel-all-nan-blob", _caffemodel("nan.caffemodel", [_with_nan((2, 2, 3, 3))]), E,
     ("nan.caffemodel", "layer 'conv' blob 0", "36 of 36 values are NaN or inf")),
    ("caffemodel-one-inf-in-bias", _caffemodel("inf.caffemodel", [np.ones((2, 2, 3, 3), np.float32),
                                                                  np.array([0.0, np.inf], np.float32)]), E,
     ("inf.caffemodel", "layer 'conv' blob 1", "1 of 2 values are NaN or inf")),
    ("caffemodel-nan-in-double_data", _double_data_nan, E, ("double.caffemodel", "layer 'conv' blob 0", "NaN")),
    ("converter-nan-weights", _nan_weights_through_the_converter, E,
     ("diverged.caffemodel", "layer 'conv' blob 0", "earlier snapshot")),
    # one kind of Caffe file given where another is expected
    ("mean-file-as-caffemodel", _swap("mean", "mean.binaryproto", read_caffemodel), E,
     ("mean.binaryproto", "looks like a mean file", "(1, 3, 4, 4)", "pass the caffemodel (weights) here")),
    ("mean-file-as-converter-weights", _mean_as_weights, E, ("mean.binaryproto", "looks like a mean file")),
    ("prototxt-as-caffemodel", _swap("prototxt", "deploy.prototxt", read_caffemodel), E,
     ("deploy.prototxt", "looks like a text prototxt")),
    ("caffemodel-as-mean-file", _swap("caffemodel", "weights.caffemodel", read_mean_binaryproto), E,
     ("weights.caffemodel", "looks like a caffemodel", "'conv1', 'fc'", "pass the mean .binaryproto here")),
    ("prototxt-as-mean-file", _swap("prototxt", "deploy2.prototxt", read_mean_binaryproto), E,
     ("deploy2.prototxt", "looks like a text prototxt", "pass the mean file here")),
    ("caffemodel-as-prototxt", _swap("caffemodel", "w2.caffemodel", read_prototxt), E,
     ("w2.caffemodel", "this file is binary", "looks like a caffemodel")),
    ("mean-file-as-prototxt", _swap("mean", "m2.binaryproto", read_prototxt), E,
     ("m2.binaryproto", "this file is binary", "looks like a mean file")),
    # mean files
    ("mean-file-with-nan", _mean("mean.binaryproto", _with_nan((3, 4, 4), slice(5, 6))), E,
     ("mean.binaryproto", "1 of 48 values are NaN or inf")),
    ("mean-file-all-inf", _mean("inf_mean.binaryproto", np.full((3, 2, 2), np.inf, np.float32)), E,
     ("inf_mean.binaryproto", "12 of 12 values")),
    # bundled-asset manifests and files
    ("manifest-is-a-list", _manifest(lambda raw: [raw]), AssetError,
     ("demo/MANIFEST.json", "JSON object", "not a JSON list", "git checkout -- data/demo/MANIFEST.json")),
    ("manifest-unknown-key", _manifest(_entry(sha="abc")), AssetError,
     ("demo/MANIFEST.json", "entry 'demo/x.txt'", "unknown key(s) ['sha']")),
    ("manifest-entry-without-sha256", _manifest(_entry(sha256=None)), AssetError,
     ("demo/MANIFEST.json", "entry 'demo/x.txt'", "missing key(s) ['sha256']")),
    ("manifest-entry-without-bytes", _manifest(_entry(bytes=None)), AssetError,
     ("demo/MANIFEST.json", "entry 'demo/x.txt'", "missing key(s) ['bytes']")),
    ("manifest-entry-is-a-string", _manifest(lambda raw: {"demo/x.txt": "hello"}), AssetError,
     ("demo/MANIFEST.json", "entry 'demo/x.txt'", "JSON str")),
    ("manifest-sha256-not-hex", _manifest(_entry(sha256="not-a-digest")), AssetError,
     ("demo/MANIFEST.json", "entry 'demo/x.txt'", "64 lowercase hex digits")),
    ("manifest-bytes-negative", _manifest(_entry(bytes=-5)), AssetError,
     ("demo/MANIFEST.json", "entry 'demo/x.txt'", "bytes must be a whole number")),
    ("manifest-not-json", _not_json, AssetError, ("demo/MANIFEST.json", "not valid JSON")),
    ("corrupt-asset", _corrupt(None), AssetError, ("data/demo/x.txt", "is corrupt", "git checkout -- data/demo/x.txt")),
    ("corrupt-asset-made-in-a-chroot", _corrupt(CHROOT), AssetError,
     ("data/demo/x.txt", "restore it with `git checkout -- data/demo/x.txt`")),
    ("missing-asset", _missing, AssetError, ("data/demo/x.txt", "is missing")),
]


@pytest.mark.parametrize(("build", "error", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error_naming_the_file(build, error, needles, tmp_path):
    with pytest.raises(error) as info:
        build(tmp_path)
    message = str(info.value)
    assert isinstance(info.value, LabkitError)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_caffe_errors_are_of_the_caffe_family_and_still_value_errors():
    """``except ValueError`` written before the families keeps working; ``except CaffeError`` now catches all three readers."""
    assert issubclass(CaffeFormatError, CaffeError) and issubclass(CaffeFormatError, ValueError)
    assert issubclass(AssetError, FileNotFoundError) and assets.AssetError is AssetError


def test_a_corrupt_chroot_made_asset_suggests_git_before_its_generator(tmp_path):
    """The golden files were made by real Caffe in a chroot; a learner restores them with git, not by rebuilding."""
    with pytest.raises(AssetError) as info:
        _corrupt(CHROOT)(tmp_path)
    message = str(info.value)
    assert message.index("git checkout --") < message.index("sudo tools/caffe_reference")
