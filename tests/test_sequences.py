"""The one pad/trim of (T, D) feature sequences that captions and YouTube-8M batches share."""

import numpy as np
import pytest
import torch

from labkit.data.sequences import pad_or_trim


def test_pads_to_the_longest_and_masks_the_padding():
    feats, mask = pad_or_trim([np.ones((3, 4)), 2 * np.ones((1, 4))])
    assert feats.shape == (2, 3, 4) and feats.dtype == torch.float32
    assert mask.tolist() == [[True] * 3, [True, False, False]]
    assert feats[1, 1:].abs().sum() == 0 and feats[1, 0, 0] == 2


def test_keeps_the_first_frames_when_trimming():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    out, mask = pad_or_trim([x], 4)
    np.testing.assert_array_equal(out[0].numpy(), x[:4])
    assert mask.all()
    out, mask = pad_or_trim([x, torch.from_numpy(x[:2])], 8)  # numpy and torch inputs mix
    np.testing.assert_array_equal(out[0, :6].numpy(), x)
    assert not out[0, 6:].any() and mask[0].tolist() == [True] * 6 + [False] * 2
    assert mask[1].sum() == 2 and not out[1, 2:].any()


@pytest.mark.parametrize(
    ("seqs", "length", "match"),
    [
        ([np.ones((3, 4)), np.ones((3, 5))], None, "one D"),
        ([np.ones(3)], None, r"\(T, D\)"),
        ([], None, "no sequences"),
        ([np.ones((3, 4))], 0, "length must be >= 1"),
    ],
)
def test_bad_input_is_named(seqs, length, match):
    with pytest.raises(ValueError, match=match):
        pad_or_trim(seqs, length)
