"""Bad input: each a CaffeFormatError naming the file/layer, never a silent wrong model."""

import shutil

import numpy as np
import pytest

from labkit import asset_path
from labkit.caffe import (
    CaffeFormatError,
    load_caffe_model,
    read_caffemodel,
    read_mean_binaryproto,
    read_prototxt,
)
from labkit.caffe.writer import write_caffemodel

PROTO = """name: "t"
input: "data"
input_shape { dim: 1 dim: 2 dim: 6 dim: 6 }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 3 kernel_size: 3 } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "fc" type: "InnerProduct" bottom: "conv" top: "fc" inner_product_param { num_output: 4 } }
"""
GOOD = {"conv": [np.ones((3, 2, 3, 3), np.float32), np.zeros(3, np.float32)],
        "fc": [np.ones((4, 48), np.float32), np.zeros(4, np.float32)]}


@pytest.fixture
def proto(tmp_path):
    p = tmp_path / "net.prototxt"
    p.write_text(PROTO)
    return p


def _model(tmp_path, weights):
    path = tmp_path / "w.caffemodel"
    write_caffemodel(path, weights)
    return path


def test_good_pair_loads(tmp_path, proto):
    model = load_caffe_model(proto, _model(tmp_path, GOOD))
    assert model.layers["fc"].linear.in_features == 48


