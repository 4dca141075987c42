"""The course's one training loop: ``fit(model, dataset, step, config)``.

Every notebook that trains (ResMem head, AMNet, RAM, attention-LSTM, SA-LSTM) calls this, so the things
that are easy to get subtly wrong are written once:

* seeded, reproducible data order (the epoch's permutation is a function of ``seed`` and the epoch);
* atomic checkpoints (write a temporary file, then ``os.replace``) every N steps and at each epoch end,
  holding model, optimiser, scheduler and RNG states, so ``resume=True`` continues *bit-identically*;
* ``torchrun`` + DistributedDataParallel (gloo on CPU, NCCL on GPU) with a distributed sampler whose
  global batches are the same samples as a single-process run's, so results match;
* bfloat16 autocast on CUDA when ``amp=True`` (ignored on CPU, where it would only slow things down);
* every load is ``torch.load(..., weights_only=True)``: a checkpoint is data, never code.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from labkit.core.env import device as resolve_device
from labkit.core.env import seed_everything
from labkit.core.errors import CheckpointError
from labkit.core.files import load_model_file
from labkit.core.progress import tqdm

StepOutput = torch.Tensor | Mapping[str, torch.Tensor]
StepFn = Callable[[nn.Module, Any], StepOutput]
CHECKPOINT = "last.pt"
BEST = "best.pt"


@dataclass
class TrainConfig:
    """Everything that decides a training run; the fields double as notebook parameters."""

    epochs: int = 1
    batch_size: int = 32  # global batch: split across processes under torchrun
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"  # adam | adamw | sgd | rmsprop
    momentum: float = 0.9  # sgd / rmsprop
    grad_clip: float | None = None  # max global grad norm
    seed: int = 0  # data order: every epoch's permutation is drawn from it (no unshuffled or drop-last mode)
    checkpoint_dir: str | None = None
    checkpoint_every: int = 0  # steps between checkpoints; 0: only at epoch ends
    resume: bool = False
    amp: bool = False  # bfloat16 autocast on CUDA
    device: str = "auto"
    progress: bool = True
    # Model selection on a *validation* metric that eval_fn returns (e.g. "val_acc"): the best epoch's weights are
    # kept (in memory, and as best.pt beside last.pt) and put back into the model when training ends, so test
    # figures are taken once, at the best validation epoch, never by picking epochs on the test set.
    monitor: str | None = None
    monitor_mode: str = "max"  # max | min

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "seed", "checkpoint_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or (name in ("epochs", "batch_size") and v < 1):
                raise ValueError(f"TrainConfig.{name} must be a {'positive' if name != 'seed' else ''} int, got {v!r}")
        if self.optimizer not in ("adam", "adamw", "sgd", "rmsprop"):
            raise ValueError(f"TrainConfig.optimizer must be adam, adamw, sgd or rmsprop, got {self.optimizer!r}")
        if not isinstance(self.lr, int | float) or self.lr <= 0:
            raise ValueError(f"TrainConfig.lr must be a positive number, got {self.lr!r}")
        if self.monitor_mode not in ("max", "min"):
            raise ValueError(f"TrainConfig.monitor_mode must be 'max' or 'min', got {self.monitor_mode!r}")
        if self.resume and not self.checkpoint_dir:
            raise ValueError("TrainConfig.resume=True needs a checkpoint_dir to resume from")
        if self.checkpoint_dir is not None and Path(self.checkpoint_dir).exists() and not Path(self.checkpoint_dir).is_dir():
            # Found now, not after the first epoch's work when the first checkpoint is written.
            raise CheckpointError("checkpoint_dir is a file, not a folder", path=self.checkpoint_dir,
                                  fix="name a folder (it is created if missing)")


@dataclass
class History:
    """Per-epoch means of everything the step logged, plus the eval metrics (drawn by ``labkit.viz.curves.plot_history``)."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None  # 1-based epoch whose weights the model holds after fit() with a monitor

    def __getitem__(self, key: str) -> list[float]:
        return [e[key] for e in self.epochs if key in e]

    @property
    def last(self) -> dict[str, float]:
        return self.epochs[-1] if self.epochs else {}


