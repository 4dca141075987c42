"""Write caffemodels and mean files with our own schema (for tests, random-weight nets and fixtures).

Why hand-encode the float payload: filling a repeated protobuf field from 60 M numpy floats takes
minutes, while the wire format of a packed float field is just ``tag, length, raw little-endian bytes``.
Concatenated protobuf encodings merge, so a message = its small fields + the packed payload appended.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from labkit.caffe import schema


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_blob(arr: np.ndarray, legacy_4d: bool = False) -> bytes:
    """A ``BlobProto``: shape (or legacy num/channels/height/width) + packed float32 data (field 5)."""
    arr = np.ascontiguousarray(arr, dtype="<f4")
    blob = schema.BlobProto()
    if legacy_4d:
        dims = (1,) * (4 - arr.ndim) + arr.shape
        blob.num, blob.channels, blob.height, blob.width = (int(d) for d in dims)
    else:
        blob.shape.dim.extend(int(d) for d in arr.shape)
    return blob.SerializeToString() + _field(5, arr.tobytes())


def encode_net(
    layers: Sequence[tuple[str, str, Sequence[np.ndarray]]], name: str = "net", v1: bool = False, legacy_4d: bool = False
) -> bytes:
    """A binary ``NetParameter`` from ``(layer name, type, blobs)``; ``v1`` writes the legacy ``layers`` field."""
    out = schema.NetParameter(name=name).SerializeToString()
    for lname, ltype, blobs in layers:
        if v1:
            msg = schema.V1LayerParameter(name=lname)
            v1_number = {v: k for k, v in schema.V1_TYPE_NAMES.items()}
            type_enum = {v: k for k, v in schema.V1_TO_TYPE.items()}[ltype]
            msg.type = v1_number[type_enum]
            body = msg.SerializeToString() + b"".join(_field(6, encode_blob(b, legacy_4d)) for b in blobs)
            out += _field(2, body)
        else:
            msg = schema.LayerParameter(name=lname, type=ltype)
            body = msg.SerializeToString() + b"".join(_field(7, encode_blob(b, legacy_4d)) for b in blobs)
            out += _field(100, body)
    return out


def write_caffemodel(
    path: str | os.PathLike, weights: Mapping[str, Sequence[np.ndarray]], types: Mapping[str, str] | None = None, **kw
) -> None:
    """Write ``{layer: [blobs]}`` as a caffemodel (types default to "Convolution"; only names and blobs matter
    to the converter, which takes types from the prototxt)."""
    types = types or {}
    layers = [(n, types.get(n, "Convolution"), list(b)) for n, b in weights.items()]
    with open(path, "wb") as f:
        f.write(encode_net(layers, **kw))


def write_mean_binaryproto(path: str | os.PathLike, mean: np.ndarray) -> None:
    """A ``(C, H, W)`` mean image as Caffe stores it: a (1, C, H, W) BlobProto."""
    with open(path, "wb") as f:
        f.write(encode_blob(np.asarray(mean)[None]))
