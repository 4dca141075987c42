"""Our hand-built Caffe schema has the same field numbers and types as real Caffe's caffe_pb2."""

from google.protobuf import descriptor_pb2

from labkit import asset_path
from labkit.caffe import schema


def test_every_field_matches_real_caffe_descriptor():
    real = descriptor_pb2.FileDescriptorProto.FromString(asset_path("caffe/caffe_pb2_descriptor.bin").read_bytes())
    real_msgs = {m.name: {f.name: f for f in m.field} for m in real.message_type}
    ours = schema._file_descriptor()
    checked = 0
    for m in ours.message_type:
        for f in m.field:
            r = real_msgs[m.name][f.name]
            assert (f.number, f.type, f.label) == (r.number, r.type, r.label), f"{m.name}.{f.name}"
            checked += 1
    assert checked > 150
