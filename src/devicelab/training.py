"""The course's training loop, timed in equal blocks of epochs, so a result carries a median
time per epoch and its spread, not just one number."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import torch
from torch import nn

from .data import IrisData, load_iris
from .devices import resolve_device
from .models import MLP
from .steps import course_step, run_steps
from .timing import BlockTimes, timed_blocks

__all__ = ["TrainResult", "accuracy", "course_run", "train"]


@dataclass(frozen=True, kw_only=True)
class TrainResult(BlockTimes):
    """What one timed training run measured: ``losses`` are the recorded ``(epoch, loss)``
    pairs, each a ``loss.item()``; ``block_epoch_times_s`` the seconds per epoch of each block."""

    device: str
    epochs: int
    lr: float
    record_every: int | None
    losses: list[tuple[int, float]]
    wall_time_s: float
    block_epoch_times_s: list[float]
    final_loss: float
    train_accuracy: float
    test_accuracy: float

    @property
    def syncs(self) -> int:
        """How many ``loss.item()`` calls the run made."""
        return len(self.losses)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of ``X`` whose highest-scoring class equals ``y``."""
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def _check_settings(epochs: int, lr: float, record_every: int | None) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if record_every is not None and (
        isinstance(record_every, bool)
        or not isinstance(record_every, int)
        or not 1 <= record_every <= epochs
    ):
        raise ValueError(
            f"record_every must be None (read the loss once, at the end) or an integer from 1 "
            f"to epochs={epochs}, got {record_every!r}"
        )


def train(
    model: nn.Module,
    data: IrisData,
    *,
    epochs: int = 20_000,
    lr: float = 0.01,
    device: str | torch.device | None = "cpu",
    record_every: int | None = 1,
    warmup_epochs: int = 50,
) -> TrainResult:
    """Train ``model`` (in place, on ``device``) full-batch on ``data`` with the course's step
    (:func:`devicelab.steps.course_step`), and time it in blocks
    (:func:`devicelab.timing.timed_blocks`).

    Parameters
    ----------
    record_every:
        Call ``loss.item()`` every this many epochs (1: every epoch, as the course does), or
        None to read the loss once, after the last epoch.
    warmup_epochs:
        Epochs run on a throw-away copy of the model before timing, so one-off set-up stays
        out of the figures.

    Raises
    ------
    ValueError
        Non-positive ``epochs`` or ``lr``, or a ``record_every`` that is not None or an
        integer in ``1..epochs``.
    """
    _check_settings(epochs, lr, record_every)
    device = resolve_device(device)
    model.to(device)
    data = data.to(device)

    if warmup_epochs > 0:
        warm = course_step(copy.deepcopy(model), data, lr=lr, sync_every=record_every)
        run_steps(warm, 1, warmup_epochs)
    spec = course_step(model, data, lr=lr, sync_every=record_every)
    losses: list[tuple[int, float]] = []
    last_loss: list[torch.Tensor | None] = [None]

    def run(first: int, last: int) -> None:
        last_loss[0] = run_steps(spec, first, last, losses=losses)

    wall, block_times = timed_blocks(run, epochs, device)  # 20 blocks
    final_loss = last_loss[0].item()
    if record_every is None:
        losses.append((epochs, final_loss))
    return TrainResult(
        device=str(device),
        epochs=epochs,
        lr=lr,
        record_every=record_every,
        losses=losses,
        wall_time_s=wall,
        block_epoch_times_s=block_times,
        final_loss=final_loss,
        train_accuracy=accuracy(model, data.X_train, data.y_train),
        test_accuracy=accuracy(model, data.X_test, data.y_test),
    )


def course_run(
    device: str | torch.device | None = "cpu",
    *,
    record_every: int | None = 1,
    epochs: int = 20_000,
    seed: int = 0,
) -> TrainResult:
    """The course's experiment: a fresh seeded 4-10-3 MLP trained on Iris with :func:`train`,
    once per process for each set of arguments (``course_run.cache_clear()`` forgets them)."""
    return _cached_course_run(str(resolve_device(device)), record_every, epochs, seed)


@functools.cache
def _cached_course_run(
    device: str, record_every: int | None, epochs: int, seed: int
) -> TrainResult:
    torch.manual_seed(seed)
    return train(MLP(), load_iris(), epochs=epochs, device=device, record_every=record_every)


course_run.cache_clear = _cached_course_run.cache_clear  # type: ignore[attr-defined]
