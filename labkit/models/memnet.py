"""MemNet (Khosla et al., ICCV 2015): CaffeNet trained on LaMem to regress one memorability score.

The released model exists only as Caffe files (``deploy.prototxt``, ``memnet.caffemodel``,
``mean.binaryproto``) from the LaMem site; no weights are bundled here. ``DEPLOY_PROTOTXT`` is the
paper's topology written out (CaffeNet order: pool before LRN; grouped conv2/4/5; top ``fc8-euclidean``),
so the converter can be tested at full size, and ``load_pretrained`` is a thin wrapper over the converter.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from labkit.caffe import CaffeNet, CaffeTransform, load_caffe_model, read_mean_binaryproto, ten_crop_average
from labkit.core.progress import tqdm

INPUT_SIZE = 227
RESIZE = 256


def _conv(name: str, bottom: str, n: int, k: int, stride: int = 1, pad: int = 0, group: int = 1) -> str:
    extra = (f" stride: {stride}" if stride > 1 else "") + (f" pad: {pad}" if pad else "") + (
        f" group: {group}" if group > 1 else "")
    return (f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}"\n'
            f"  convolution_param {{ num_output: {n} kernel_size: {k}{extra} }} }}\n"
            f'layer {{ name: "relu{name[-1]}" type: "ReLU" bottom: "{name}" top: "{name}" }}\n')


def _pool(name: str, bottom: str) -> str:
    return (f'layer {{ name: "{name}" type: "Pooling" bottom: "{bottom}" top: "{name}"\n'
            "  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }\n")


def _lrn(name: str, bottom: str) -> str:
    return (f'layer {{ name: "{name}" type: "LRN" bottom: "{bottom}" top: "{name}"\n'
            "  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }\n")


def _fc(name: str, bottom: str, n: int, relu_drop: bool) -> str:
    s = (f'layer {{ name: "{name}" type: "InnerProduct" bottom: "{bottom}" top: "{name}"\n'
         f"  inner_product_param {{ num_output: {n} }} }}\n")
    if relu_drop:
        i = name[-1]
        s += (f'layer {{ name: "relu{i}" type: "ReLU" bottom: "{name}" top: "{name}" }}\n'
              f'layer {{ name: "drop{i}" type: "Dropout" bottom: "{name}" top: "{name}"\n'
              "  dropout_param { dropout_ratio: 0.5 } }\n")
    return s


DEPLOY_PROTOTXT = (
    'name: "MemNet"\ninput: "data"\ninput_shape { dim: 10 dim: 3 dim: 227 dim: 227 }\n'
    + _conv("conv1", "data", 96, 11, stride=4) + _pool("pool1", "conv1") + _lrn("norm1", "pool1")
    + _conv("conv2", "norm1", 256, 5, pad=2, group=2) + _pool("pool2", "conv2") + _lrn("norm2", "pool2")
    + _conv("conv3", "norm2", 384, 3, pad=1)
    + _conv("conv4", "conv3", 384, 3, pad=1, group=2)
    + _conv("conv5", "conv4", 256, 3, pad=1, group=2) + _pool("pool5", "conv5")
    + _fc("fc6", "pool5", 4096, True) + _fc("fc7", "fc6", 4096, True) + _fc("fc8-euclidean", "fc7", 1, False)
)
# parameter blob shapes the paper's topology implies (what a real memnet.caffemodel must hold)
PARAM_SHAPES = {
    "conv1": [(96, 3, 11, 11), (96,)], "conv2": [(256, 48, 5, 5), (256,)], "conv3": [(384, 256, 3, 3), (384,)],
    "conv4": [(384, 192, 3, 3), (384,)], "conv5": [(256, 192, 3, 3), (256,)], "fc6": [(4096, 9216), (4096,)],
    "fc7": [(4096, 4096), (4096,)], "fc8-euclidean": [(1, 4096), (1,)],
}


def write_deploy_prototxt(path: str | os.PathLike) -> Path:
    """Write the paper-topology deploy prototxt (for a caffemodel whose own prototxt is lost)."""
    Path(path).write_text(DEPLOY_PROTOTXT)
    return Path(path)


def load_pretrained(caffemodel: str | os.PathLike, prototxt: str | os.PathLike | None = None,
                    mean: str | os.PathLike | None = None, ten_crop: bool = False) -> tuple[CaffeNet, CaffeTransform]:
    """The released MemNet as a PyTorch module plus its exact preprocessing.

    ``prototxt`` defaults to the paper topology above; ``mean`` is the release's ``mean.binaryproto``
    (without it, ImageNet's BGR per-channel mean (104, 117, 123) is used and that is an approximation).
    """
    if prototxt is None:
        import tempfile

        prototxt = write_deploy_prototxt(Path(tempfile.mkdtemp()) / "memnet_deploy.prototxt")
    model = load_caffe_model(prototxt, caffemodel)
    mean_arr = read_mean_binaryproto(mean) if mean is not None else [104.0, 117.0, 123.0]
    return model, CaffeTransform(mean=mean_arr, resize=RESIZE, crop=INPUT_SIZE, ten_crop=ten_crop)


def predict_scores(model: torch.nn.Module, dataset, batch_size: int = 16, desc: str = "predict",
                   per_crop: bool = False) -> np.ndarray:
    """One score per image of ``dataset`` (items ``(blob, score)``); 10-crop blobs ``(10, 3, H, W)`` are averaged.

    ``per_crop=True`` keeps the ten scores apart, ``(N, 10)`` in ``CaffeTransform.crops`` order (four corners,
    centre, then the same five mirrored), so the spread of each view can be measured — averaging does not explain
    by itself why the 10-crop spread is wider than the centre crop's."""
    out = []
    with torch.inference_mode():
        for start in tqdm(range(0, len(dataset), batch_size), desc=desc, leave=False):
            x = torch.stack([dataset[i][0] for i in range(start, min(start + batch_size, len(dataset)))])
            if per_crop and x.ndim != 5:
                raise ValueError("per_crop=True needs a 10-crop dataset (CaffeTransform(ten_crop=True))")
            if x.ndim == 5 and per_crop:
                y = model(x.flatten(0, 1)).reshape(len(x), x.shape[1])  # (B, 10)
            else:
                y = (ten_crop_average(model, x) if x.ndim == 5 else model(x)).reshape(len(x), -1)[:, :1]
            out.append(y.numpy())
    scores = np.concatenate(out)
    return scores if per_crop else scores[:, 0]
