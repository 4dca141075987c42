"""The vectorised Caffe layers against direct loop transcriptions of Caffe's CPU algorithms."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labkit.caffe import load_caffe_model
from labkit.caffe.layers import CaffeLRN, CaffePool2d, caffe_pool_out, caffe_pool_shape, lrn_across_channels
from labkit.caffe.writer import write_caffemodel


def caffe_pool_shape_loop(h: int, w: int, k, s, p) -> tuple[int, int]:
    """pooling_layer.cpp Reshape, written out: ceil sizes, then the last-window clip on *both* axes as soon
    as either axis pads (``if (pad_h_ || pad_w_)``). k, s, p are (h, w) pairs."""
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    oh, ow = -(-(h + 2 * ph - kh) // sh) + 1, -(-(w + 2 * pw - kw) // sw) + 1
    if ph or pw:
        if (oh - 1) * sh >= h + ph:
            oh -= 1
        if (ow - 1) * sw >= w + pw:
            ow -= 1
    return oh, ow


def caffe_pool_loop(x: np.ndarray, method: str, k, s, p) -> np.ndarray:
    """pooling_layer.cpp Forward_cpu, written out with loops; k, s, p are (h, w) pairs."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    oh, ow = caffe_pool_shape_loop(h, w, k, s, p)
    out = np.zeros((n, c, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * sh - ph, j * sw - pw
            he, we = min(hs + kh, h + ph), min(ws + kw, w + pw)
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[:, :, hs:he, ws:we]
            out[:, :, i, j] = win.max((2, 3)) if method == "MAX" else win.sum((2, 3)) / size
    return out


def _no_empty_window(h: int, w: int, k, s, p) -> bool:
    """Every window starts inside the input (else Caffe reads nothing there, and the converter refuses)."""
    out = caffe_pool_shape_loop(h, w, k, s, p)
    return all((n_out - 1) * ss - pp < n for n, n_out, ss, pp in zip((h, w), out, s, p, strict=True))


@settings(max_examples=60, deadline=None)
@given(h=st.integers(3, 12), w=st.integers(3, 12), k=st.integers(2, 4), s=st.integers(1, 3),
       p=st.integers(0, 3), method=st.sampled_from(["MAX", "AVE"]), seed=st.integers(0, 1000))
def test_pooling_matches_caffe_loop(h, w, k, s, p, method, seed):
    k = min(k, h, w)
    p = min(p, k - 1)  # Caffe requires pad < kernel
    assume(_no_empty_window(h, w, (k, k), (s, s), (p, p)))  # else an empty window: refused
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    ours = CaffePool2d(method, (k, k), (s, s), (p, p))(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, caffe_pool_loop(x, method, (k, k), (s, s), (p, p)), rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(3, 12), w=st.integers(3, 12), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 4), sw=st.integers(1, 4), ph=st.integers(0, 3), pw=st.integers(0, 3),
       method=st.sampled_from(["MAX", "AVE"]), seed=st.integers(0, 1000))
def test_rectangular_pooling_matches_caffe_loop(h, w, kh, kw, sh, sw, ph, pw, method, seed):
    k, s, p = (kh, kw), (sh, sw), (min(ph, kh - 1), min(pw, kw - 1))  # Caffe requires pad < kernel
    assume(_no_empty_window(h, w, k, s, p))
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    ours = CaffePool2d(method, k, s, p)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, caffe_pool_loop(x, method, k, s, p), rtol=1e-12, atol=1e-12)


def test_pool_output_size_hand_cases():
    assert caffe_pool_out(8, 3, 2, 0) == 4  # ceil creates the extra window
    assert caffe_pool_out(5, 2, 2, 1) == 3  # ceil gives 4, the last window would start in the padding
    assert caffe_pool_out(55, 3, 2, 0) == 27  # MemNet pool1: ceil and floor agree here
    assert caffe_pool_out(8, 3, 2, 0, ceil=False) == 3


@pytest.mark.parametrize("size, k, s, p, want", [
    ((5, 5), (2, 1), (1, 3), (1, 0), (6, 2)),  # pad_h only: width 5, k 1, s 3 gives 3 windows, Caffe clips to 2
    ((5, 5), (1, 2), (3, 1), (0, 1), (2, 6)),  # the same turned round: pad_w only clips the height
    ((7, 6), (3, 1), (2, 4), (1, 0), (4, 2)),  # ceil gives width 3, its last window would start at 8 ≥ 6
    ((6, 6), (3, 3), (2, 2), (1, 0), (4, 3)),  # padded on one axis, but no window to clip: nothing changes
    ((5, 5), (1, 1), (3, 3), (0, 0), (3, 3)),  # no padding at all: no clip (the converter refuses this net)
])
def test_one_axis_padding_clips_both_axes_like_caffe(size, k, s, p, want):
    assert caffe_pool_shape(size, k, s, p) == want == caffe_pool_shape_loop(*size, k, s, p)
    assert caffe_pool_out(size[1], k[1], s[1], p[1], any_pad=any(p)) == want[1]


@pytest.mark.parametrize("method", ["MAX", "AVE"])
def test_pool_padded_in_height_only_converts_with_caffes_shape(tmp_path, method):
    proto = tmp_path / "pool.prototxt"
    proto.write_text('input: "data"\ninput_shape { dim: 1 dim: 2 dim: 5 dim: 5 }\n'
                     'layer { name: "p" type: "Pooling" bottom: "data" top: "p"\n'
                     f'  pooling_param {{ pool: {method} kernel_h: 2 kernel_w: 1 stride_h: 1 stride_w: 3 '
                     'pad_h: 1 pad_w: 0 } }\n')
    weights = tmp_path / "empty.caffemodel"
    write_caffemodel(weights, {"p": []}, types={"p": "Pooling"})
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    got = load_caffe_model(proto, weights).double()(torch.from_numpy(x)).detach().numpy()
    assert got.shape == (1, 2, 6, 2)  # a per-axis clip gives width 3, whose last window starts outside the input
    np.testing.assert_allclose(got, caffe_pool_loop(x, method, (2, 1), (1, 3), (1, 0)), rtol=1e-12, atol=1e-12)


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
    with pytest.raises(ValueError, match="odd"):
        lrn_across_channels(torch.ones(1, 3, 2, 2), 2, 1e-4, 0.75, 1.0)


def test_lrn_function_is_what_the_module_computes_and_edges_keep_the_divisor_n():
    """notebook 01's reference: the function CaffeLRN calls, exactly; fewer channels than the window still divide α by n."""
    x = torch.randn(2, 7, 3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(lrn_across_channels(x, 5, 0.5, 0.75, 2.0), CaffeLRN(5, 0.5, 0.75, 2.0, "ACROSS_CHANNELS")(x))
    few = x[:, :2]  # 2 channels, window 5: each channel sees both, α/5 still
    np.testing.assert_allclose(lrn_across_channels(few, 5, 0.5, 0.75, 2.0).numpy(),
                               lrn_loop(few.numpy(), 5, 0.5, 0.75, 2.0), rtol=1e-12)
