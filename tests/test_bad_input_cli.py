"""Bad input at the command line, in notebook parameters and in training checkpoints: one clear line, never a
traceback, never a silent wrong run.

Table-driven: each case builds its bad input under ``tmp_path`` and names what the one-line error must say (the
file, parameter or option at fault). CLI cases run ``labkit`` in-process, so no kernel ever starts: every one of
them must be refused *before* a notebook runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from helpers import ROOT
from torch import nn

from labkit.core.errors import CheckpointError, LabkitError
from labkit.course import cli, sweep
from labkit.train import CHECKPOINT, History, TrainConfig, fit, load_checkpoint, save_checkpoint

FIXTURES = Path(__file__).parent / "fixtures"


# --------------------------------------------------------------------------- the command line
def _file(tmp: Path, name: str = "a_file.txt", text: str = "not a folder") -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def _notebook_named(tmp: Path, name: str) -> str:
    p = tmp / name
    shutil.copy(FIXTURES / "sweepable.ipynb", p)
    return str(p)


PLAIN = json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [],
                                "source": "x = 1"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

# (id, argv built from tmp_path, what the error line must contain)
CLI_CASES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    ("sweep-no-values", lambda t: ["sweep", "03_amnet", "-p", "lstm_steps"], "lstm_steps needs at least one value"),
    ("sweep-param-twice", lambda t: ["sweep", "03_amnet", "-p", "lstm_steps", "1", "-p", "lstm_steps", "2"],
     "lstm_steps appear(s) twice"),
    ("sweep-unknown-param", lambda t: ["sweep", "03_amnet", "-p", "lstm_stepz", "1"], "Did you mean 'lstm_steps'"),
    ("sweep-bad-type", lambda t: ["sweep", "03_amnet", "-p", "lstm_steps", "1", "two"], "expects int"),
    ("sweep-out-is-file", lambda t: ["sweep", "03_amnet", "-p", "lstm_steps", "1", "--out", _file(t)], "a_file.txt is a file"),
    ("sweep-no-scheduler", lambda t: ["sweep", "03_amnet", "-p", "lstm_steps", "1", "--out", str(t / "s"),
                                      "--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler"),
    ("sweep-range", lambda t: ["sweep", "03_amnet", "-p", "epochs", "2", "0"], "'epochs' must be >= 1"),
    ("run-out-is-file", lambda t: ["run", "04_ram", "--out", _file(t)], "a_file.txt is a file"),
    ("run-epochs-negative", lambda t: ["run", "04_ram", "-p", "epochs", "-3"], "'epochs' must be >= 1; got -3"),
    ("run-batch-zero", lambda t: ["run", "04_ram", "-p", "batch_size", "0"], "'batch_size' must be >= 1; got 0"),
    ("run-lr-zero", lambda t: ["run", "04_ram", "-p", "lr", "0"], "'lr' must be > 0"),
    ("run-lr-negative", lambda t: ["run", "05", "-p", "lr", "-0.1"], "'lr' must be > 0"),
    ("run-lr-nan", lambda t: ["run", "05", "-p", "lr", "nan"], "'lr'"),
    ("run-std-zero", lambda t: ["run", "04", "-p", "std", "0.0"], "'std' must be > 0"),
    ("run-glimpses-zero", lambda t: ["run", "04", "-p", "glimpses", "0"], "'glimpses' must be >= 1"),
    ("run-beam-zero", lambda t: ["run", "06", "-p", "beam_width", "0"], "'beam_width' must be >= 1"),
    ("run-steps-zero", lambda t: ["run", "03", "-p", "lstm_steps", "0"], "'lstm_steps' must be >= 1"),
    ("run-classes-one", lambda t: ["run", "05", "-p", "num_classes", "1"], "'num_classes' must be >= 2"),
    ("run-seed-negative", lambda t: ["run", "02", "-p", "seed", "-1"], "'seed' must be >= 0"),
    ("run-float-for-int", lambda t: ["run", "04_ram", "-p", "epochs", "1.5"], "'epochs' expects int"),
    ("run-unknown-param", lambda t: ["run", "04_ram", "-p", "no_such_param", "1"], "no parameter 'no_such_param'"),
    ("run-bad-choice", lambda t: ["run", "04_ram", "-p", "dataset", "fashion"], "must be one of mnist"),
    ("run-bool-garbage", lambda t: ["run", "03", "-p", "att_off", "maybe"], "'att_off' expects bool"),
    ("run-data-root-missing", lambda t: ["run", "04_ram", "-p", "data_root", str(t / "nowhere")], "nowhere"),
    ("run-data-root-is-file", lambda t: ["run", "04_ram", "-p", "data_root", _file(t)], "is not a folder"),
    ("run-no-notebook", lambda t: ["run", "99_nothing"], "no notebook '99_nothing'"),
    ("run-all-and-names", lambda t: ["run", "--all", "04"], "name notebooks or pass --all"),
    ("run-neither", lambda t: ["run"], "name notebooks or pass --all"),
    ("run-flat-two", lambda t: ["run", "--flat", "03", "04"], "--flat takes a single notebook"),
    ("run-inplace-params", lambda t: ["run", "--inplace", "04", "-p", "epochs", "2"], "--inplace executes"),
    ("run-dots-name", lambda t: ["run", _notebook_named(t, "...ipynb"), "--out", str(t / "o")], "cannot name an output folder"),
    ("run-not-a-notebook", lambda t: ["run", _file(t, "fake.ipynb", "{not json")], "not a readable Jupyter notebook"),
    ("params-not-a-notebook", lambda t: ["params", _file(t, "fake.ipynb", "hello")], "fake.ipynb"),
    ("params-json-not-notebook", lambda t: ["params", _file(t, "list.ipynb", "[1, 2, 3]")], "list.ipynb"),
    ("params-empty-file", lambda t: ["params", _file(t, "empty.ipynb", "")], "empty.ipynb"),
    ("params-no-parameters-cell", lambda t: ["params", _file(t, "plain.ipynb", PLAIN)], "no code cell is tagged 'parameters'"),
    ("params-unknown", lambda t: ["params", "42"], "no notebook '42'"),
    ("student-out-is-file", lambda t: ["student", "--out", _file(t)], "a_file.txt is a file"),
    ("student-unknown", lambda t: ["student", "nope", "--out", str(t / "s")], "no notebook 'nope'"),
    ("sync-unknown", lambda t: ["sync", "77"], "no notebook '77'"),
]


@pytest.fixture
def _fast_scheduler(monkeypatch):
    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT", 2)


@pytest.mark.parametrize(("argv", "says"), [(c[1], c[2]) for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_bad_input_in_one_line(argv, says, tmp_path, capsys, _fast_scheduler, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = cli.main(argv(tmp_path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("labkit: error") and says in err, err


def test_cell_timeout_that_is_not_a_number_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LABKIT_CELL_TIMEOUT", "abc")
    assert cli.main(["run", str(FIXTURES / "sweepable.ipynb"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "LABKIT_CELL_TIMEOUT must be a whole number" in err and "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(LabkitError, match="is a file"):
        cli.main(["--debug", "run", "04_ram", "--out", _file(tmp_path)])


def test_a_relative_data_root_is_read_from_where_the_command_runs(tmp_path, monkeypatch):
    """Not from notebooks/ (the kernel's folder): `labkit run 04 -p data_root mnist` means ./mnist."""
    from labkit.course.notebooks import resolve
    from labkit.course.runner import prepare

    (tmp_path / "mnist").mkdir()
    monkeypatch.chdir(tmp_path)
    values = prepare(resolve("04"), {"data_root": "mnist"})
    assert values["data_root"] == str(tmp_path / "mnist")


def test_notebook_01_writes_nothing_into_the_folder_it_runs_in():
    source = (ROOT / "notebooks" / "01_memnet_caffe_port.py").read_text()
    assert 'write_deploy_prototxt("' not in source and "write_deploy_prototxt(work_dir /" in source


# --------------------------------------------------------------------------- checkpoints
def _tiny_run(tmp: Path, epochs: int = 1, resume: bool = False) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=4, checkpoint_dir=str(tmp / "ckpt"), resume=resume, progress=False)


