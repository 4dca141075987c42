"""The subset of Caffe's public protobuf schema (``caffe.proto``) this course reads, built in Python.

Why build descriptors by hand: Caffe is defunct and we must not vendor its code, but its file formats
are plain protobuf. Describing the messages here (same package ``caffe``, same field numbers) lets the
``protobuf`` library parse ``.prototxt`` (text format) and ``.caffemodel`` (binary) without ``protoc``.
Field numbers follow BVLC ``caffe.proto``; ``tests/test_caffe_schema.py`` checks them against the
``caffe_pb2`` of real Caffe when the golden-file generator dumped its descriptor.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto
_TYPES = {
    "string": F.TYPE_STRING,
    "bool": F.TYPE_BOOL,
    "float": F.TYPE_FLOAT,
    "double": F.TYPE_DOUBLE,
    "int32": F.TYPE_INT32,
    "int64": F.TYPE_INT64,
    "uint32": F.TYPE_UINT32,
    "bytes": F.TYPE_BYTES,
}

# message name -> [(field name, number, type, label, default or None, packed)]
# type: a scalar name above, "M:Message" for a message, "E:Enum" for an enum; label "o" optional, "r" repeated.
_ENGINE = [("DEFAULT", 0), ("CAFFE", 1), ("CUDNN", 2)]
# enum name ("Owner.Enum" when nested in a message, as in caffe.proto) -> values
_ENUMS: dict[str, list[tuple[str, int]]] = {
    "Phase": [("TRAIN", 0), ("TEST", 1)],
    "ParamSpec.DimCheckMode": [("STRICT", 0), ("PERMISSIVE", 1)],
    "FillerParameter.VarianceNorm": [("FAN_IN", 0), ("FAN_OUT", 1), ("AVERAGE", 2)],
    "ConvolutionParameter.Engine": _ENGINE,
    "LRNParameter.Engine": _ENGINE,
    "PoolingParameter.Engine": _ENGINE,
    "ReLUParameter.Engine": _ENGINE,
    "SoftmaxParameter.Engine": _ENGINE,
    "DataParameter.DB": [("LEVELDB", 0), ("LMDB", 1)],
    "EltwiseParameter.EltwiseOp": [("PROD", 0), ("SUM", 1), ("MAX", 2)],
    "LRNParameter.NormRegion": [("ACROSS_CHANNELS", 0), ("WITHIN_CHANNEL", 1)],
    "PoolingParameter.PoolMethod": [("MAX", 0), ("AVE", 1), ("STOCHASTIC", 2)],
    "PoolingParameter.RoundMode": [("CEIL", 0), ("FLOOR", 1)],
    "LossParameter.NormalizationMode": [("FULL", 0), ("VALID", 1), ("BATCH_SIZE", 2), ("NONE", 3)],
    "V1LayerParameter.LayerType": [
        ("NONE", 0), ("ABSVAL", 35), ("ACCURACY", 1), ("ARGMAX", 30), ("BNLL", 2), ("CONCAT", 3),
        ("CONTRASTIVE_LOSS", 37), ("CONVOLUTION", 4), ("DATA", 5), ("DECONVOLUTION", 39), ("DROPOUT", 6),
        ("DUMMY_DATA", 32), ("EUCLIDEAN_LOSS", 7), ("ELTWISE", 25), ("EXP", 38), ("FLATTEN", 8),
        ("HDF5_DATA", 9), ("HDF5_OUTPUT", 10), ("HINGE_LOSS", 28), ("IM2COL", 11), ("IMAGE_DATA", 12),
        ("INFOGAIN_LOSS", 13), ("INNER_PRODUCT", 14), ("LRN", 15), ("MEMORY_DATA", 29),
        ("MULTINOMIAL_LOGISTIC_LOSS", 16), ("MVN", 34), ("POOLING", 17), ("POWER", 26), ("RELU", 18),
        ("SIGMOID", 19), ("SIGMOID_CROSS_ENTROPY_LOSS", 27), ("SILENCE", 36), ("SOFTMAX", 20),
        ("SOFTMAX_LOSS", 21), ("SPLIT", 22), ("SLICE", 33), ("TANH", 23), ("WINDOW_DATA", 24),
        ("THRESHOLD", 31),
    ],
}

_MESSAGES: dict[str, list[tuple]] = {
    "BlobShape": [("dim", 1, "int64", "r", None, True)],
    "BlobProto": [
        ("shape", 7, "M:BlobShape", "o", None, False),
        ("data", 5, "float", "r", None, True),
        ("diff", 6, "float", "r", None, True),
        ("double_data", 8, "double", "r", None, True),
        ("double_diff", 9, "double", "r", None, True),
        ("num", 1, "int32", "o", "0", False),
        ("channels", 2, "int32", "o", "0", False),
        ("height", 3, "int32", "o", "0", False),
        ("width", 4, "int32", "o", "0", False),
    ],
    "BlobProtoVector": [("blobs", 1, "M:BlobProto", "r", None, False)],
    "FillerParameter": [
        ("type", 1, "string", "o", "constant", False),
        ("value", 2, "float", "o", "0", False),
        ("min", 3, "float", "o", "0", False),
        ("max", 4, "float", "o", "1", False),
        ("mean", 5, "float", "o", "0", False),
        ("std", 6, "float", "o", "1", False),
        ("sparse", 7, "int32", "o", "-1", False),
        ("variance_norm", 8, "E:FillerParameter.VarianceNorm", "o", "FAN_IN", False),
    ],
    "NetParameter": [
        ("name", 1, "string", "o", None, False),
        ("input", 3, "string", "r", None, False),
        ("input_shape", 8, "M:BlobShape", "r", None, False),
        ("input_dim", 4, "int32", "r", None, False),
        ("force_backward", 5, "bool", "o", "false", False),
        ("state", 6, "M:NetState", "o", None, False),
        ("debug_info", 7, "bool", "o", "false", False),
        ("layer", 100, "M:LayerParameter", "r", None, False),
        ("layers", 2, "M:V1LayerParameter", "r", None, False),
    ],
    "NetState": [
        ("phase", 1, "E:Phase", "o", "TEST", False),
        ("level", 2, "int32", "o", "0", False),
        ("stage", 3, "string", "r", None, False),
    ],
    "NetStateRule": [
        ("phase", 1, "E:Phase", "o", None, False),
        ("min_level", 2, "int32", "o", None, False),
        ("max_level", 3, "int32", "o", None, False),
        ("stage", 4, "string", "r", None, False),
        ("not_stage", 5, "string", "r", None, False),
    ],
    "ParamSpec": [
        ("name", 1, "string", "o", None, False),
        ("share_mode", 2, "E:ParamSpec.DimCheckMode", "o", None, False),
        ("lr_mult", 3, "float", "o", "1", False),
        ("decay_mult", 4, "float", "o", "1", False),
    ],
    "LayerParameter": [
        ("name", 1, "string", "o", None, False),
        ("type", 2, "string", "o", None, False),
        ("bottom", 3, "string", "r", None, False),
        ("top", 4, "string", "r", None, False),
        ("phase", 10, "E:Phase", "o", None, False),
        ("loss_weight", 5, "float", "r", None, False),
        ("param", 6, "M:ParamSpec", "r", None, False),
        ("blobs", 7, "M:BlobProto", "r", None, False),
        ("propagate_down", 11, "bool", "r", None, False),
        ("include", 8, "M:NetStateRule", "r", None, False),
        ("exclude", 9, "M:NetStateRule", "r", None, False),
        ("transform_param", 100, "M:TransformationParameter", "o", None, False),
        ("loss_param", 101, "M:LossParameter", "o", None, False),
        ("accuracy_param", 102, "M:AccuracyParameter", "o", None, False),
        ("concat_param", 104, "M:ConcatParameter", "o", None, False),
        ("convolution_param", 106, "M:ConvolutionParameter", "o", None, False),
        ("data_param", 107, "M:DataParameter", "o", None, False),
        ("dropout_param", 108, "M:DropoutParameter", "o", None, False),
        ("eltwise_param", 110, "M:EltwiseParameter", "o", None, False),
        ("flatten_param", 135, "M:FlattenParameter", "o", None, False),
        ("hdf5_data_param", 112, "M:HDF5DataParameter", "o", None, False),
        ("inner_product_param", 117, "M:InnerProductParameter", "o", None, False),
        ("input_param", 143, "M:InputParameter", "o", None, False),
        ("lrn_param", 118, "M:LRNParameter", "o", None, False),
        ("memory_data_param", 119, "M:MemoryDataParameter", "o", None, False),
        ("pooling_param", 121, "M:PoolingParameter", "o", None, False),
        ("relu_param", 123, "M:ReLUParameter", "o", None, False),
        ("softmax_param", 125, "M:SoftmaxParameter", "o", None, False),
    ],
    "V1LayerParameter": [
        ("bottom", 2, "string", "r", None, False),
        ("top", 3, "string", "r", None, False),
        ("name", 4, "string", "o", None, False),
        ("include", 32, "M:NetStateRule", "r", None, False),
        ("exclude", 33, "M:NetStateRule", "r", None, False),
        ("type", 5, "E:V1LayerParameter.LayerType", "o", None, False),
        ("blobs", 6, "M:BlobProto", "r", None, False),
        ("param", 1001, "string", "r", None, False),
        ("blobs_lr", 7, "float", "r", None, False),
        ("weight_decay", 8, "float", "r", None, False),
        ("loss_weight", 35, "float", "r", None, False),
        ("accuracy_param", 27, "M:AccuracyParameter", "o", None, False),
        ("concat_param", 9, "M:ConcatParameter", "o", None, False),
        ("convolution_param", 10, "M:ConvolutionParameter", "o", None, False),
        ("data_param", 11, "M:DataParameter", "o", None, False),
        ("dropout_param", 12, "M:DropoutParameter", "o", None, False),
        ("eltwise_param", 24, "M:EltwiseParameter", "o", None, False),
        ("hdf5_data_param", 13, "M:HDF5DataParameter", "o", None, False),
        ("inner_product_param", 17, "M:InnerProductParameter", "o", None, False),
        ("lrn_param", 18, "M:LRNParameter", "o", None, False),
        ("memory_data_param", 22, "M:MemoryDataParameter", "o", None, False),
        ("pooling_param", 19, "M:PoolingParameter", "o", None, False),
        ("relu_param", 30, "M:ReLUParameter", "o", None, False),
        ("softmax_param", 39, "M:SoftmaxParameter", "o", None, False),
        ("transform_param", 36, "M:TransformationParameter", "o", None, False),
        ("loss_param", 42, "M:LossParameter", "o", None, False),
    ],
    "TransformationParameter": [
        ("scale", 1, "float", "o", "1", False),
        ("mirror", 2, "bool", "o", "false", False),
        ("crop_size", 3, "uint32", "o", "0", False),
        ("mean_file", 4, "string", "o", None, False),
        ("mean_value", 5, "float", "r", None, False),
        ("force_color", 6, "bool", "o", "false", False),
        ("force_gray", 7, "bool", "o", "false", False),
    ],
    "LossParameter": [
        ("ignore_label", 1, "int32", "o", None, False),
        ("normalization", 3, "E:LossParameter.NormalizationMode", "o", "VALID", False),
        ("normalize", 2, "bool", "o", None, False),
    ],
    "AccuracyParameter": [
        ("top_k", 1, "uint32", "o", "1", False),
        ("axis", 2, "int32", "o", "1", False),
        ("ignore_label", 3, "int32", "o", None, False),
    ],
    "ConcatParameter": [
        ("axis", 2, "int32", "o", "1", False),
        ("concat_dim", 1, "uint32", "o", "1", False),
    ],
    "ConvolutionParameter": [
        ("num_output", 1, "uint32", "o", None, False),
        ("bias_term", 2, "bool", "o", "true", False),
        ("pad", 3, "uint32", "r", None, False),
        ("kernel_size", 4, "uint32", "r", None, False),
        ("stride", 6, "uint32", "r", None, False),
        ("dilation", 18, "uint32", "r", None, False),
        ("pad_h", 9, "uint32", "o", "0", False),
        ("pad_w", 10, "uint32", "o", "0", False),
        ("kernel_h", 11, "uint32", "o", None, False),
        ("kernel_w", 12, "uint32", "o", None, False),
        ("stride_h", 13, "uint32", "o", None, False),
        ("stride_w", 14, "uint32", "o", None, False),
        ("group", 5, "uint32", "o", "1", False),
        ("weight_filler", 7, "M:FillerParameter", "o", None, False),
        ("bias_filler", 8, "M:FillerParameter", "o", None, False),
        ("engine", 15, "E:ConvolutionParameter.Engine", "o", "DEFAULT", False),
        ("axis", 16, "int32", "o", "1", False),
        ("force_nd_im2col", 17, "bool", "o", "false", False),
    ],
    "DataParameter": [
        ("source", 1, "string", "o", None, False),
        ("batch_size", 4, "uint32", "o", None, False),
        ("rand_skip", 7, "uint32", "o", "0", False),
        ("backend", 8, "E:DataParameter.DB", "o", "LEVELDB", False),
        ("scale", 2, "float", "o", "1", False),
        ("mean_file", 3, "string", "o", None, False),
        ("crop_size", 5, "uint32", "o", "0", False),
        ("mirror", 6, "bool", "o", "false", False),
        ("force_encoded_color", 9, "bool", "o", "false", False),
        ("prefetch", 10, "uint32", "o", "4", False),
    ],
    "DropoutParameter": [("dropout_ratio", 1, "float", "o", "0.5", False)],
    "EltwiseParameter": [
        ("operation", 1, "E:EltwiseParameter.EltwiseOp", "o", "SUM", False),
        ("coeff", 2, "float", "r", None, False),
        ("stable_prod_grad", 3, "bool", "o", "true", False),
    ],
    "FlattenParameter": [
        ("axis", 1, "int32", "o", "1", False),
        ("end_axis", 2, "int32", "o", "-1", False),
    ],
    "HDF5DataParameter": [
        ("source", 1, "string", "o", None, False),
        ("batch_size", 2, "uint32", "o", None, False),
        ("shuffle", 3, "bool", "o", "false", False),
    ],
    "InnerProductParameter": [
        ("num_output", 1, "uint32", "o", None, False),
        ("bias_term", 2, "bool", "o", "true", False),
        ("weight_filler", 3, "M:FillerParameter", "o", None, False),
        ("bias_filler", 4, "M:FillerParameter", "o", None, False),
        ("axis", 5, "int32", "o", "1", False),
        ("transpose", 6, "bool", "o", "false", False),
    ],
    "InputParameter": [("shape", 1, "M:BlobShape", "r", None, False)],
    "LRNParameter": [
        ("local_size", 1, "uint32", "o", "5", False),
        ("alpha", 2, "float", "o", "1", False),
        ("beta", 3, "float", "o", "0.75", False),
        ("norm_region", 4, "E:LRNParameter.NormRegion", "o", "ACROSS_CHANNELS", False),
        ("k", 5, "float", "o", "1", False),
        ("engine", 6, "E:LRNParameter.Engine", "o", "DEFAULT", False),
    ],
    "MemoryDataParameter": [
        ("batch_size", 1, "uint32", "o", None, False),
        ("channels", 2, "uint32", "o", None, False),
        ("height", 3, "uint32", "o", None, False),
        ("width", 4, "uint32", "o", None, False),
    ],
    "PoolingParameter": [
        ("pool", 1, "E:PoolingParameter.PoolMethod", "o", "MAX", False),
        ("pad", 4, "uint32", "o", "0", False),
        ("pad_h", 9, "uint32", "o", "0", False),
        ("pad_w", 10, "uint32", "o", "0", False),
        ("kernel_size", 2, "uint32", "o", None, False),
        ("kernel_h", 5, "uint32", "o", None, False),
        ("kernel_w", 6, "uint32", "o", None, False),
        ("stride", 3, "uint32", "o", "1", False),
        ("stride_h", 7, "uint32", "o", None, False),
        ("stride_w", 8, "uint32", "o", None, False),
        ("engine", 11, "E:PoolingParameter.Engine", "o", "DEFAULT", False),
        ("global_pooling", 12, "bool", "o", "false", False),
        ("round_mode", 13, "E:PoolingParameter.RoundMode", "o", "CEIL", False),
    ],
    "ReLUParameter": [
        ("negative_slope", 1, "float", "o", "0", False),
        ("engine", 2, "E:ReLUParameter.Engine", "o", "DEFAULT", False),
    ],
    "SoftmaxParameter": [
        ("engine", 1, "E:SoftmaxParameter.Engine", "o", "DEFAULT", False),
        ("axis", 2, "int32", "o", "1", False),
    ],
}


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    fd = descriptor_pb2.FileDescriptorProto(name="labkit_caffe_subset.proto", package="caffe", syntax="proto2")
    messages = {name: fd.message_type.add(name=name) for name in _MESSAGES}
    for name, values in _ENUMS.items():
        owner, _, short = name.rpartition(".")
        e = (messages[owner].enum_type if owner else fd.enum_type).add(name=short)
        for vname, number in values:
            e.value.add(name=vname, number=number)
    for name, fields in _MESSAGES.items():
        m = messages[name]
        for fname, number, ftype, label, default, packed in fields:
            f = m.field.add(name=fname, number=number)
            f.label = F.LABEL_REPEATED if label == "r" else F.LABEL_OPTIONAL
            if ftype.startswith("M:"):
                f.type, f.type_name = F.TYPE_MESSAGE, ".caffe." + ftype[2:]
            elif ftype.startswith("E:"):
                f.type, f.type_name = F.TYPE_ENUM, ".caffe." + ftype[2:]
            else:
                f.type = _TYPES[ftype]
            if default is not None:
                f.default_value = default
            if packed:
                f.options.packed = True
    return fd


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file_descriptor())


def message_class(name: str):
    """The generated message class ``caffe.<name>`` (e.g. ``message_class("NetParameter")``)."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName("caffe." + name))


NetParameter = message_class("NetParameter")
LayerParameter = message_class("LayerParameter")
V1LayerParameter = message_class("V1LayerParameter")
BlobProto = message_class("BlobProto")
BlobShape = message_class("BlobShape")
V1_TYPE_NAMES = {number: name for name, number in _ENUMS["V1LayerParameter.LayerType"]}
# V1 enum name -> the modern string type of the same layer
V1_TO_TYPE = {
    "CONVOLUTION": "Convolution", "RELU": "ReLU", "LRN": "LRN", "POOLING": "Pooling",
    "INNER_PRODUCT": "InnerProduct", "DROPOUT": "Dropout", "SOFTMAX": "Softmax", "CONCAT": "Concat",
    "ELTWISE": "Eltwise", "FLATTEN": "Flatten", "DATA": "Data", "MEMORY_DATA": "MemoryData",
    "HDF5_DATA": "HDF5Data", "ACCURACY": "Accuracy", "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "EUCLIDEAN_LOSS": "EuclideanLoss", "SPLIT": "Split", "SIGMOID": "Sigmoid", "TANH": "TanH",
    "SILENCE": "Silence", "IMAGE_DATA": "ImageData", "WINDOW_DATA": "WindowData", "DUMMY_DATA": "DummyData",
}
