"""Digit accuracy and attention grounding (labkit.metrics.caption_grounding) on hand-computed cases, and the
attention figure's layout (thumbnails over their columns, readable fonts)."""

import numpy as np
import pytest

from labkit.metrics.caption_grounding import (
    attention_grounding,
    digit_accuracy,
    function_word_attention,
    word_grounding,
)
from labkit.metrics.errors import MetricInputError


def test_digit_accuracy_reads_order_from_the_phrasing():
    truth = {"a": (3, 7), "b": (3, 7), "c": (3, 7), "d": (1, 2)}
    cands = {"a": "before a 7 comes a 3",  # reversed phrasing, right order: right
             "b": "a 7 appears then a 3 appears",  # digits swapped: wrong
             "c": "a 3 appears then a",  # unparseable: wrong
             "d": "first a 1 then a 2"}
    assert digit_accuracy(cands, truth) == 0.5
    with pytest.raises(MetricInputError, match="no candidate"):
        digit_accuracy({"a": "x"}, truth)
    with pytest.raises(MetricInputError, match="no ids"):
        digit_accuracy({}, {})


def test_word_grounding_by_hand():
    # 6 real frames (+2 padded); digit 3 visible on frames 1-2, digit 7 on frames 4-5
    words = ["a", "3", "is", "followed", "by", "a", "7"]
    alpha = np.full((7, 8), 0.0)
    alpha[:, :6] = 1 / 6
    alpha[1] = [0.1, 0.2, 0.5, 0.1, 0.05, 0.05, 0, 0]  # "3": peak frame 2, inside 1-2
    alpha[6] = [0.6, 0.1, 0.1, 0.1, 0.05, 0.05, 0, 0]  # "7": peak frame 0, outside 4-5
    rows = word_grounding(words, alpha, [(3, 1, 3), (7, 4, 6)], length=6)
    assert rows == [(1, True, 2 / 6), (6, False, 2 / 6)]
    # a digit the video does not show can never be grounded
    assert word_grounding(["5"], alpha[1:2], [(3, 1, 3), (7, 4, 6)], 6) == [(0, False, 0.0)]
    # padded columns never win, even with weight there
    pad = np.array([[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9]])
    assert word_grounding(["3"], pad, [(3, 0, 1)], 6) == [(0, True, 1 / 6)]  # argmax of the 6 real: frame 0 (tie)


def test_attention_grounding_pools_digit_words_over_videos():
    a1 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # "3" looks at frame 1, "7" at frame 2
    a2 = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]])  # "x", "4" at 3, "2" at 3
    g = attention_grounding([["3", "7"], ["x", "4", "2"]], [a1, a2],
                            [[(3, 1, 2), (7, 2, 3)], [(4, 0, 2), (2, 3, 4)]], [3, 4])
    assert (g.hits, g.digit_words) == (3, 4) and g.share == 0.75
    assert g.chance == pytest.approx((1 / 3 + 1 / 3 + 2 / 4 + 1 / 4) / 4)
    assert np.isnan(attention_grounding([["a"]], [a1], [[(3, 1, 2)]], [3]).share)
    with pytest.raises(MetricInputError, match="one entry per video"):
        attention_grounding([["3"]], [a1, a1], [[]], [3])
    with pytest.raises(MetricInputError, match="a row per word"):
        word_grounding(["3", "7", "x"], a1, [], 3)
    with pytest.raises(MetricInputError, match="length must be in 1..3"):
        word_grounding(["3"], a1, [], 4)