# --------------------------------------------------------------------------- distributed helpers
def _dist_info() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def _init_distributed(dev: torch.device) -> None:
    if dist.is_available() and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")


class _SkipSampler(Sampler[int]):
    """The distributed sampler's indices for one epoch, minus the ones a resumed run already consumed."""

    def __init__(self, base: DistributedSampler, skip: int) -> None:
        self.base, self.skip = base, skip

    def __iter__(self) -> Iterator[int]:
        return iter(list(self.base)[self.skip :])

    def __len__(self) -> int:
        return max(0, len(self.base) - self.skip)


# --------------------------------------------------------------------------- state helpers
def _rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": [list(x) if isinstance(x, tuple) else x for x in random.getstate()],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any], path: Path | None = None) -> None:
    try:
        torch.set_rng_state(state["torch"])
        n = state["numpy"]
        np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise CheckpointError(f"its random-generator state is malformed ({type(e).__name__}: {e}), so the resumed run "
                              "could not repeat the interrupted one", path=path,
                              fix="resume from an intact checkpoint or start afresh in an empty checkpoint_dir") from None


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write atomically: a crash mid-write leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint as data only (``weights_only=True``), with a clear error if it is unusable
    (:func:`labkit.core.files.load_model_file`, the one checked read of a model file)."""
    return load_model_file(path, "checkpoint", "check the path or train first", map_location=map_location)


RESUME_KEYS = ("model", "optimizer", "epoch", "batch_in_epoch", "global_step", "history", "rng", "partial")


def _resume_state(path: Path, dev: torch.device, epochs: int) -> dict[str, Any]:
    """The checkpoint ``fit`` resumes from, checked before anything is restored (a half-restored run is worse)."""
    state = load_checkpoint(path, map_location=dev)
    missing = [k for k in RESUME_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"lacks {', '.join(missing)}, so training cannot resume from it (a weights-only file?)",
                              path=path, fix="load weights with load_state_dict, or resume from a file fit() wrote")
    for k in ("epoch", "batch_in_epoch", "global_step"):
        if not isinstance(state[k], int) or isinstance(state[k], bool) or state[k] < 0:
            raise CheckpointError(f"its {k} is {state[k]!r}, not a whole number >= 0", path=path)
    if state["epoch"] > epochs or (state["epoch"] == epochs and state["batch_in_epoch"]):
        raise CheckpointError(f"it is at epoch {state['epoch']} but this run has only epochs={epochs}; resuming "
                              "would return without training", path=path,
                              fix=f"set epochs above {state['epoch']} to train on, or use an empty checkpoint_dir")
    return state


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                               centered=True)


def to_device(batch: Any, dev: torch.device) -> Any:
    """Move tensors inside tuples / lists / dicts to ``dev``; leave everything else alone."""
    if isinstance(batch, torch.Tensor):
        return batch.to(dev, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, dev) for k, v in batch.items()}
    if isinstance(batch, tuple | list):
        return type(batch)(to_device(v, dev) for v in batch)
    return batch


def _as_logs(out: StepOutput) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(out, torch.Tensor):
        loss, extra = out, {}
    elif isinstance(out, Mapping) and "loss" in out:
        loss = out["loss"]
        extra = {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for k, v in out.items() if k != "loss"}
    else:
        raise TypeError("the step function must return a loss tensor or a dict with a 'loss' entry")
    if loss.dim() != 0:
        raise ValueError(f"the step's loss must be a scalar, got shape {tuple(loss.shape)}")
    return loss, {"loss": float(loss.detach()), **extra}


# --------------------------------------------------------------------------- the loop
def _autocast(dev: torch.device, amp: bool) -> AbstractContextManager:
    """bfloat16 autocast on CUDA when ``amp`` asks for it; nothing otherwise (on CPU it would only slow things down)."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if amp and dev.type == "cuda" else nullcontext()