def _train(cfg: TrainConfig) -> tuple[nn.Module, History]:
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(8, 3), torch.randn(8, 1))
    model = nn.Linear(3, 1)
    return model, fit(model, data, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), cfg)


def _finished(tmp: Path) -> Path:
    _train(_tiny_run(tmp))
    return tmp / "ckpt" / CHECKPOINT


def _edit(tmp: Path, change: Callable[[dict], None]) -> Path:
    path = _finished(tmp)
    state = load_checkpoint(path)
    change(state)
    save_checkpoint(path, state)
    return path


def _write_bytes(tmp: Path, data: bytes) -> Path:
    path = tmp / "ckpt" / CHECKPOINT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _truncate(tmp: Path) -> Path:
    path = _finished(tmp)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


# (id, make the bad checkpoint folder under tmp, epochs of the resumed run, what the message says)
CHECKPOINT_CASES: list[tuple[str, Callable[[Path], object], int, str]] = [
    ("zero-bytes", lambda t: _write_bytes(t, b""), 2, "the file is empty"),
    ("truncated", _truncate, 2, "truncated or not one"),
    ("text-file", lambda t: _write_bytes(t, b"epoch: 3\n"), 2, "cannot be loaded safely"),
    ("a-list", lambda t: torch.save([1, 2], _write_bytes(t, b"x")), 2, "holds a list"),
    ("no-optimizer", lambda t: _edit(t, lambda s: s.pop("optimizer")), 2, "lacks optimizer"),
    ("weights-only", lambda t: _edit(t, lambda s: [s.pop(k) for k in list(s) if k != "model"]), 2, "lacks optimizer"),
    ("bad-rng", lambda t: _edit(t, lambda s: s.update(rng={"torch": torch.zeros(3)})), 2, "random-generator state"),
    ("rng-missing-python", lambda t: _edit(t, lambda s: s["rng"].pop("python")), 2, "random-generator state"),
    ("epoch-999", lambda t: _edit(t, lambda s: s.update(epoch=999)), 3, "epoch 999 but this run has only epochs=3"),
    ("epoch-negative", lambda t: _edit(t, lambda s: s.update(epoch=-1)), 3, "its epoch is -1"),
    ("epoch-a-string", lambda t: _edit(t, lambda s: s.update(epoch="2")), 3, "its epoch is '2'"),
    ("other-model", lambda t: _edit(t, lambda s: s.update(model={"weight": torch.zeros(5, 5)})), 2, "does not fit this model"),
]


