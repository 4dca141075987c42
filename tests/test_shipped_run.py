"""tools/shipped_run.py: every checkpoint-training script runs through one ShippedRun, so each resumes its run folder
(a second invocation trains nothing and ships the same weights), records the same report fields, writes its curve at
one precision and words its licence in one place."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import torch
from helpers import TOOLS, load_tool, run_tool

# what every shipped checkpoint's MANIFEST record holds, whichever script trained it
UNIFORM = {"model", "name", "seed", "config", "train", "monitor", "best_epoch", "epochs", "wall_seconds", "heldout",
           "data", "machine", "command"}
TRAIN = {"epochs", "batch_size", "lr", "optimizer"}
# tool -> (smoke arguments, checkpoint name, monitor)
SMOKES = {
    "train_ram": (["translated_2scales_t3", "--steps", "2"], "ram_translated_2scales_t3_learned_s0", "val_acc"),
    "train_video_attention": (["last", "--steps", "2"], "attention_lstm_last_s0", "val_gap"),
    "train_sa_lstm": (["attention", "--steps", "2"], "sa_lstm_attention_s0", "val_digit_acc"),
    "train_video_transformer": (["order", "--steps", "2"], "transformer_order_sinusoidal_s0", "val_acc"),
}
SCRIPTS = [*SMOKES, "train_amnet_pasted"]


def printed_report(stdout: str) -> dict:
    """The report a script prints last (an indented JSON object)."""
    return json.loads(stdout[stdout.rindex("\n{\n") + 1:] if "\n{\n" in stdout else stdout[stdout.index("{\n"):])


def weights_of(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, weights_only=True)
    return state.get("state_dict", state)  # AMNet's files wrap theirs with the config and feature recipe


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def decimals(curve: Path) -> int:
    """The most digits after the decimal point of any number in a curve file."""
    cells = [c for row in csv.reader(curve.open()) for c in row]
    return max((len(m.group(1)) for c in cells if (m := re.fullmatch(r"-?\d+\.(\d+)", c))), default=0)


@pytest.fixture(scope="module", params=sorted(SMOKES))
def twice(request, tmp_path_factory) -> dict:
    """One script's smoke run invoked twice in the same out folder, with what each left behind."""
    tool = request.param
    args, name, monitor = SMOKES[tool]
    out = tmp_path_factory.mktemp(tool)
    run = lambda: run_tool(tool, *args, "--threads", "1", "--out", str(out), timeout=300)  # noqa: E731
    first = run()
    assert first.returncode == 0, first.stderr[-2000:]
    checkpoint = out / ".smoke" / name / "last.pt"
    written = checkpoint.stat().st_mtime_ns
    weights = weights_of(out / f"{name}.pt")
    second = run()
    assert second.returncode == 0, second.stderr[-2000:]
    return {"tool": tool, "name": name, "monitor": monitor, "out": out, "first": first, "second": second,
            "checkpoint_rewritten": checkpoint.stat().st_mtime_ns != written, "weights": weights,
            "weights_again": weights_of(out / f"{name}.pt")}


@pytest.mark.slow
def test_a_smoke_run_invoked_twice_resumes_instead_of_training_again(twice):
    assert "epoch 1:" in twice["first"].stdout, "the first invocation should train its one epoch"
    assert "epoch 1:" not in twice["second"].stdout and not twice["checkpoint_rewritten"], \
        f"{twice['tool']}: the second invocation trained again instead of resuming its finished run"
    assert same_weights(twice["weights"], twice["weights_again"])
    assert printed_report(twice["first"].stdout)["heldout"] == printed_report(twice["second"].stdout)["heldout"]


@pytest.mark.slow
def test_each_script_records_the_uniform_report(twice):
    report = printed_report(twice["first"].stdout)
    assert UNIFORM <= set(report), f"{twice['tool']} lacks {UNIFORM - set(report)}"
    assert TRAIN <= set(report["train"]) and report["train"]["epochs"] == 1
    assert (report["name"], report["seed"], report["monitor"]) == (twice["name"], 0, twice["monitor"])
    assert 1 <= report["best_epoch"] <= report["epochs"] == 1
    assert "CONSTRUCTED" in report["data"]
    assert report["command"].startswith(f"PYTHONPATH=. python tools/{twice['tool']}.py ")
    kept = json.loads((twice["out"] / ".smoke" / twice["name"] / "report.json").read_text())
    assert {k: v for k, v in kept.items() if k in report} == report  # the run folder keeps what was printed
    assert decimals(twice["out"] / f"{twice['name']}_curve.csv") <= 6
    assert not list(twice["out"].glob(".*.tmp")), "weights and curve are written through a temporary file"


@pytest.mark.slow
def test_amnet_smoke_resumes_and_keeps_the_record_shape_notebook_03_reads(tmp_path):
    run = lambda: run_tool("train_amnet_pasted", "--smoke", "--threads", "1", "--out", str(tmp_path))  # noqa: E731
    first = run()
    assert first.returncode == 0, first.stderr[-2000:]
    folder = tmp_path / ".smoke" / "amnet_pasted_attention_s0"
    written = (folder / "last.pt").stat().st_mtime_ns
    weights = weights_of(tmp_path / "amnet_pasted_attention_s0.pt")
    second = run()
    assert second.returncode == 0, second.stderr[-2000:]
    assert (folder / "last.pt").stat().st_mtime_ns == written, "the second --smoke trained again"
    assert same_weights(weights, weights_of(tmp_path / "amnet_pasted_attention_s0.pt"))
    assert printed_report(first.stdout) == printed_report(second.stdout)  # the summary
    record = json.loads((folder / "report.json").read_text())
    assert UNIFORM | {"runs", "summary", "feature_seconds"} <= set(record)
    assert record["heldout"] == record["runs"]["amnet_pasted_attention_s0"]["heldout"]
    assert {"ablation_gap_rho", "mass_ratio_attention_mean"} <= set(record["summary"])
    assert record["monitor"] == "val_rho" and record["model"] == "amnet" and "CONSTRUCTED" in record["data"]


