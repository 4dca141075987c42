"""``labkit.record``: what it stores and what it prints."""

import json

import numpy as np
import pytest

from labkit.core import record as rec


@pytest.mark.parametrize(("value", "text"), [
    (1.6e-6, "1.60e-06"),  # 0.0000 would read as "exactly equal"
    (-2.5e-5, "-2.50e-05"),
    (0.0, "0.0000"),
    (0.12345, "0.1235"),
    (3.0e7, "3.00e+07"),
    (7, "7"),
    ("text", "text"),
])
def test_small_and_huge_floats_print_in_scientific_notation(value, text):
    assert rec.shown(value) == text


def test_record_prints_returns_and_writes_the_value(tmp_path, monkeypatch, capsys):
    out = tmp_path / "metrics.json"
    monkeypatch.setenv(rec.ENV_VAR, str(out))
    assert rec.record("max_err", np.float32(1.5e-6)) == np.float32(1.5e-6)
    assert "[record] max_err = 1.50e-06" in capsys.readouterr().out
    assert json.loads(out.read_text())["max_err"] == pytest.approx(1.5e-6)


def test_record_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError, match="cannot store a object"):
        rec.record("x", object())
