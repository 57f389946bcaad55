"""The epoch loop the deep families share: mixed precision, early stopping, progress, checkpoints and resume.

A checkpoint is an artifact archive (numpy arrays and JSON, never pickle) of the weights, the optimizer's and
the scheduler's state, the epochs done and the best weights so far. Every random draw of an epoch is seeded
from (seed, epoch), so a fit resumed after epoch e runs epoch e + 1 exactly as the uninterrupted fit would have.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.nn import functional

from altostratus.dl import artifact
from altostratus.dl.classifier import EpochProgress, Progress

CHECKPOINT = "checkpoint"
DEVICES = ("auto", "cpu", "cuda", "cuda:N")

Batches = Callable[[int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
"""An epoch's training batches from its seed (the fit's seed plus the epoch from 0): inputs, class indices."""


class Checkpoints(Protocol):
    """Where a fit keeps its last checkpoint, so that an interrupted fit can go on."""

    def load(self) -> bytes | None:
        """The last checkpoint saved, or None when there is none."""
        ...

    def save(self, data: bytes) -> None:
        """Keep `data` as the last checkpoint (replacing the one before)."""
        ...


@dataclasses.dataclass(frozen=True)
class Loop:
    """How to run the epochs: the parameters of a fit that are not the network's or the optimizer's."""

    epochs: int
    patience: int | None
    seed: int
    device: torch.device
    mixed_precision: bool
    progress: Progress | None = None
    checkpoint: Checkpoints | None = None
    identity: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Record:
    """What the loop knows between epochs besides the weights; `history` holds each epoch's progress."""

    epoch: int = 0
    best_accuracy: float | None = None
    stale: int = 0
    stopped: bool = False
    history: list[EpochProgress] = dataclasses.field(default_factory=list)
    best: dict[str, torch.Tensor] | None = None


@dataclasses.dataclass
class Training:
    """What a family hands the loop: the module whose state is trained and how to get logits of a batch."""

    module: nn.Module
    logits: Callable[[torch.Tensor], torch.Tensor]
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    batches: Batches
    accuracy: Callable[[], float] | None


def resolve_device(device: str) -> torch.device:
    """'auto' as CUDA when torch sees a GPU, else the CPU; 'cpu', 'cuda' and 'cuda:N' as they are."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu" or device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        return torch.device(device)
    raise ValueError(f"device={device!r}; expected one of {list(DEVICES)}")


def autocast_dtype(device: torch.device, mixed_precision: bool) -> torch.dtype | None:
    """float16 on CUDA; bfloat16 on a CPU that computes it natively (AVX512-BF16 or AMX); else None: float32.

    On such a CPU bfloat16 fits the MNIST CNN a fifth faster for the same accuracy; a CPU without it would
    emulate bfloat16 and be slower than in float32.
    """
    if not mixed_precision:
        return None
    if device.type == "cuda":
        return torch.float16
    # torch.cpu has no public test of these instruction sets; the private ones exist since torch 2.1
    checks = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return torch.bfloat16 if device.type == "cpu" and any(check is not None and check() for check in checks) else None


def autocast(device: torch.device, dtype: torch.dtype | None) -> torch.autocast:
    """Autocast to `dtype` on the device, or a context that changes nothing when it is None."""
    return torch.autocast(device_type=device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def one_cycle(
    optimizer: torch.optim.Optimizer, peaks: list[float], epochs: int, steps_per_epoch: int
) -> torch.optim.lr_scheduler.OneCycleLR:
    """The one-cycle schedule over the whole fit: warm up to each group's peak rate, then anneal (cosine)."""
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=epochs * max(steps_per_epoch, 1))


def run(loop: Loop, training: Training) -> Record:
    """Train from the checkpoint (or from the start) to the end or an early stop; the best weights are loaded."""
    dtype = autocast_dtype(loop.device, loop.mixed_precision)
    # float16 needs its gradients scaled to stay out of the underflow; bfloat16 has float32's range
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    record = _resume(loop, training, scaler)
    while record.epoch < loop.epochs and not record.stopped:
        loss, speed = _epoch(training, loop.seed + record.epoch, scaler, dtype)
        accuracy = None if training.accuracy is None else training.accuracy()
        _advance(record, training.module, loop.patience, accuracy)
        report = EpochProgress(record.epoch, loop.epochs, loss, accuracy, speed)
        record.history.append(report)
        if loop.checkpoint is not None:
            loop.checkpoint.save(_checkpoint(loop, training, scaler, record))
        if loop.progress is not None:
            loop.progress(report)
    if record.best is not None:
        training.module.load_state_dict(record.best)
    return record


