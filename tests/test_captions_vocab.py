"""Vocabulary, tokenisation and caption padding (feature padding: tests/test_sequences.py)."""

import pytest
import torch

from labkit.data.captions import (
    SPECIALS,
    CaptionFormatError,
    Vocabulary,
    pad_captions,
    tokenize,
)


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("A man's dog, running. Fast!") == ["a", "man's", "dog", "running", "fast"]


def test_vocab_min_count_specials_and_order():
    v = Vocabulary.build(["the cat runs", "the dog runs", "the cat sits"], min_count=2)
    assert v.itos == [*SPECIALS, "the", "cat", "runs"]  # counts 3, 2, 2 (ties alphabetical)
    assert (v.pad, v.bos, v.eos, v.unk) == (0, 1, 2, 3)
    assert v.encode("The dog runs.") == [1, 4, 3, 6, 2]  # dog is rare → <unk>


def test_vocab_round_trip():
    v = Vocabulary.build(["the digit 3 moves down while the digit 7 bounces left"])
    text = "the digit 7 bounces down"
    assert v.decode(v.encode(text)) == text
    assert Vocabulary.from_dict(v.to_dict()).itos == v.itos
    assert v.decode([1, 4, 2, 5, 5]) == v.itos[4]  # stops at <eos>
    assert v.decode(torch.tensor([4, 0, 0])) == v.itos[4]


def test_encode_max_len_keeps_bos_and_eos():
    v = Vocabulary.build(["a b c d e"])
    ids = v.encode("a b c d e", max_len=4)
    assert len(ids) == 4 and ids[0] == v.bos and ids[-1] == v.eos


@pytest.mark.parametrize("itos, msg", [(["a", "b"], "must start with"),
                                       ([*SPECIALS, "x", "x"], "duplicate")])
def test_bad_vocab(itos, msg):
    with pytest.raises(CaptionFormatError, match=msg):
        Vocabulary(itos)


def test_bad_requests():
    v = Vocabulary.build(["a"])
    with pytest.raises(CaptionFormatError, match="outside the vocabulary"):
        v.decode([99])
    with pytest.raises(CaptionFormatError, match="min_count"):
        Vocabulary.build(["a"], min_count=0)
    with pytest.raises(CaptionFormatError, match="itos"):
        Vocabulary.from_dict({})


def test_pad_captions():
    caps, lengths = pad_captions([[1, 5, 2], [1, 2]])
    assert caps.tolist() == [[1, 5, 2], [1, 2, 0]] and lengths.tolist() == [3, 2]