def toy_run(shipped, tmp_path: Path, argv: list[str], smoke: bool = True):
    return shipped.ShippedRun("toy_tool", "toy_s0", tmp_path, family="toy", seed=0, threads=1, smoke=smoke, argv=argv)


def test_finish_writes_weights_curve_and_report_of_the_best_epoch(tmp_path):
    shipped = load_tool("shipped_run")
    run = toy_run(shipped, tmp_path, ["--toy"])
    model = torch.nn.Linear(3, 1)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    run.train_config(epochs=5, batch_size=8, lr=1e-2, monitor="val_loss", monitor_mode="min", progress=False)
    history = run.fit(model, torch.utils.data.TensorDataset(x, y),
                      lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]),
                      eval_fn=lambda m: {"val_loss": float(torch.nn.functional.mse_loss(m(x), y)) / 3})
    report = run.finish(model, history, heldout={"mse": 1.0}, config={"in": 3}, data="CONSTRUCTED noise", show=False)
    assert UNIFORM <= set(report) and report["train"] == {"epochs": 1, "batch_size": 8, "lr": 1e-2, "optimizer": "adam"}
    assert report["command"] == "PYTHONPATH=. python tools/toy_tool.py --toy"
    assert same_weights(model.state_dict(), torch.load(tmp_path / "toy_s0.pt", weights_only=True))
    assert decimals(tmp_path / "toy_s0_curve.csv") <= 6
    assert json.loads((run.dir / "report.json").read_text()) == report
    with pytest.raises(SystemExit, match="not under data/"):
        run.register(report, "a toy")


def test_a_smoke_folder_filled_by_another_command_starts_afresh(tmp_path):
    shipped = load_tool("shipped_run")
    first = toy_run(shipped, tmp_path, ["--steps", "2"])
    (first.dir / "last.pt").write_bytes(b"a checkpoint")
    assert (toy_run(shipped, tmp_path, ["--steps", "2"]).dir / "last.pt").is_file()  # same command: resumed
    assert not (toy_run(shipped, tmp_path, ["--steps", "3"]).dir / "last.pt").exists()  # another: never continued


def test_the_helpers_other_scripts_import_behave_as_before(tmp_path):
    """The building blocks ShippedRun is made of: a smoke clock never resumes unless asked, curves keep 6 digits."""
    shipped = load_tool("shipped_run")
    clock = shipped.WallClock("toy_tool", "toy_s0", tmp_path, smoke=True)
    clock.dir.mkdir(parents=True)
    (clock.dir / "wall_seconds.json").write_text(json.dumps({"seconds": 100.0}))
    assert shipped.WallClock("toy_tool", "toy_s0", tmp_path, smoke=True).before == 0.0
    assert shipped.WallClock("toy_tool", "toy_s0", tmp_path, smoke=True, resume=True).before == 100.0
    curve = shipped.write_curve([{"epoch": 1, "loss": 1 / 3}], tmp_path / "c.csv")
    assert curve.read_text().splitlines() == ["epoch,loss", "1,0.333333"]
    assert shipped.command("x.py", ["a b"]) == "PYTHONPATH=. python tools/x.py 'a b'"
    assert callable(shipped.register_checkpoint) and shipped.machine(2).endswith(", 2 threads")


@pytest.mark.parametrize("tool", SCRIPTS)
def test_licences_are_worded_once_in_shipped_run(tool):
    source = (TOOLS / f"{tool}.py").read_text()
    assert not re.search(r"CC BY|sample-image licence|weights trained here", source), \
        f"{tool}.py words a licence itself: use shipped_run's MNIST_LICENCE / PASTED_OBJECTS_LICENCE"
    assert "ShippedRun(" in source


class Accepted(Exception):
    """Raised where a script would start its run: its command line was accepted."""


def stop(*args, **kwargs):
    raise Accepted


@pytest.mark.parametrize("tool", SCRIPTS)
def test_every_shipped_command_is_a_valid_command_of_its_script(tool, monkeypatch):
    """The MANIFEST's ``command`` (and ``restore``) of every shipped checkpoint still parses: re-running it rebuilds."""
    import shlex

    from labkit.core.assets import load_manifest

    prefix = f"PYTHONPATH=. python tools/{tool}.py"
    commands = {a.training["command"] for a in load_manifest().values()
                if a.training and str(a.training.get("command", "")).startswith(prefix + " ")}
    assert commands, f"no shipped checkpoint records a {tool} command"
    mod = load_tool(tool)
    monkeypatch.setattr(mod, "set_threads" if tool == "train_amnet_pasted" else "ShippedRun", stop)
    for cmd in sorted(commands):
        with pytest.raises(Accepted):
            mod.main(shlex.split(cmd.removeprefix(prefix)))
