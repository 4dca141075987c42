"""The vectorised Caffe layers against direct loop transcriptions of Caffe's CPU algorithms."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labkit.caffe.layers import CaffeLRN, CaffePool2d, caffe_pool_out


def caffe_pool_loop(x: np.ndarray, method: str, k: int, s: int, p: int) -> np.ndarray:
    """pooling_layer.cpp Forward_cpu, written out with loops."""
    n, c, h, w = x.shape
    oh, ow = caffe_pool_out(h, k, s, p), caffe_pool_out(w, k, s, p)
    out = np.zeros((n, c, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s - p, j * s - p
            he, we = min(hs + k, h + p), min(ws + k, w + p)
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[:, :, hs:he, ws:we]
            out[:, :, i, j] = win.max((2, 3)) if method == "MAX" else win.sum((2, 3)) / size
    return out


@settings(max_examples=60, deadline=None)
@given(h=st.integers(3, 12), w=st.integers(3, 12), k=st.integers(2, 4), s=st.integers(1, 3),
       p=st.integers(0, 3), method=st.sampled_from(["MAX", "AVE"]), seed=st.integers(0, 1000))
def test_pooling_matches_caffe_loop(h, w, k, s, p, method, seed):
    k = min(k, h, w)
    p = min(p, k - 1)  # Caffe requires pad < kernel
    assume(all((caffe_pool_out(n, k, s, p) - 1) * s - p < n for n in (h, w)))  # else an empty window: refused
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    ours = CaffePool2d(method, (k, k), (s, s), (p, p))(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, caffe_pool_loop(x, method, k, s, p), rtol=1e-12, atol=1e-12)


def test_pool_output_size_hand_cases():
    assert caffe_pool_out(8, 3, 2, 0) == 4  # ceil creates the extra window
    assert caffe_pool_out(5, 2, 2, 1) == 3  # ceil gives 4, the last window would start in the padding
    assert caffe_pool_out(55, 3, 2, 0) == 27  # MemNet pool1: ceil and floor agree here
    assert caffe_pool_out(8, 3, 2, 0, ceil=False) == 3


def lrn_loop(x: np.ndarray, n: int, alpha: float, beta: float, k: float) -> np.ndarray:
    """lrn_layer.cpp CrossChannelForward_cpu: scale = k + alpha/n * sum of squares over a centred window."""
    c = x.shape[1]
    half = (n - 1) // 2
    out = np.empty_like(x)
    for ch in range(c):
        lo, hi = max(ch - half, 0), min(ch + half + 1, c)
        scale = k + alpha / n * (x[:, lo:hi] ** 2).sum(1)
        out[:, ch] = x[:, ch] * scale ** -beta
    return out


@pytest.mark.parametrize("n,alpha,beta,k", [(5, 1e-4, 0.75, 1.0), (3, 0.9, 0.5, 2.0), (7, 2.0, 0.75, 1.0)])
def test_lrn_across_channels_matches_caffe_loop(n, alpha, beta, k):
    x = np.random.default_rng(n).standard_normal((2, 9, 4, 3)) * 3
    ours = CaffeLRN(n, alpha, beta, k, "ACROSS_CHANNELS")(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, lrn_loop(x, n, alpha, beta, k), rtol=1e-12)


def test_lrn_rejects_even_size():
    with pytest.raises(ValueError, match="odd"):
        CaffeLRN(4, 1e-4, 0.75, 1, "ACROSS_CHANNELS")