class _Run:
    """One call of :func:`fit`: where it trains, what it updates, where it checkpoints and how far it has got.

    ``fit`` reads as its three parts: :meth:`restore` (where to start), :meth:`run_epoch` (one pass over the data,
    checkpointing every N steps) and :meth:`select_best` (keep the best validation epoch's weights).
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, optimizer: torch.optim.Optimizer | None,
                 scheduler: Any) -> None:
        self.model, self.cfg, self.scheduler = model, cfg, scheduler
        self.rank, self.world, local_rank = _dist_info()
        dev = resolve_device(cfg.device)
        if dev.type == "cuda" and self.world > 1:
            dev = torch.device("cuda", local_rank)
            torch.cuda.set_device(dev)
        if self.world > 1:
            _init_distributed(dev)
            if cfg.batch_size % self.world:
                raise ValueError(f"global batch_size {cfg.batch_size} must divide evenly over {self.world} processes")
        self.dev = dev
        seed_everything(cfg.seed)
        model.to(dev)
        self.net: nn.Module = nn.parallel.DistributedDataParallel(model) if self.world > 1 else model
        self.opt = optimizer or make_optimizer([p for p in model.parameters() if p.requires_grad], cfg)
        if cfg.amp and dev.type != "cuda":
            warnings.warn("amp=True is ignored on CPU (bfloat16 autocast only pays off on GPUs)", stacklevel=3)
        self.history = History()
        self.best_state: dict[str, torch.Tensor] | None = None  # weights of the best validation epoch so far
        self.global_step = 0
        self.ckpt_path = Path(cfg.checkpoint_dir) / CHECKPOINT if cfg.checkpoint_dir else None

    def restore(self) -> tuple[int, int, dict[str, Any]]:
        """(epoch, batches of it already done, that epoch's running sums) to start from: the checkpoint's under
        ``resume=True`` (model, optimiser, scheduler, history, best weights and RNG state put back), else the start."""
        path = self.ckpt_path
        if path is not None and self.rank == 0:
            path.parent.mkdir(parents=True, exist_ok=True)  # an unwritable folder fails now, not after an epoch
        if not (self.cfg.resume and path is not None and path.exists()):
            return 0, 0, {"sums": {}, "count": 0}
        state = _resume_state(path, self.dev, self.cfg.epochs)
        try:
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state.get("scheduler") is not None:
                self.scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"does not fit this model or optimiser ({str(e).splitlines()[0][:300]})",
                                  path=path, fix="resume with the same model and settings that wrote it") from None
        self.history = History([dict(e) for e in state["history"]], state.get("best_epoch"))
        self.best_state = state.get("best_model")
        self.global_step = state["global_step"]
        _set_rng_state(state["rng"], path)
        return state["epoch"], state["batch_in_epoch"], state["partial"]

    def checkpoint(self, epoch: int, batch_in_epoch: int, sums: dict[str, float], count: int) -> None:
        if self.ckpt_path is None or self.rank != 0:
            return
        save_checkpoint(self.ckpt_path, {
            "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": epoch, "batch_in_epoch": batch_in_epoch, "global_step": self.global_step,
            "history": self.history.epochs, "rng": _rng_state(), "config": asdict(self.cfg),
            "partial": {"sums": dict(sums), "count": count},
            "best_epoch": self.history.best_epoch, "best_model": self.best_state,
        })

    def run_epoch(self, dataset: Dataset, step: StepFn, collate_fn: Callable | None, epoch: int, skip: int,
                  partial: dict[str, Any]) -> dict[str, float]:
        """Train one epoch (its first ``skip`` batches already done, their sums in ``partial``); its mean logs."""
        cfg, per_rank = self.cfg, self.cfg.batch_size // self.world
        sampler = DistributedSampler(dataset, num_replicas=self.world, rank=self.rank, shuffle=True, seed=cfg.seed)
        sampler.set_epoch(epoch)
        if hasattr(dataset, "set_epoch"):  # a dataset that redraws its augmentation each epoch (fresh placements)
            dataset.set_epoch(epoch)
        # The loader gets its own generator: creating its iterator would otherwise draw a worker seed from
        # the global RNG at every epoch start, and a run resumed mid-epoch would draw it once more.
        loader = DataLoader(dataset, batch_size=per_rank, sampler=_SkipSampler(sampler, skip * per_rank),
                            collate_fn=collate_fn, generator=torch.Generator().manual_seed(cfg.seed * 100_003 + epoch))
        sums: dict[str, float] = dict(partial["sums"]) if skip else {}
        count = int(partial["count"]) if skip else 0
        self.net.train()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not cfg.progress or self.rank != 0,
                   leave=False, dynamic_ncols=True)
        for i, batch in enumerate(bar, start=skip):
            logs = self._update(step, to_device(batch, self.dev), f"epoch {epoch + 1}, step {i + 1}")
            self.global_step += 1
            count += 1
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.set_postfix({k: f"{v / count:.4f}" for k, v in sums.items()})
            if cfg.checkpoint_every and self.global_step % cfg.checkpoint_every == 0:
                self.checkpoint(epoch, i + 1, sums, count)
        if self.scheduler is not None:
            self.scheduler.step()
        return {"epoch": epoch + 1, **{k: v / max(count, 1) for k, v in sums.items()}}

    def _update(self, step: StepFn, batch: Any, where: str) -> dict[str, float]:
        """One optimiser step on ``batch``; the step's logs."""
        with _autocast(self.dev, self.cfg.amp):
            loss, logs = _as_logs(step(self.net, batch))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {logs['loss']} at {where}; lower lr?")
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        return logs

    def evaluate(self, eval_fn: Callable[[nn.Module], Mapping[str, float]]) -> dict[str, float]:
        self.net.eval()
        with torch.inference_mode():
            return {k: float(v) for k, v in eval_fn(self.model).items()}

    def select_best(self, row: dict[str, float]) -> None:
        """Keep the weights of ``row``'s epoch (in memory and as best.pt) if its monitored metric is the best yet."""
        monitor = self.cfg.monitor
        if monitor not in row:
            raise KeyError(f"TrainConfig.monitor={monitor!r}, but eval_fn returned only {sorted(row)}")
        h = self.history
        best = None if h.best_epoch is None else h.epochs[h.best_epoch - 1][monitor]
        if best is not None and not (row[monitor] > best if self.cfg.monitor_mode == "max" else row[monitor] < best):
            return
        h.best_epoch = int(row["epoch"])
        self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.ckpt_path is not None and self.rank == 0:
            save_checkpoint(self.ckpt_path.with_name(BEST), {"model": self.best_state, "epoch": h.best_epoch,
                                                             monitor: row[monitor]})

    def finish(self) -> History:
        """Put the best validation epoch's weights back (with a monitor) and leave the model in eval mode."""
        cfg = self.cfg
        if cfg.monitor and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
            if self.rank == 0 and cfg.progress:
                print(f"kept epoch {self.history.best_epoch} (best {cfg.monitor})")
        self.model.eval()
        return self.history


def fit(
    model: nn.Module,
    dataset: Dataset,
    step: StepFn,
    config: TrainConfig | None = None,
    *,
    eval_fn: Callable[[nn.Module], Mapping[str, float]] | None = None,
    collate_fn: Callable | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
) -> History:
    """Train ``model`` in place on ``dataset``; ``step(model, batch)`` returns the loss (or a dict of logs).

    ``optimizer`` (default: :func:`make_optimizer` from the config) and an epoch-wise ``scheduler`` (stepped at each
    epoch end) are saved in and restored from the checkpoint with everything else.
    """
    cfg = config or TrainConfig()
    if cfg.monitor and eval_fn is None:
        raise ValueError(f"TrainConfig.monitor={cfg.monitor!r} needs an eval_fn that returns it")
    run = _Run(model, cfg, optimizer, scheduler)
    start_epoch, skip, partial = run.restore()
    for epoch in range(start_epoch, cfg.epochs):
        row = run.run_epoch(dataset, step, collate_fn, epoch, skip if epoch == start_epoch else 0, partial)
        if eval_fn is not None:
            row.update(run.evaluate(eval_fn))
        run.history.epochs.append(row)
        if cfg.monitor:
            run.select_best(row)
        run.checkpoint(epoch + 1, 0, {}, 0)
        if run.rank == 0 and cfg.progress:
            print(f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items() if k != "epoch"))
    return run.finish()
