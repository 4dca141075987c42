"""fit's options that only the training scripts use: a scheduler survives an interruption, momentum reaches the
optimiser, a caller's optimiser is the one stepped, and amp switches bfloat16 autocast on CUDA only."""

import warnings
from contextlib import nullcontext

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from labkit.train import TrainConfig, _autocast, fit, load_checkpoint, make_optimizer, save_checkpoint


class Interrupted(Exception):
    pass


def _data() -> TensorDataset:
    g = torch.Generator().manual_seed(1)
    return TensorDataset(torch.randn(40, 3, generator=g), torch.randn(40, 1, generator=g))


def _model() -> nn.Module:
    torch.manual_seed(5)
    return nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.3), nn.Linear(8, 1))


def _scheduled_run(ckpt, *, resume=False, stop_at=0, epochs=4):
    """SGD with momentum and a LambdaLR decay (as tools/train_ram.py), 5 steps an epoch, checkpoints every 3 steps;
    ``stop_at`` interrupts the run at that step (mid-epoch 3 for 13), as a crash would."""
    data, model = _data(), _model()
    cfg = TrainConfig(epochs=epochs, batch_size=8, lr=0.05, optimizer="sgd", momentum=0.9, checkpoint_dir=str(ckpt),
                      checkpoint_every=3, resume=resume, progress=False, device="cpu")
    opt = make_optimizer(model.parameters(), cfg)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + e))
    calls = 0

    def step(m, b):
        nonlocal calls
        calls += 1
        if calls == stop_at:
            raise Interrupted
        return ((m(b[0]) - b[1]) ** 2).mean()

    history = fit(model, data, step, cfg, optimizer=opt, scheduler=scheduler)
    return model, history, opt.param_groups[0]["lr"]


def _interrupt(ckpt):
    with pytest.raises(Interrupted):
        _scheduled_run(ckpt, stop_at=13)
    state = load_checkpoint(ckpt / "last.pt")
    assert (state["epoch"], state["batch_in_epoch"], state["global_step"]) == (2, 2, 12)
    assert state["scheduler"]["last_epoch"] == 2
    return state


def test_a_scheduled_run_interrupted_and_resumed_equals_an_uninterrupted_one(tmp_path):
    ref_model, ref_hist, ref_lr = _scheduled_run(tmp_path / "ref")
    assert ref_lr == pytest.approx(0.05 / 5)  # the scheduler stepped once per epoch
    _interrupt(tmp_path / "ckpt")
    model, hist, lr = _scheduled_run(tmp_path / "ckpt", resume=True)
    assert lr == ref_lr
    assert hist.epochs == ref_hist.epochs
    for k, v in ref_model.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k


def test_a_resume_that_loses_the_scheduler_state_ends_elsewhere(tmp_path):
    """The test above can fail: without the scheduler's state the resumed run decays the lr from the start again."""
    _, _, ref_lr = _scheduled_run(tmp_path / "ref")
    state = _interrupt(tmp_path / "ckpt")
    state["scheduler"] = None
    save_checkpoint(tmp_path / "ckpt" / "last.pt", state)
    _, _, lr = _scheduled_run(tmp_path / "ckpt", resume=True)
    assert lr != pytest.approx(ref_lr)


@pytest.mark.parametrize("name", ["sgd", "rmsprop"])
def test_momentum_reaches_the_optimiser(tmp_path, name):
    cfg = TrainConfig(optimizer=name, momentum=0.37, lr=0.01)
    assert make_optimizer(nn.Linear(2, 1).parameters(), cfg).param_groups[0]["momentum"] == 0.37
    model = nn.Linear(3, 1)
    fit(model, _data(), lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(),
        TrainConfig(epochs=1, batch_size=8, optimizer=name, momentum=0.37, lr=0.01, checkpoint_dir=str(tmp_path),
                    progress=False, device="cpu"))
    saved = load_checkpoint(tmp_path / "last.pt")["optimizer"]
    assert saved["param_groups"][0]["momentum"] == 0.37
    assert all("momentum_buffer" in s for s in saved["state"].values())


def test_the_callers_optimizer_is_the_one_stepped():
    model = nn.Linear(3, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # config's adam (lr 1e-3) would move the weights
    fit(model, _data(), lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(),
        TrainConfig(epochs=1, batch_size=8, progress=False, device="cpu"), optimizer=frozen)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


def test_amp_means_bfloat16_autocast_on_cuda_and_nothing_on_cpu():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a CPU-only build warns that CUDA autocast is disabled
        ctx = _autocast(torch.device("cuda"), True)
    assert isinstance(ctx, torch.autocast) and ctx.device == "cuda" and ctx.fast_dtype == torch.bfloat16
    assert isinstance(_autocast(torch.device("cuda"), False), nullcontext)
    assert isinstance(_autocast(torch.device("cpu"), True), nullcontext)


def test_amp_on_cpu_warns_and_changes_nothing():
    runs = {}
    for amp in (False, True):
        model = _model()
        with pytest.warns(UserWarning, match="amp=True is ignored on CPU") if amp else nullcontext():
            fit(model, _data(), lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(),
                TrainConfig(epochs=1, batch_size=8, amp=amp, progress=False, device="cpu"))
        runs[amp] = model.state_dict()
    assert all(torch.equal(runs[True][k], v) for k, v in runs[False].items())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_amp_runs_the_step_under_bfloat16_autocast_on_cuda():
    seen = []

    def step(m, b):
        seen.append(torch.is_autocast_enabled("cuda") and torch.get_autocast_dtype("cuda") == torch.bfloat16)
        return ((m(b[0]).float() - b[1]) ** 2).mean()

    fit(nn.Linear(3, 1), _data(), step, TrainConfig(epochs=1, batch_size=8, amp=True, progress=False, device="cuda"))
    assert seen and all(seen)
