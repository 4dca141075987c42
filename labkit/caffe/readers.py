"""Readers for Caffe's three file formats: ``.prototxt`` (text), ``.caffemodel`` and ``.binaryproto`` (binary).

Why careful errors: a caffemodel is an opaque blob of bytes; a truncated download or a wrong file would
otherwise surface much later as a silently wrong network. Every problem here is a ``CaffeFormatError``
naming the file (and the line or layer) so that the fix is obvious.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from google.protobuf import text_format
from google.protobuf.message import DecodeError

from labkit.caffe import schema
from labkit.core.errors import CaffeError


class CaffeFormatError(CaffeError):
    """A Caffe file (prototxt, caffemodel, binaryproto) is malformed or disagrees with another one."""


class CaffeFileNotFoundError(CaffeError, FileNotFoundError):
    """A Caffe file (prototxt, caffemodel, binaryproto) is not where it was said to be."""


def _read_bytes(path: str | os.PathLike) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise CaffeFileNotFoundError(f"Caffe file {p} does not exist")
    return p.read_bytes()


def _looks_like(raw: bytes) -> str:
    """What a Caffe file that is not of the kind expected seems to be, for the error message ('' if unsure).

    Why: the three formats are easy to swap (a mean file passed as weights, a caffemodel as the mean), and the
    binary two are both protobuf, so the reader of the wrong kind fails with a puzzling complaint about
    shapes or missing layers. Saying "this looks like a mean file" names the real mistake.
    """
    if b"\x00" not in raw[:4096]:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        if text and ("layer" in text or "input" in text):
            return "a text prototxt (a net definition)"
    net = schema.NetParameter()
    try:
        net.ParseFromString(raw)
        layers = [layer.name for layer in list(net.layer) + list(net.layers)]
        if layers and all(layers):
            shown = ", ".join(repr(n) for n in layers[:3]) + (", ..." if len(layers) > 3 else "")
            return f"a caffemodel (a net with {len(layers)} layer(s): {shown})"
    except DecodeError:
        pass
    blob = schema.BlobProto()
    try:
        blob.ParseFromString(raw)
    except DecodeError:
        return ""
    if len(blob.data) or len(blob.double_data):
        shape = tuple(blob.shape.dim) if blob.HasField("shape") else (blob.num, blob.channels, blob.height, blob.width)
        return f"a mean file (.binaryproto: one blob of shape {tuple(int(d) for d in shape)})"
    return ""


def read_prototxt(path: str | os.PathLike):
    """Parse a text-format net definition into a ``caffe.NetParameter`` message.

    Unknown fields are an error (not skipped): a field we do not model could change what the net computes.
    """
    raw = _read_bytes(path)
    if b"\x00" in raw:  # text never holds NUL; both binary formats almost always do
        kind = _looks_like(raw)
        raise CaffeFormatError(f"{path}: a prototxt is text, but this file is binary"
                               + (f"; it looks like {kind}" if kind else "")
                               + " — pass the deploy .prototxt here")
    return parse_prototxt_text(raw.decode("utf-8", errors="replace"), str(path))


def parse_prototxt_text(text: str, where: str = "<string>"):
    """Like :func:`read_prototxt` for a string; ``where`` names the source in error messages."""
    net = schema.NetParameter()
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as e:
        hint = " — sizes, pads and strides are unsigned in caffe.proto: give 0 or more" if "out of range" in str(e) else ""
        raise CaffeFormatError(f"{where}: prototxt syntax error at {e} (line:column){hint}") from e
    if not net.layer and not net.layers:
        raise CaffeFormatError(f"{where}: prototxt defines no layers (is this a Caffe net definition?)")
    return net


def blob_to_array(blob, where: str) -> np.ndarray:
    """One ``BlobProto`` as a float32 array of its stored shape (legacy num/channels/height/width included)."""
    if blob.HasField("shape"):
        shape = tuple(int(d) for d in blob.shape.dim)
    else:
        shape = (blob.num, blob.channels, blob.height, blob.width)
    if len(blob.data):
        data = np.array(blob.data, dtype=np.float32)
    else:
        data = np.array(blob.double_data, dtype=np.float64).astype(np.float32)
    n = math.prod(shape)  # exact (no int64 overflow); an empty shape is a scalar: 1 value, as in Caffe
    if data.size != n:
        raise CaffeFormatError(
            f"{where}: blob holds {data.size} values but declares shape {shape} ({n} values); "
            "the file is truncated or corrupt"
        )
    # one float64 sum instead of a boolean mask as large as the blob: it is finite exactly when every value
    # is (float64 cannot overflow on float32 inputs, and NaN and ±inf propagate)
    if not np.isfinite(data.sum(dtype=np.float64)):
        bad = int((~np.isfinite(data)).sum())
        raise CaffeFormatError(
            f"{where}: {bad} of {data.size} values are NaN or inf, which would turn every output into NaN — "
            "re-download or re-export the file (weights with NaN come from a training run that diverged: "
            "use an earlier snapshot)"
        )
    return data.reshape(shape)


def read_caffemodel_net(path: str | os.PathLike):
    """The raw ``NetParameter`` of a binary caffemodel (layers with their blobs), validated."""
    raw = _read_bytes(path)
    net = schema.NetParameter()
    try:
        net.ParseFromString(raw)
    except DecodeError as e:
        raise CaffeFormatError(
            f"{path}: not a valid caffemodel ({e}); the file is truncated or is not a binary Caffe NetParameter"
            + _kind_hint(raw, "the caffemodel (weights)")
        ) from e
    layers = list(net.layer) or list(net.layers)
    if not layers or not all(layer.name for layer in layers):
        raise CaffeFormatError(
            f"{path}: no named layers found; this is not a caffemodel (or it is truncated before its first layer)"
            + _kind_hint(raw, "the caffemodel (weights)")
        )
    return net


def _kind_hint(raw: bytes, wanted: str) -> str:
    """``"; it looks like a mean file (...) — pass <wanted> here"``, or '' when the file's kind is unclear."""
    kind = _looks_like(raw)
    return f"; it looks like {kind} — pass {wanted} here" if kind else ""


