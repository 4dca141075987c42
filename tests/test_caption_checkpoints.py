"""The shipped SA-LSTM checkpoints (data/captions): each loads with weights_only, and its held-out figures on the
constructed digit-event videos — caption scores, digit accuracy greedy and beam, attention grounding — are
recomputed here and must equal what its training run recorded in the MANIFEST (greedy decoding and beam search
are deterministic). Plus a smoke run of the training script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import load_tool

from labkit.core.assets import asset_path
from labkit.data.captions import Vocabulary, load_event_captions
from labkit.eval.captions import heldout_figures
from labkit.metrics.captioning import java_available
from labkit.models import sa_lstm_pretrained as zoo
from labkit.models import shipped

SHIPPED = zoo.shipped()


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def test_set():
    return load_event_captions()["test"]


def _parse(name: str) -> tuple[str, int]:
    context, seed = Path(name).stem.removeprefix("sa_lstm_").rsplit("_s", 1)
    return context, int(seed)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_checkpoint_reproduces_its_recorded_heldout_figures(name, test_set):
    record = SHIPPED[name]
    model, vocab = zoo.load_pretrained(*_parse(name))
    assert asset_path(name).stat().st_size <= 5 * 2**20, "a shipped checkpoint stays under 5 MB"
    # METEOR is a Java program whose start costs seconds: recomputed for the checkpoint notebook 06 reads; for the
    # others, word-for-word equal captions (the digest) make it equal by construction.
    meteor = "METEOR" in record["heldout"] and java_available() and name == zoo.checkpoint_name("attention", 0)
    got = heldout_figures(model, test_set, vocab=vocab, beam_width=record["decoding"]["beam_width"],
                          max_len=record["decoding"]["max_len"], meteor=meteor)
    digest = got.pop("captions_sha256")
    assert digest == record["captions_sha256"], f"{name}: the greedy or beam captions differ from the recorded ones"
    want = {k: v for k, v in record["heldout"].items() if meteor or "METEOR" not in k}
    assert set(got) == set(want), got
    assert all(abs(got[k] - want[k]) <= 1e-4 for k in got), f"{name}: recomputed {got}, recorded {want}"
    assert record["command"].startswith("PYTHONPATH=. python tools/train_sa_lstm.py") and record["wall_seconds"] > 0
    assert record["monitor"] == "val_digit_acc" and 1 <= record["best_epoch"] <= record["epochs"]
    assert asset_path(name.replace(".pt", "_curve.csv")).is_file()


def test_the_course_ships_both_decoders_notebook_06_compares():
    assert {zoo.checkpoint_name("attention", 0), zoo.checkpoint_name("mean", 0)} <= set(SHIPPED)
    for name in SHIPPED:
        state = shipped.read(name)
        vocab = Vocabulary.from_dict({"itos": SHIPPED[name]["vocab"]})
        assert state["embed.weight"].shape[0] == len(vocab) == SHIPPED[name]["config"]["vocab_size"]


def test_missing_checkpoint_and_bad_context_are_clear_errors():
    from labkit.core.errors import AssetError

    with pytest.raises(AssetError, match="train it: PYTHONPATH=. python tools/train_sa_lstm.py mean --seed 99"):
        zoo.load_pretrained("mean", seed=99)
    with pytest.raises(ValueError, match="context must be one of"):
        zoo.checkpoint_name("max")


def test_training_script_smoke(tmp_path, capsys):
    mod = load_tool("train_sa_lstm")
    assert mod.main(["attention", "--steps", "2", "--out", str(tmp_path)]) == 0
    out = "\n" + capsys.readouterr().out
    report = json.loads(out[out.index("\n{") + 1:])  # the report printed last
    assert report["epochs"] == 1 and report["monitor"] == "val_digit_acc" and "digit_accuracy" in report["heldout"]
    assert report["command"] == "PYTHONPATH=. python tools/train_sa_lstm.py attention --steps 2 --out " + str(tmp_path)
    state = torch.load(tmp_path / "sa_lstm_attention_s0.pt", weights_only=True)
    assert "attention.U.weight" in state
    curve = (tmp_path / "sa_lstm_attention_s0_curve.csv").read_text().splitlines()
    assert curve[0].split(",")[:2] == ["epoch", "loss"] and "val_digit_acc" in curve[0] and len(curve) == 2
