"""Caffe readers (prototxt, caffemodel, mean binaryproto) and the Caffe → PyTorch converter."""

from labkit.caffe.convert import CaffeNet, convert, load_caffe_model
from labkit.caffe.preprocess import CaffeTransform, ten_crop_average
from labkit.caffe.readers import (
    CaffeFormatError,
    parse_prototxt_text,
    read_caffemodel,
    read_mean_binaryproto,
    read_prototxt,
)

__all__ = [
    "CaffeFormatError",
    "CaffeNet",
    "CaffeTransform",
    "convert",
    "load_caffe_model",
    "parse_prototxt_text",
    "read_caffemodel",
    "read_mean_binaryproto",
    "read_prototxt",
    "ten_crop_average",
]