@pytest.mark.parametrize(("make", "epochs", "says"), [c[1:] for c in CHECKPOINT_CASES], ids=[c[0] for c in CHECKPOINT_CASES])
def test_resuming_from_a_bad_checkpoint_names_it(make, epochs, says, tmp_path):
    make(tmp_path)
    with pytest.raises(CheckpointError) as e:
        _train(_tiny_run(tmp_path, epochs=epochs, resume=True))
    assert says in str(e.value) and CHECKPOINT in str(e.value), str(e.value)


def test_checkpoint_dir_that_is_a_file_fails_before_training(tmp_path):
    (tmp_path / "ckpt").write_text("")
    with pytest.raises(CheckpointError, match="checkpoint_dir is a file"):
        _tiny_run(tmp_path)


def test_loading_a_folder_or_a_missing_file_names_it(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="missing.pt: no checkpoint there"):
        load_checkpoint(tmp_path / "missing.pt")


def test_resuming_a_finished_run_with_the_same_epochs_is_not_an_error(tmp_path):
    path = _finished(tmp_path)
    saved, before = load_checkpoint(path), path.read_bytes()
    model, history = _train(_tiny_run(tmp_path, epochs=1, resume=True))  # nothing left to do; says nothing wrong
    # no step taken: the finished run's weights and history come back, and its checkpoint is left as it was
    assert history.epochs == saved["history"] and len(history.epochs) == 1
    assert all(torch.equal(v, saved["model"][k]) for k, v in model.state_dict().items())
    assert path.read_bytes() == before