def test_function_word_attention_by_hand():
    # 5 real frames: digit 3 on frames 0-1 (share 0.4), digit 7 on frame 3 (share 0.2)
    words = ["a", "3", "then", "a", "7", "appears"]
    alpha = np.array([[0.6, 0.2, 0.1, 0.1, 0.0],   # "a" before the 3: 0.8 on the 3
                      [0.5, 0.5, 0.0, 0.0, 0.0],   # "3"
                      [0.1, 0.1, 0.2, 0.6, 0.0],   # "then": 0.6 on the next digit (7), 0.2 on the previous (3)
                      [0.0, 0.0, 0.0, 1.0, 0.0],   # "a": 1.0 on the 7, 0 on the 3
                      [0.0, 0.0, 0.0, 1.0, 0.0],   # "7"
                      [0.2, 0.2, 0.2, 0.2, 0.2]])  # "appears" after the 7: 0.2 on it
    fw = function_word_attention([words], [alpha], [[(3, 0, 2), (7, 3, 4)]], [5])
    assert list(fw) == ["all (before a digit word)", "a (before 1st digit)", "a (between digits)",
                        "then (between digits)", "appears (after 2nd digit)"]
    assert fw["a (before 1st digit)"]["next"] == pytest.approx(0.8)
    assert np.isnan(fw["a (before 1st digit)"]["previous"])
    assert fw["then (between digits)"] == pytest.approx({"n": 1, "next": 0.6, "previous": 0.2, "next_share": 0.2,
                                                         "previous_share": 0.4})
    assert fw["all (before a digit word)"]["n"] == 3
    assert fw["all (before a digit word)"]["next"] == pytest.approx((0.8 + 0.6 + 1.0) / 3)
    assert fw["all (before a digit word)"]["previous"] == pytest.approx((0.2 + 0.0) / 2)  # the first "a" has none
    assert np.isnan(fw["appears (after 2nd digit)"]["next"])
    assert fw["appears (after 2nd digit)"]["previous"] == pytest.approx(0.2)
    # a digit word naming a digit the video does not show gives that column nothing to measure
    wrong = function_word_attention([["a", "5"]], [alpha[:2]], [[(3, 0, 2), (7, 3, 4)]], [5])
    assert np.isnan(wrong["a (before 1st digit)"]["next"])
    with pytest.raises(MetricInputError, match="one entry per video"):
        function_word_attention([words], [alpha, alpha], [[]], [5])
    with pytest.raises(MetricInputError, match="a row per word"):
        function_word_attention([words], [alpha[:3]], [[]], [5])


def test_heatmap_thumbnails_sit_over_their_columns_and_fonts_are_readable():
    import matplotlib.pyplot as plt

    from labkit.viz.captions import attention_heatmap

    t, words = 13, ["a", "3", "is", "followed", "by", "a", "7"]
    frames = np.random.default_rng(0).integers(0, 255, (t, 60, 60)).astype(np.uint8)
    alpha = np.full((len(words), t), 1 / t)
    fig = attention_heatmap(alpha, words, frames, [(3, 1, 4), (7, 8, 12)], title="a 3 is followed by a 7",
                            correct=False, note="truth: 3 then 8")
    heat, top = fig.axes[0], fig.axes[2]
    assert heat.get_xlim() == top.get_xlim() == (-0.5, t - 0.5)
    assert heat.get_position().x0 == top.get_position().x0 and heat.get_position().x1 == top.get_position().x1
    thumbs = [tuple(im.get_extent()[:2]) for im in top.get_images()]
    assert thumbs == [(i - 0.5, i + 0.5) for i in range(t)]  # frame i covers exactly column i
    assert fig.get_figwidth() <= 10  # a notebook column at 100 dpi: fonts print at their size
    fig.canvas.draw()
    sizes = [x.get_fontsize() for x in fig.findobj(plt.Text) if x.get_text().strip() and x.get_visible()]
    assert min(sizes) >= 8, sorted(sizes)[:5]
    plt.close(fig)
    with pytest.raises(ValueError, match="12 frames for 13 columns"):
        attention_heatmap(alpha, words, frames[:12])


def test_captions_digest_changes_with_any_word_and_not_with_dict_order():
    from labkit.metrics.caption_grounding import captions_sha256

    g, b = {"v1": "a 3 appears then a 7 appears", "v2": "first a 1 then a 2"}, {"v1": "before a 7 comes a 3"}
    assert captions_sha256(g, b) == captions_sha256(dict(reversed(g.items())), b)
    assert captions_sha256(g, b) != captions_sha256(b, g)
    assert captions_sha256(g, b) != captions_sha256({**g, "v2": "first a 1 then a 3"}, b)


def test_attention_diagram_labels_its_bars_alpha_and_shows_the_energies_apart():
    import matplotlib.pyplot as plt

    from labkit.viz.captions import attention_diagram

    fig = attention_diagram(5, alpha=[1, 2, 4, 2, 1])
    texts = [t.get_text() for t in fig.axes[0].texts]
    bars = [float(t.split("=")[1]) for t in texts if t.startswith("$\\alpha_")]  # "$\alpha_3$=0.40"
    energies = np.array([float(t.split("=")[1]) for t in texts if t.startswith("$e_") and "tanh" not in t])
    assert bars == pytest.approx([0.1, 0.2, 0.4, 0.2, 0.1], abs=0.005)
    assert np.exp(energies) / np.exp(energies).sum() == pytest.approx(bars, abs=0.01)  # softmax(e) = α, e rounded
    plt.close(fig)
