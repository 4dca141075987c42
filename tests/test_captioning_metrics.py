"""The caption-metric wrapper against pycocoevalcap itself and hand-computed cases."""

import pytest

from labkit.metrics import captioning
from labkit.metrics.captioning import JavaMissingError, score, score_systems
from labkit.metrics.errors import MetricInputError

REFS = {"v1": ["A man is slicing a tomato.", "Someone cuts a tomato with a knife."],
        "v2": ["A cat plays the piano.", "A cat is playing a keyboard; it's cute."],
        "v3": ["The digit 3 moves down, and bounces.", "A 3 is moving down."]}
CANDS = {"v1": "a man is cutting a tomato", "v2": "a cat is playing the piano", "v3": "the digit 3 moves down"}
PURE = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr")


def test_pure_python_metrics_equal_direct_calls():
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    gts = {k: v for k, v in REFS.items()}
    res = {k: [c] for k, c in CANDS.items()}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    direct = {**{f"BLEU-{n}": bleu[n - 1] for n in range(1, 5)}, "ROUGE-L": Rouge().compute_score(gts, res)[0],
              "CIDEr": Cider().compute_score(gts, res)[0]}
    assert score(REFS, CANDS, tokenize=False, metrics=PURE) == pytest.approx(direct, abs=1e-12)


@pytest.mark.slow  # five Java starts (PTB tokenizer, METEOR): seconds each
def test_wrapper_equals_direct_pycocoevalcap_calls():
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    gts = tok.tokenize({k: [{"caption": c} for c in v] for k, v in REFS.items()})
    res = tok.tokenize({k: [{"caption": c}] for k, c in CANDS.items()})
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    direct = {"BLEU-1": bleu[0], "BLEU-2": bleu[1], "BLEU-3": bleu[2], "BLEU-4": bleu[3],
              "METEOR": Meteor().compute_score(gts, res)[0], "ROUGE-L": Rouge().compute_score(gts, res)[0],
              "CIDEr": Cider().compute_score(gts, res)[0]}
    both = score_systems(REFS, {"model": CANDS, "copy": {k: v[0] for k, v in REFS.items()}})
    assert both["model"] == pytest.approx(direct, abs=1e-9)
    assert both["copy"]["BLEU-4"] == pytest.approx(1.0) and both["copy"]["ROUGE-L"] == pytest.approx(1.0)


def test_hand_computed_bleu_and_rouge():
    s = score({"x": ["the cat sat on the mat"]}, {"x": "the cat sat on a mat"}, tokenize=False, metrics=PURE)
    assert s["BLEU-1"] == pytest.approx(5 / 6, abs=1e-6)  # 5 of 6 words match, same length: no brevity penalty
    assert s["BLEU-2"] == pytest.approx((5 / 6 * 3 / 5) ** 0.5, abs=1e-6)  # 3 of 5 bigrams
    assert s["ROUGE-L"] == pytest.approx(5 / 6, abs=1e-6)  # LCS 5 of 6 both ways


def test_skipping_tokenisation_lowers_scores():
    refs, cand = {"x": ["A man is slicing a tomato."]}, {"x": "a man is slicing a tomato"}
    raw = score(refs, cand, tokenize=False, metrics=("BLEU-1", "ROUGE-L"))
    assert raw["BLEU-1"] == pytest.approx(4 / 6, abs=1e-6)  # "A" ≠ "a" and "tomato." ≠ "tomato"
    assert captioning._compute({"x": ["a man is slicing a tomato"]}, {"x": [cand["x"]]}, ("BLEU-1",))["BLEU-1"] \
        == pytest.approx(1.0)  # what the PTB tokenizer would have compared


def test_bad_inputs_and_missing_java(monkeypatch):
    with pytest.raises(MetricInputError, match="same ids"):
        score({"a": ["x"]}, {"b": "x"}, tokenize=False, metrics=PURE)
    with pytest.raises(MetricInputError, match="unknown metric"):
        score({"a": ["x"]}, {"a": "x"}, metrics=("SPICE",))
    with pytest.raises(MetricInputError, match="non-empty lists"):
        score({"a": "x y"}, {"a": "x"}, tokenize=False, metrics=PURE)
    monkeypatch.setattr(captioning.shutil, "which", lambda _: None)
    with pytest.raises(JavaMissingError, match="METEOR and the PTB tokenizer needs Java"):
        score(REFS, CANDS)
    assert score(REFS, CANDS, tokenize=False, metrics=PURE)["BLEU-1"] > 0  # the pure-Python metrics still work


@pytest.mark.skipif(not captioning.java_available(), reason="the PTB tokenizer is a Java program")
def test_ptb_tokenize_equals_pycocoevalcaps_and_keeps_java_quiet(capfd):
    """The same tokens as pycocoevalcap's PTBTokenizer, without Java's "tokenized N tokens" line on stderr (it landed
    in every committed notebook that scores captions)."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    caps = {"a": ["A Dog runs, fast.", "the dog's tail -- wags!"], "b": ["Two men (both tall) play soccer?"],
            "c": [""], "d": ["line\nbreak here."]}
    mine = captioning.ptb_tokenize(caps)
    assert capfd.readouterr().err == ""
    assert mine == PTBTokenizer().tokenize({k: [{"caption": c} for c in v] for k, v in caps.items()})