def read_caffemodel(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Layer name → its blobs (weights, bias, ...) as float32 arrays, for both ``layer`` and V1 ``layers``.

    Layers without blobs (ReLU, data, loss) are left out. A 230 MB file loads in about a second: the
    protobuf upb backend parses it and ``np.array`` copies each packed float field in one go.
    """
    net = read_caffemodel_net(path)
    out: dict[str, list[np.ndarray]] = {}
    for layer in list(net.layer) + list(net.layers):
        if not len(layer.blobs):
            continue
        if layer.name in out:
            raise CaffeFormatError(f"{path}: layer {layer.name!r} appears twice with weights")
        out[layer.name] = [blob_to_array(b, f"{path}: layer {layer.name!r} blob {i}") for i, b in enumerate(layer.blobs)]
    return out


def read_mean_binaryproto(path: str | os.PathLike) -> np.ndarray:
    """Caffe's mean image, ``(C, H, W)`` float32 in BGR order and 0–255 scale, as the data layer subtracts it."""
    raw = _read_bytes(path)
    blob = schema.BlobProto()
    try:
        blob.ParseFromString(raw)
    except DecodeError as e:
        raise CaffeFormatError(f"{path}: not a valid mean .binaryproto ({e})" + _kind_hint(raw, "the mean file")) from e
    if not (len(blob.data) or len(blob.double_data)):  # a caffemodel or prototxt parses as an empty blob
        hint = _kind_hint(raw, "the mean .binaryproto")
        if hint:
            raise CaffeFormatError(f"{path}: not a mean file (it holds no blob values){hint}")
    arr = blob_to_array(blob, str(path))
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 3 or arr.size == 0:
        raise CaffeFormatError(f"{path}: a mean blob must be (1, C, H, W) or (C, H, W), got shape {arr.shape}")
    return arr
