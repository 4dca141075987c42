"""Every error labkit raises for something the user can fix belongs to a LabkitError family, so the CLI reports it
as one line (exit status 2) and ``except LabkitError`` catches it."""

import pytest

from labkit.core.errors import DependencyError, LabkitError
from labkit.course import cli
from labkit.metrics import captioning
from labkit.metrics.captioning import JavaMissingError


def test_missing_java_is_a_dependency_error_and_still_a_runtime_error():
    assert issubclass(JavaMissingError, DependencyError) and issubclass(JavaMissingError, LabkitError)
    assert issubclass(JavaMissingError, RuntimeError)  # what callers caught before it joined a family
    assert JavaMissingError.family == "dependency"


def test_missing_java_says_what_and_how_to_fix(monkeypatch):
    monkeypatch.setattr(captioning.shutil, "which", lambda _: None)
    with pytest.raises(LabkitError) as info:
        captioning.score({"a": ["x"]}, {"a": "x"})
    assert isinstance(info.value, JavaMissingError)
    assert "needs Java" in info.value.problem and "install a JRE" in info.value.fix


def test_the_cli_reports_missing_java_in_one_line(monkeypatch, capsys):
    def needs_java(args):
        captioning._need_java("METEOR")

    monkeypatch.setattr(captioning.shutil, "which", lambda _: None)
    monkeypatch.setattr(cli, "cmd_doctor", needs_java)
    assert cli.main(["doctor"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("labkit: error (dependency): METEOR needs Java") and "\n" not in err
