"""Caffe net (prototxt + caffemodel) → a PyTorch module that computes the same blobs.

Why a graph interpreter rather than generated code: Caffe nets are DAGs of named blobs with in-place
layers; walking the layer list in order and keeping a ``{blob name: tensor}`` dict reproduces exactly
what ``caffe.Net.forward`` leaves in ``net.blobs``, which is what the golden files record.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from labkit.caffe import layers as L
from labkit.caffe import schema
from labkit.caffe.readers import CaffeFormatError, read_caffemodel, read_prototxt

DATA_TYPES = {"Input", "Data", "HDF5Data", "MemoryData", "ImageData", "DummyData"}


@dataclass
class LayerSpec:
    """One layer in the uniform (modern) form, whichever of ``layer`` / V1 ``layers`` it came from."""

    name: str
    type: str
    bottom: list[str]
    top: list[str]
    param: object  # the LayerParameter / V1LayerParameter message


def _enum_name(msg, field: str) -> str:
    return msg.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[getattr(msg, field)].name


def layer_specs(net) -> list[LayerSpec]:
    """Both formats as ``LayerSpec``s; TRAIN-only layers (``include { phase: TRAIN }``) are dropped."""
    specs = []
    if net.layer and net.layers:
        raise CaffeFormatError("a net may use either `layer` or the legacy `layers`, not both")
    for lp in net.layer:
        specs.append(LayerSpec(lp.name, lp.type, list(lp.bottom), list(lp.top), lp))
    for lp in net.layers:
        enum = schema.V1_TYPE_NAMES.get(lp.type, str(lp.type))
        specs.append(LayerSpec(lp.name, schema.V1_TO_TYPE.get(enum, enum), list(lp.bottom), list(lp.top), lp))
    test = 1  # caffe.TEST
    keep = []
    for s in specs:
        inc, exc = list(s.param.include), list(s.param.exclude)
        if inc and not any((not r.HasField("phase")) or r.phase == test for r in inc):
            continue
        if any(r.HasField("phase") and r.phase == test for r in exc):
            continue
        keep.append(s)
    return keep


def _hw(msg, h: str, w: str) -> tuple[int, int] | None:
    return (int(getattr(msg, h)), int(getattr(msg, w))) if msg.HasField(h) or msg.HasField(w) else None


def _pair(values, hw: tuple[int, int] | None, default: int | None, what: str, layer: str) -> tuple[int, int]:
    """Caffe's rule: `kernel_h/kernel_w` win over `kernel_size`, which holds 1 value (square) or 2 (h, w)."""
    if hw is not None:
        return hw
    vals = [int(v) for v in values]
    if not vals:
        if default is None:
            raise CaffeFormatError(f"layer {layer!r}: {what} is not set")
        return default, default
    if len(vals) in (1, 2):
        return vals[0], vals[-1]
    raise CaffeFormatError(f"layer {layer!r}: {what} must have 1 or 2 values for a 2-D net, got {vals}")


