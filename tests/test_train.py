"""The training loop: reproducible, resumable after a real kill, equal under 2-process DDP."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import labkit_env
from torch import nn
from torch.utils.data import TensorDataset

from labkit.core.errors import CheckpointError
from labkit.train import History, TrainConfig, fit, load_checkpoint, save_checkpoint

JOB = Path(__file__).with_name("train_job.py")
ENV = labkit_env({"OMP_NUM_THREADS": "1"})


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(JOB), *args], env=ENV, capture_output=True, text=True,
                          timeout=timeout, check=True)


def _weights(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def test_same_seed_gives_identical_weights(tmp_path):
    _run("--out", str(tmp_path / "a.pt"))
    _run("--out", str(tmp_path / "b.pt"))
    a, b = _weights(tmp_path / "a.pt"), _weights(tmp_path / "b.pt")
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert a["loss"] == b["loss"]
    assert a["loss"][-1] < a["loss"][0], "training did not reduce the loss"


# 8 steps per epoch, checkpoints every 3 steps and at epoch ends: step 11 dies mid-epoch 2 after the step-9
# checkpoint (resume replays 10 and 11 with the right RNG and data order); step 17 dies right after the
# epoch-end checkpoint at 16 (resume starts a fresh epoch).
@pytest.mark.parametrize("die_at, resumed_from", [(11, (1, 1, 9)), (17, (2, 0, 16))])
def test_killed_run_resumes_to_the_same_weights(tmp_path, die_at, resumed_from):
    _run("--out", str(tmp_path / "ref.pt"))
    ckpt = tmp_path / "ckpt"
    proc = subprocess.run([sys.executable, str(JOB), "--out", str(tmp_path / "killed.pt"), "--ckpt", str(ckpt),
                           "--every", "3", "--die-at", str(die_at)], env=ENV, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert not (tmp_path / "killed.pt").exists(), "the run finished before it was killed"
    state = load_checkpoint(ckpt / "last.pt")
    assert (state["epoch"], state["batch_in_epoch"], state["global_step"]) == resumed_from
    _run("--out", str(tmp_path / "resumed.pt"), "--ckpt", str(ckpt), "--every", "3", "--resume")
    ref, res = _weights(tmp_path / "ref.pt"), _weights(tmp_path / "resumed.pt")
    for k in ref["model"]:
        assert torch.equal(ref["model"][k], res["model"][k]), f"{k} differs after resume"
    assert res["loss"] == pytest.approx(ref["loss"], rel=1e-9)


def test_resume_with_a_wrong_rng_state_ends_elsewhere(tmp_path):
    """The test above can fail: a run that does not restore the RNG state ends elsewhere."""
    _run("--out", str(tmp_path / "ref.pt"))
    ckpt = tmp_path / "ckpt"
    subprocess.run([sys.executable, str(JOB), "--out", str(tmp_path / "k.pt"), "--ckpt", str(ckpt), "--every", "3",
                    "--die-at", "11"], env=ENV, capture_output=True, timeout=120)
    state = load_checkpoint(ckpt / "last.pt")
    state["rng"]["torch"] = torch.manual_seed(999).get_state()
    save_checkpoint(ckpt / "last.pt", state)
    _run("--out", str(tmp_path / "resumed.pt"), "--ckpt", str(ckpt), "--every", "3", "--resume")
    ref, res = _weights(tmp_path / "ref.pt"), _weights(tmp_path / "resumed.pt")
    assert not all(torch.equal(ref["model"][k], res["model"][k]) for k in ref["model"])


def test_torchrun_two_process_ddp_equals_single_process(tmp_path):
    _run("--out", str(tmp_path / "single.pt"), "--dropout", "0")
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                    str(JOB), "--out", str(tmp_path / "ddp.pt"), "--dropout", "0"],
                   env=ENV, capture_output=True, text=True, timeout=180, check=True)
    single, ddp = _weights(tmp_path / "single.pt"), _weights(tmp_path / "ddp.pt")
    for k in single["model"]:
        torch.testing.assert_close(ddp["model"][k], single["model"][k], rtol=1e-5, atol=1e-6)


def test_checkpoint_is_atomic_and_loaded_as_data_only(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"w": torch.ones(2)})
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"], "temporary file left behind"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be loaded safely"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_bad_config_and_bad_step_outputs_are_clear_errors():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        TrainConfig(resume=True)
    data = TensorDataset(torch.randn(8, 2), torch.randn(8))
    model = nn.Linear(2, 1)
    cfg = TrainConfig(epochs=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="scalar"):
        fit(model, data, lambda m, b: m(b[0]), cfg)
    with pytest.raises(TypeError, match="'loss'"):
        fit(model, data, lambda m, b: {"acc": torch.tensor(1.0)}, cfg)
    with pytest.raises(FloatingPointError, match="lower lr"):
        fit(model, data, lambda m, b: m(b[0]).sum() * float("nan"), cfg)


def test_history_logs_extras_and_eval_metrics():
    data = TensorDataset(torch.randn(16, 2), torch.randn(16))
    model = nn.Linear(2, 1)

    def step(m, b):
        loss = (m(b[0]).squeeze(1) - b[1]).pow(2).mean()
        return {"loss": loss, "half": loss / 2}

    h = fit(model, data, step, TrainConfig(epochs=2, batch_size=8, progress=False),
            eval_fn=lambda m: {"val": 1.5})
    assert isinstance(h, History) and len(h.epochs) == 2
    assert h["half"] == pytest.approx([x / 2 for x in h["loss"]])
    assert h["val"] == [1.5, 1.5]
    assert not model.training


def _selection_run(tmp_path, monitor, mode="max", epochs=5):
    """A regression whose validation score is scripted per epoch, so the best epoch is known in advance."""
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 3), torch.randn(16, 1))
    model = nn.Linear(3, 1)
    scores = iter([0.2, 0.7, 0.5, 0.9, 0.1])
    snapshots = {}

    def eval_fn(m):
        epoch = len(snapshots) + 1
        snapshots[epoch] = m.weight.detach().clone()
        return {"val_score": next(scores)}

    cfg = TrainConfig(epochs=epochs, batch_size=4, checkpoint_dir=str(tmp_path), monitor=monitor,
                      monitor_mode=mode, progress=False)
    hist = fit(model, data, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), cfg, eval_fn=eval_fn)
    return model, hist, snapshots


def test_fit_keeps_the_best_validation_epoch(tmp_path):
    model, hist, snaps = _selection_run(tmp_path, "val_score")
    assert hist.best_epoch == 4
    assert torch.equal(model.weight, snaps[4]) and not torch.equal(model.weight, snaps[5])
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == 4 and best["val_score"] == 0.9 and torch.equal(best["model"]["weight"], snaps[4])
    model, hist, snaps = _selection_run(tmp_path / "min", "val_score", mode="min")
    assert hist.best_epoch == 5 and torch.equal(model.weight, snaps[5])


def test_fit_without_a_monitor_keeps_the_last_epoch(tmp_path):
    model, hist, snaps = _selection_run(tmp_path, None)
    assert hist.best_epoch is None and torch.equal(model.weight, snaps[5])


def test_a_monitor_the_eval_does_not_return_is_an_error(tmp_path):
    with pytest.raises(KeyError, match="val_acc"):
        _selection_run(tmp_path, "val_acc")