def _epoch(
    training: Training, seed: int, scaler: torch.amp.GradScaler, dtype: torch.dtype | None
) -> tuple[float, float]:
    """One pass over the training batches: the mean loss and the images per second."""
    torch.manual_seed(seed)  # dropout and drop-connect: the same draws whether resumed or not
    training.module.train()
    total = torch.zeros(())
    images, started = 0, time.perf_counter()
    for inputs, targets in training.batches(seed):
        with autocast(inputs.device, dtype):
            loss = functional.cross_entropy(training.logits(inputs), targets)
        training.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(scaler.scale(loss))
        scaler.step(training.optimizer)
        scaler.update()
        training.scheduler.step()
        # summed on the device: one synchronisation per epoch, not per batch
        total = total.to(loss.device) + loss.detach().float() * len(targets)
        images += len(targets)
    seconds = max(time.perf_counter() - started, 1e-9)
    return float(total) / max(images, 1), images / seconds


def _advance(record: Record, module: nn.Module, patience: int | None, accuracy: float | None) -> None:
    """Count the epoch; keep the weights when the validation accuracy is the best yet; stop when stale."""
    record.epoch += 1
    if accuracy is None:
        return
    if record.best_accuracy is None or accuracy > record.best_accuracy:
        record.best_accuracy, record.stale = accuracy, 0
        record.best = {name: value.detach().clone() for name, value in module.state_dict().items()}
        return
    record.stale += 1
    record.stopped = patience is not None and record.stale >= patience


def _checkpoint(loop: Loop, training: Training, scaler: torch.amp.GradScaler, record: Record) -> bytes:
    """The state after an epoch as an artifact archive."""
    optimizer = training.optimizer.state_dict()
    arrays = _arrays("model", training.module.state_dict())
    if record.best is not None:
        arrays |= _arrays("best", record.best)
    for index, state in optimizer["state"].items():
        arrays |= _arrays(f"optimizer.{index}", state)
    config = {
        "identity": dict(loop.identity),
        "epoch": record.epoch,
        "best_accuracy": record.best_accuracy,
        "stale": record.stale,
        "stopped": record.stopped,
        "history": [dataclasses.astuple(report) for report in record.history],
        "optimizer_groups": optimizer["param_groups"],
        "optimizer_indices": sorted(optimizer["state"]),
        "scheduler": training.scheduler.state_dict(),
        "scaler": scaler.state_dict(),
    }
    return artifact.pack(CHECKPOINT, config, arrays)


def _resume(loop: Loop, training: Training, scaler: torch.amp.GradScaler) -> Record:
    """The record of the last checkpoint, its state loaded into the module, optimizer and scheduler."""
    data = None if loop.checkpoint is None else loop.checkpoint.load()
    if data is None:
        return Record()
    family, config, arrays = artifact.unpack(data)
    if family != CHECKPOINT or config.get("identity") != dict(loop.identity):
        raise artifact.ArtifactInvalid("the checkpoint was written by another fit (other parameters or data)")
    training.module.load_state_dict(_tensors("model", arrays, loop.device))
    cpu = torch.device("cpu")  # load_state_dict moves each state to its parameter's device
    states = {int(index): _tensors(f"optimizer.{index}", arrays, cpu) for index in config["optimizer_indices"]}
    training.optimizer.load_state_dict({"state": states, "param_groups": config["optimizer_groups"]})
    training.scheduler.load_state_dict(config["scheduler"])
    if config["scaler"] and scaler.is_enabled():
        scaler.load_state_dict(config["scaler"])  # none when the checkpoint was written without mixed precision
    best = _tensors("best", arrays, loop.device) if config["best_accuracy"] is not None else None
    history = [EpochProgress(*report) for report in config["history"]]
    stale, stopped = int(config["stale"]), bool(config["stopped"])
    return Record(int(config["epoch"]), config["best_accuracy"], stale, stopped, history, best)


def _arrays(prefix: str, state: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
    """A state dict's tensors as numpy arrays named prefix.key."""
    return {f"{prefix}.{key}": value.detach().cpu().numpy() for key, value in state.items()}


def _tensors(prefix: str, arrays: Mapping[str, NDArray[Any]], device: torch.device) -> dict[str, torch.Tensor]:
    """The arrays named prefix.key as a state dict of tensors on `device`."""
    start = len(prefix) + 1
    return {
        name[start:]: torch.from_numpy(np.array(value)).to(device)
        for name, value in arrays.items()
        if name.startswith(f"{prefix}.")
    }