def _input_shapes(net, specs: list[LayerSpec], input_shape) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    origin: dict[str, str] = {}  # where each input's shape was declared, for the error message
    if net.input:
        dims = [tuple(int(d) for d in s.dim) for s in net.input_shape]
        field = "input_shape"
        if not dims and net.input_dim:
            flat = list(net.input_dim)
            dims = [tuple(flat[i: i + 4]) for i in range(0, len(flat), 4)]
            field = "input_dim"
        for i, name in enumerate(net.input):
            shapes[name], origin[name] = (dims[i] if i < len(dims) else None), f"`{field}` of input {name!r}"
    for s in specs:
        if s.type == "Input":
            for i, top in enumerate(s.top):
                sh = s.param.input_param.shape
                shapes[top] = tuple(int(d) for d in sh[min(i, len(sh) - 1)].dim) if len(sh) else None
                origin[top] = f"layer {s.name!r} (Input)"
        elif s.type == "MemoryData":
            p = s.param.memory_data_param
            shapes[s.top[0]] = (p.batch_size, p.channels, p.height, p.width)
            origin[s.top[0]] = f"layer {s.name!r} (MemoryData)"
        elif s.type in DATA_TYPES:
            shapes[s.top[0]] = None
    if input_shape is not None:
        if len(shapes) != 1:
            raise CaffeFormatError(f"input_shape given but the net has inputs {list(shapes)}")
        only = next(iter(shapes))
        shapes[only], origin[only] = tuple(int(d) for d in input_shape), "the input_shape argument"
    missing = [k for k, v in shapes.items() if v is None]
    if missing:
        raise CaffeFormatError(f"the prototxt does not give the shape of input(s) {missing}; pass input_shape=(N, C, H, W)")
    if not shapes:
        raise CaffeFormatError("the prototxt declares no input (no `input:`, Input layer or data layer)")
    for name, shape in shapes.items():
        # Caffe's `dim: -1` is no wildcard, and a 0 makes an empty blob that every later layer divides by
        if not shape or any(d < 1 for d in shape):
            raise CaffeFormatError(f"{origin[name]}: shape {shape} has a dimension below 1; give every dimension "
                                   "as a positive number (deploy nets: dim: 1 dim: 3 dim: 227 dim: 227)")
    return shapes