def test_truncated_caffemodel(tmp_path):
    src = asset_path("caffe/tiny_memnet.caffemodel").read_bytes()
    bad = tmp_path / "trunc.caffemodel"
    bad.write_bytes(src[: len(src) // 2])
    with pytest.raises(CaffeFormatError, match="trunc.caffemodel.*truncated"):
        read_caffemodel(bad)


def test_garbage_caffemodel(tmp_path):
    bad = tmp_path / "garbage.caffemodel"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(CaffeFormatError, match="garbage.caffemodel"):
        read_caffemodel(bad)


def test_text_file_is_not_a_caffemodel(tmp_path, proto):
    with pytest.raises(CaffeFormatError, match="net.prototxt"):
        read_caffemodel(proto)


def test_prototxt_syntax_error_names_line(tmp_path):
    p = tmp_path / "bad.prototxt"
    p.write_text(PROTO.replace('top: "fc" inner', 'top: "fc" { inner'))
    with pytest.raises(CaffeFormatError, match=r"bad.prototxt.*7:"):
        read_prototxt(p)


def test_prototxt_unknown_field_is_an_error(tmp_path):
    p = tmp_path / "bad.prototxt"
    p.write_text(PROTO.replace("kernel_size: 3", "kernel_size: 3 kernel_sise: 2"))
    with pytest.raises(CaffeFormatError, match="kernel_sise"):
        read_prototxt(p)


def test_caffemodel_layer_missing_from_prototxt(tmp_path, proto):
    weights = dict(GOOD, extra=[np.ones(2, np.float32)])
    with pytest.raises(CaffeFormatError, match=r"\['extra'\].*not in the prototxt"):
        load_caffe_model(proto, _model(tmp_path, weights))


def test_prototxt_layer_missing_from_caffemodel(tmp_path, proto):
    with pytest.raises(CaffeFormatError, match="'fc'.*missing from the caffemodel"):
        load_caffe_model(proto, _model(tmp_path, {"conv": GOOD["conv"]}))


def test_wrong_blob_count(tmp_path, proto):
    with pytest.raises(CaffeFormatError, match="'conv'.*1 blob.*needs 2"):
        load_caffe_model(proto, _model(tmp_path, dict(GOOD, conv=GOOD["conv"][:1])))


def test_wrong_blob_shape(tmp_path, proto):
    with pytest.raises(CaffeFormatError, match=r"'fc'.*\(4, 50\).*\(4, 48\)"):
        load_caffe_model(proto, _model(tmp_path, dict(GOOD, fc=[np.ones((4, 50), np.float32), GOOD["fc"][1]])))


def test_weights_on_a_layer_without_parameters(tmp_path, proto):
    with pytest.raises(CaffeFormatError, match="'relu'.*takes no weights"):
        load_caffe_model(proto, _model(tmp_path, dict(GOOD, relu=[np.ones(1, np.float32)])))


def test_unsupported_layer_is_named(tmp_path, proto):
    p = tmp_path / "net2.prototxt"
    p.write_text(PROTO + 'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "fc" top: "l" }\n')
    with pytest.raises(CaffeFormatError, match="'loss'.*SoftmaxWithLoss.*not supported"):
        load_caffe_model(p, _model(tmp_path, GOOD))


def test_unknown_bottom_blob(tmp_path, proto):
    p = tmp_path / "net3.prototxt"
    p.write_text(PROTO.replace('bottom: "conv" top: "fc"', 'bottom: "cnv" top: "fc"'))
    with pytest.raises(CaffeFormatError, match="'fc' needs blob 'cnv'"):
        load_caffe_model(p, _model(tmp_path, GOOD))


def test_blob_data_shorter_than_shape(tmp_path):
    from labkit.caffe import schema
    from labkit.caffe.writer import _field

    b = schema.BlobProto()
    b.shape.dim.extend([2, 3])
    b.data.extend([1.0] * 5)
    layer = schema.LayerParameter(name="conv", type="Convolution")
    path = tmp_path / "short.caffemodel"
    path.write_bytes(_field(100, layer.SerializeToString() + _field(7, b.SerializeToString())))
    with pytest.raises(CaffeFormatError, match="'conv' blob 0.*5 values.*\\(2, 3\\)"):
        read_caffemodel(path)


def test_legacy_4d_blobs_are_accepted(tmp_path, proto):
    path = tmp_path / "legacy.caffemodel"
    write_caffemodel(path, GOOD, legacy_4d=True)
    assert read_caffemodel(path)["fc"][0].shape == (1, 1, 4, 48)
    load_caffe_model(proto, path)


def test_bad_mean_file(tmp_path):
    p = tmp_path / "mean.binaryproto"
    p.write_bytes(b"\xff\xff\xff")
    with pytest.raises(CaffeFormatError, match="mean.binaryproto"):
        read_mean_binaryproto(p)


def test_blob_with_an_empty_shape_is_a_scalar(tmp_path):
    """``shape {}`` declares a scalar (1 value, as Caffe counts it): with no data it is an error, not a crash;
    found by the fuzzer (b':\x00', an empty BlobShape)."""
    from labkit.caffe import schema

    p = tmp_path / "mean.binaryproto"
    blob = schema.BlobProto()
    blob.shape.SetInParent()
    p.write_bytes(blob.SerializeToString())
    with pytest.raises(CaffeFormatError, match=r"holds 0 values but declares shape \(\) \(1 values\)"):
        read_mean_binaryproto(p)
    blob.data.append(3.0)
    p.write_bytes(blob.SerializeToString())
    with pytest.raises(CaffeFormatError, match=r"must be \(1, C, H, W\) or \(C, H, W\), got shape \(\)"):
        read_mean_binaryproto(p)


def test_missing_file_is_file_not_found(tmp_path, proto):
    with pytest.raises(FileNotFoundError):
        load_caffe_model(proto, tmp_path / "nope.caffemodel")


def test_blobless_layers_of_a_training_caffemodel_are_ignored(tmp_path):
    # lenet.caffemodel is Caffe's own snapshot of the TRAIN net: data, loss layers without blobs
    shutil.copy(asset_path("caffe/lenet.caffemodel"), tmp_path / "l.caffemodel")
    assert set(read_caffemodel(tmp_path / "l.caffemodel")) == {"conv1", "conv2", "ip1", "ip2"}


def test_round_mode_floor_matches_pytorch_default(tmp_path):
    import torch

    p = tmp_path / "floor.prototxt"
    p.write_text('input: "data"\ninput_shape { dim: 1 dim: 2 dim: 8 dim: 8 }\n'
                 'layer { name: "p" type: "Pooling" bottom: "data" top: "p"\n'
                 '  pooling_param { pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR } }\n')
    w = tmp_path / "empty.caffemodel"
    write_caffemodel(w, {"p": []}, types={"p": "Pooling"})  # one blob-less layer
    x = torch.randn(1, 2, 8, 8)
    torch.testing.assert_close(load_caffe_model(p, w)(x), torch.nn.functional.max_pool2d(x, 3, 2))


def test_prototxt_without_layers(tmp_path):
    p = tmp_path / "empty.prototxt"
    p.write_text('name: "nothing"\n')
    with pytest.raises(CaffeFormatError, match="empty.prototxt.*no layers"):
        read_prototxt(p)


def test_pooling_window_outside_the_input_is_refused(tmp_path):
    p = tmp_path / "empty_window.prototxt"
    p.write_text('input: "data"\ninput_shape { dim: 1 dim: 1 dim: 3 dim: 3 }\n'
                 'layer { name: "p" type: "Pooling" bottom: "data" top: "p"\n'
                 '  pooling_param { pool: AVE kernel_size: 2 stride: 3 } }\n')
    w = tmp_path / "w.caffemodel"
    write_caffemodel(w, {"p": []}, types={"p": "Pooling"})
    with pytest.raises(CaffeFormatError, match="'p'.*outside the input"):
        load_caffe_model(p, w)


def test_every_supported_type_has_a_builder_and_only_two_take_weights():
    """SUPPORTED is the builder table's keys: each type reaches its own builder (blobs on a weightless one are refused
    there, a weighted one checks its own parameters), and an unknown type names the list."""
    from labkit.caffe import schema
    from labkit.caffe.convert import BUILDERS, SUPPORTED, LayerSpec, _build

    assert SUPPORTED == set(BUILDERS) and {"Convolution", "InnerProduct", "ReLU", "Split", "TanH"} <= SUPPORTED
    param = schema.message_class("LayerParameter")()
    for t in sorted(SUPPORTED):
        spec = LayerSpec("l", t, ["x"], ["y"], param)
        if t in ("Convolution", "InnerProduct"):
            with pytest.raises(CaffeFormatError) as refused:  # its own parameters are checked (none are set)
                _build(spec, [(1, 2, 6, 6)], [np.ones(1, np.float32)])
            assert "takes no weights" not in str(refused.value) and "not supported" not in str(refused.value)
        else:
            with pytest.raises(CaffeFormatError, match=rf"'l' \({t}\) has 1 blob\(s\).*takes no weights"):
                _build(spec, [(1, 2, 6, 6)], [np.ones(1, np.float32)])
    with pytest.raises(CaffeFormatError, match=r"'l': layer type 'Deconvolution' is not supported \(supported: \["):
        _build(LayerSpec("l", "Deconvolution", ["x"], ["y"], param), [(1, 2, 6, 6)], None)
