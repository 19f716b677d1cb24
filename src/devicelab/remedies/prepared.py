"""What every remedy is made of: its setting, and the prepared unit that trains it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..data import IrisData
from ..models import MLP

__all__ = ["Prepared", "Setting", "check_unroll", "final_loss", "model_from", "weights_loss"]

WEIGHT_KEYS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


@dataclass(frozen=True, kw_only=True)
class Setting:
    """What every variant of one run shares: Iris already on ``device``, the initial weights,
    the epochs each variant will train in all, the epochs per call of an unrolled variant, and
    the models the batched variant trains at once."""

    data: IrisData
    init: dict[str, torch.Tensor]
    lr: float
    device: torch.device
    epochs: int
    unroll: int = 20
    models: int = 32


@dataclass(kw_only=True)
class Prepared:
    """A variant ready to train: ``run(first, last)`` trains epochs ``first..last`` (1-based)
    in place, ``epochs_per_call`` at a time (a block must be a multiple of it)."""

    label: str
    run: Callable[[int, int], None]
    final_loss: Callable[[], float]
    models: int = 1
    setup_s: float = 0.0
    epochs_per_call: int = 1


def model_from(init: dict[str, torch.Tensor], device: torch.device) -> MLP:
    """A course MLP on ``device`` holding the weights ``init``."""
    model = MLP(init["fc1.weight"].shape[0])
    model.load_state_dict(init)
    return model.to(device)


def final_loss(model: torch.nn.Module, data: IrisData) -> float:
    """Cross-entropy of ``model`` on the training split: how every variant's result is read."""
    with torch.no_grad():
        return F.cross_entropy(model(data.X_train), data.y_train).item()


def weights_loss(weights: list[torch.Tensor], data: IrisData) -> float:
    """:func:`final_loss` of a course MLP holding ``weights`` (in :data:`WEIGHT_KEYS` order)."""
    return final_loss(
        model_from(dict(zip(WEIGHT_KEYS, weights, strict=True)), weights[0].device), data
    )


def check_unroll(epochs: int, unroll: int) -> None:
    """Refuse an ``unroll`` that is not a positive integer dividing ``epochs``."""
    if isinstance(unroll, bool) or not isinstance(unroll, int) or unroll < 1:
        raise ValueError(f"unroll must be a positive integer, got {unroll!r}")
    if epochs % unroll:
        raise ValueError(f"epochs={epochs} must be a multiple of unroll={unroll}")