class CaffeNet(nn.Module):
    """A converted Caffe net. ``forward(x)`` returns the final top blob; ``forward_blobs(x)`` all of them."""

    def __init__(self, specs: list[LayerSpec], modules: dict[str, nn.Module], inputs: dict[str, tuple]):
        super().__init__()
        self.inputs = dict(inputs)
        self.specs = [(s.name, s.type, s.bottom, s.top) for s in specs]
        self.key = {s.name: s.name.replace(".", "_") for s in specs}
        self.layers = nn.ModuleDict({self.key[n]: m for n, m in modules.items()})
        self.output = specs[-1].top[0] if specs else next(iter(inputs))

    def forward_blobs(self, x: torch.Tensor | dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        blobs = dict(x) if isinstance(x, dict) else {next(iter(self.inputs)): x}
        for name, _, bottom, top in self.specs:
            try:
                args = [blobs[b] for b in bottom]
            except KeyError as e:
                raise CaffeFormatError(f"layer {name!r} needs blob {e.args[0]!r}, which no earlier layer produces") from e
            out = self.layers[self.key[name]](*args)
            outs = out if isinstance(out, tuple) else (out,) * len(top)
            blobs.update(zip(top, outs, strict=True))
        return blobs

    def forward(self, x: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        return self.forward_blobs(x)[self.output]


def _expect(name: str, got: list[np.ndarray], want: list[tuple[int, ...]]) -> list[torch.Tensor]:
    """Check blob count and shapes (accepting Caffe's legacy 4-D shapes padded with leading 1s)."""
    if len(got) != len(want):
        raise CaffeFormatError(
            f"layer {name!r}: caffemodel has {len(got)} blob(s), the prototxt needs {len(want)} "
            f"(shapes {want}); check bias_term and that prototxt and weights belong together"
        )
    out = []
    for i, (arr, shape) in enumerate(zip(got, want, strict=True)):
        squeezed = arr.shape[len(arr.shape) - len(shape):] if arr.ndim >= len(shape) else None
        legacy_ok = squeezed == shape and all(d == 1 for d in arr.shape[: arr.ndim - len(shape)])
        if arr.shape != shape and not legacy_ok:
            raise CaffeFormatError(
                f"layer {name!r}: blob {i} has shape {arr.shape} in the caffemodel but the prototxt implies {shape}"
            )
        out.append(torch.from_numpy(np.ascontiguousarray(arr.reshape(shape))))
    return out


def _at_least_one(layer: str, **values: int | tuple[int, ...]) -> None:
    """Caffe CHECKs these are positive when it sets a layer up; unchecked, a 0 is a ZeroDivisionError or an
    empty tensor far from the prototxt line that caused it."""
    for what, v in values.items():
        if any(x < 1 for x in (v if isinstance(v, tuple) else (v,))):
            raise CaffeFormatError(f"layer {layer!r}: {what} must be >= 1, got {v}")


Builder = Callable[[LayerSpec, list[tuple], list[np.ndarray] | None], nn.Module]


def _convolution(spec: LayerSpec, shapes: list[tuple], blobs: list[np.ndarray] | None) -> nn.Module:
    cp, name = spec.param.convolution_param, spec.name
    if cp.axis != 1 or len(shapes[0]) != 4:
        raise CaffeFormatError(f"layer {name!r}: only 2-D convolution on axis 1 is supported")
    kh, kw = _pair(cp.kernel_size, _hw(cp, "kernel_h", "kernel_w"), None, "kernel_size", name)
    sh, sw = _pair(cp.stride, _hw(cp, "stride_h", "stride_w"), 1, "stride", name)
    ph, pw = _pair(cp.pad, _hw(cp, "pad_h", "pad_w"), 0, "pad", name)
    dh, dw = _pair(cp.dilation, None, 1, "dilation", name)
    cin, g, cout = shapes[0][1], cp.group, cp.num_output
    _at_least_one(name, kernel_size=(kh, kw), stride=(sh, sw), dilation=(dh, dw), group=g, num_output=cout)
    for size, k, pad, d in ((shapes[0][2], kh, ph, dh), (shapes[0][3], kw, pw, dw)):
        if size + 2 * pad < d * (k - 1) + 1:
            raise CaffeFormatError(f"layer {name!r}: kernel {k} (dilation {d}) is larger than the input {size} "
                                   f"padded by {pad} on each side; no output position fits")
    if cin % g or cout % g:
        raise CaffeFormatError(f"layer {name!r}: channels {cin}→{cout} not divisible by group {g}")
    m = nn.utils.skip_init(nn.Conv2d, cin, cout, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups=g, bias=cp.bias_term)
    want = [(cout, cin // g, kh, kw)] + ([(cout,)] if cp.bias_term else [])
    _load(m, name, blobs, want, [m.weight] + ([m.bias] if cp.bias_term else []))
    return m


def _inner_product(spec: LayerSpec, shapes: list[tuple], blobs: list[np.ndarray] | None) -> nn.Module:
    ip, name = spec.param.inner_product_param, spec.name
    _at_least_one(name, num_output=ip.num_output)
    axis = ip.axis % len(shapes[0])
    fan_in = int(np.prod(shapes[0][axis:]))
    m = L.InnerProduct(fan_in, ip.num_output, ip.bias_term, axis)
    wshape = (fan_in, ip.num_output) if ip.transpose else (ip.num_output, fan_in)
    want = [wshape] + ([(ip.num_output,)] if ip.bias_term else [])
    params = [m.linear.weight] + ([m.linear.bias] if ip.bias_term else [])
    _load(m, name, blobs, want, params, transpose_first=ip.transpose)
    return m


def _pooling(spec: LayerSpec, shapes: list[tuple]) -> nn.Module:
    pp, name = spec.param.pooling_param, spec.name
    method = _enum_name(pp, "pool")
    if method not in ("MAX", "AVE"):
        raise CaffeFormatError(f"layer {name!r}: pooling method {method} is not supported (MAX, AVE)")
    ceil = _enum_name(pp, "round_mode") == "CEIL"  # FLOOR only in late Caffe versions
    if pp.global_pooling:
        return L.CaffePool2d(method, (1, 1), (1, 1), (0, 0), global_pooling=True)
    k = _pair([pp.kernel_size] if pp.HasField("kernel_size") else [], _hw(pp, "kernel_h", "kernel_w"), None,
              "kernel_size", name)
    s = _pair([pp.stride], _hw(pp, "stride_h", "stride_w"), 1, "stride", name)
    pad = _pair([pp.pad], _hw(pp, "pad_h", "pad_w"), 0, "pad", name)
    _at_least_one(name, kernel_size=k, stride=s)
    if pad[0] >= k[0] or pad[1] >= k[1]:
        raise CaffeFormatError(f"layer {name!r}: pad {pad} must be smaller than kernel {k} (Caffe's rule)")
    out = L.caffe_pool_shape(tuple(shapes[0][-2:]), k, s, pad, ceil)
    if min(out) < 1:
        raise CaffeFormatError(f"layer {name!r}: kernel {k} is larger than the input {tuple(shapes[0][-2:])} "
                               f"padded by {pad}; the pooled output would be {out}")
    for size, n, kk, ss, pp_ in zip(shapes[0][-2:], out, k, s, pad, strict=True):
        if (n - 1) * ss - pp_ >= size:  # only possible without any padding: Caffe clips otherwise
            raise CaffeFormatError(f"layer {name!r}: with input {size}, kernel {kk}, stride {ss}, pad {pp_} the "
                                   "last window lies outside the input (Caffe would output NaN/-FLT_MAX there)")
    return L.CaffePool2d(method, k, s, pad, ceil=ceil)


def _relu(spec: LayerSpec, shapes: list[tuple]) -> nn.Module:
    slope = spec.param.relu_param.negative_slope
    return nn.LeakyReLU(slope) if slope else nn.ReLU()


def _lrn(spec: LayerSpec, shapes: list[tuple]) -> nn.Module:
    lp = spec.param.lrn_param
    return L.CaffeLRN(lp.local_size, lp.alpha, lp.beta, lp.k, _enum_name(lp, "norm_region"))


def _concat(spec: LayerSpec, shapes: list[tuple]) -> nn.Module:
    cp = spec.param.concat_param
    return L.Concat(cp.axis if cp.HasField("axis") or not cp.HasField("concat_dim") else cp.concat_dim)


def _eltwise(spec: LayerSpec, shapes: list[tuple]) -> nn.Module:
    ep = spec.param.eltwise_param
    if ep.coeff and len(ep.coeff) != len(spec.bottom):
        raise CaffeFormatError(f"layer {spec.name!r}: {len(ep.coeff)} coeff for {len(spec.bottom)} bottoms")
    return L.Eltwise(_enum_name(ep, "operation"), list(ep.coeff))


def _weightless(build: Callable[[LayerSpec, list[tuple]], nn.Module]) -> Builder:
    """A layer that takes no weights: blobs for it in the caffemodel mean prototxt and weights do not belong
    together, said before the layer's own checks."""
    def checked(spec: LayerSpec, shapes: list[tuple], blobs: list[np.ndarray] | None) -> nn.Module:
        if blobs:
            raise CaffeFormatError(f"layer {spec.name!r} ({spec.type}) has {len(blobs)} blob(s) in the caffemodel "
                                   "but takes no weights")
        return build(spec, shapes)
    return checked


# The one list of layer types the converter builds: Caffe type name → builder(spec, input shapes, caffemodel blobs).
BUILDERS: dict[str, Builder] = {
    "Convolution": _convolution,
    "InnerProduct": _inner_product,
    "ReLU": _weightless(_relu),
    "Pooling": _weightless(_pooling),
    "LRN": _weightless(_lrn),
    "Dropout": _weightless(lambda spec, shapes: L.Identity()),  # inference: dropout is the identity
    "Split": _weightless(lambda spec, shapes: L.Identity()),  # one blob to several layers: the dict of blobs does it
    "Softmax": _weightless(lambda spec, shapes: L.Softmax(spec.param.softmax_param.axis)),
    "Concat": _weightless(_concat),
    "Eltwise": _weightless(_eltwise),
    "Flatten": _weightless(lambda spec, shapes: L.Flatten(spec.param.flatten_param.axis,
                                                          spec.param.flatten_param.end_axis)),
    "Sigmoid": _weightless(lambda spec, shapes: nn.Sigmoid()),
    "TanH": _weightless(lambda spec, shapes: nn.Tanh()),
}
SUPPORTED = frozenset(BUILDERS)


def _unsupported(spec: LayerSpec) -> CaffeFormatError:
    return CaffeFormatError(f"layer {spec.name!r}: layer type {spec.type!r} is not supported "
                            f"(supported: {sorted(SUPPORTED)})")


def _build(spec: LayerSpec, shapes: list[tuple], blobs: list[np.ndarray] | None) -> nn.Module:
    if spec.type not in BUILDERS:
        raise _unsupported(spec)
    return BUILDERS[spec.type](spec, shapes, blobs)


def _load(m, name, blobs, want, params, transpose_first: bool = False) -> None:
    if blobs is None:
        raise CaffeFormatError(f"layer {name!r} has weights in the prototxt but is missing from the caffemodel")
    tensors = _expect(name, blobs, want)
    if transpose_first:
        tensors[0] = tensors[0].t()
    with torch.no_grad():
        for param, value in zip(params, tensors, strict=True):
            param.copy_(value)


def convert(net, weights: dict[str, list[np.ndarray]], input_shape=None) -> CaffeNet:
    """Build the module from a parsed prototxt and ``read_caffemodel`` weights, checking they agree."""
    specs = layer_specs(net)
    shapes = _input_shapes(net, specs, input_shape)
    names = [s.name for s in specs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise CaffeFormatError(f"layer name(s) {sorted(dup)} appear more than once in the prototxt")
    extra = sorted(set(weights) - set(names))
    if extra:
        raise CaffeFormatError(
            f"caffemodel layer(s) {extra} have weights but are not in the prototxt; "
            "the prototxt and caffemodel do not belong together (or a layer was renamed)"
        )
    meta = {k: torch.empty(v, device="meta") for k, v in shapes.items()}  # shape inference only
    modules: dict[str, nn.Module] = {}
    body = [s for s in specs if s.type not in DATA_TYPES]
    for s in body:
        if s.type not in SUPPORTED:
            raise _unsupported(s)
        try:
            bottoms = [meta[b] for b in s.bottom]
        except KeyError as e:
            raise CaffeFormatError(f"layer {s.name!r} needs blob {e.args[0]!r}, which no earlier layer produces") from e
        in_shapes = [tuple(b.shape) for b in bottoms]
        try:
            m = _build(s, in_shapes, weights.get(s.name))
            out = _meta_forward(m, bottoms)
        except CaffeFormatError:
            raise
        except ValueError as e:  # a layer module refusing its parameters (e.g. an even LRN local_size)
            raise CaffeFormatError(f"layer {s.name!r} ({s.type}): {e}") from e
        except (RuntimeError, IndexError) as e:  # shapes or an axis that do not fit, found on meta tensors
            raise CaffeFormatError(f"layer {s.name!r} ({s.type}) cannot take input(s) of shape {in_shapes}: {e}") from e
        modules[s.name] = m
        outs = out if isinstance(out, tuple) else (out,) * len(s.top)
        meta.update(zip(s.top, outs, strict=True))
    return CaffeNet(body, modules, shapes).eval()


def _meta_forward(m: nn.Module, bottoms: list[torch.Tensor]):
    """Output shapes without computing: run the module on meta tensors (its weights swapped for meta ones)."""
    fake = {k: torch.empty_like(v, device="meta") for k, v in list(m.named_parameters()) + list(m.named_buffers())}
    with torch.no_grad():
        return torch.func.functional_call(m, fake, tuple(bottoms))


def load_caffe_model(
    prototxt_path: str | os.PathLike, caffemodel_path: str | os.PathLike, input_shape: tuple[int, ...] | None = None
) -> CaffeNet:
    """Read a deploy prototxt and its caffemodel and return the equivalent PyTorch module (in eval mode).

    ``input_shape`` is only needed when the prototxt does not declare its input's shape. Layers of the
    caffemodel without weights (data, loss, accuracy layers of a training net) are ignored; a layer with
    weights that the prototxt lacks, or the reverse, is a ``CaffeFormatError``.
    """
    net = read_prototxt(prototxt_path)
    weights = read_caffemodel(caffemodel_path)
    try:
        return convert(net, weights, input_shape)
    except CaffeFormatError as e:
        raise CaffeFormatError(f"{prototxt_path} + {caffemodel_path}: {e}") from None
