"""The course's model, a 4-10-3 multilayer perceptron, and a deeper one for the roofline."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["MLP", "DeepMLP", "initial_weights", "load_factory"]


def _check_hidden(hidden: int) -> None:
    if hidden < 1:
        raise ValueError(f"hidden must be a positive layer width, got {hidden}")


class MLP(nn.Module):
    """``Linear(4, hidden) -> ReLU -> Linear(hidden, 3)``, by default the course's 4-10-3
    network for Iris. No softmax at the end: :func:`torch.nn.functional.cross_entropy` applies
    log-softmax itself."""

    def __init__(self, hidden: int = 10) -> None:
        super().__init__()
        _check_hidden(hidden)
        self.fc1 = nn.Linear(4, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class scores (logits) of shape ``(batch, 3)``."""
        return self.fc2(self.relu(self.fc1(x)))


class DeepMLP(nn.Module):
    """``Linear(4, hidden) -> ReLU -> Linear(hidden, hidden) -> ReLU -> Linear(hidden, 3)``:
    ``hidden`` multiply-adds per activation, where :class:`MLP` has 7, make it compute-bound."""

    def __init__(self, hidden: int = 10) -> None:
        super().__init__()
        _check_hidden(hidden)
        self.fc1 = nn.Linear(4, hidden)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(hidden, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class scores (logits) of shape ``(batch, 3)``."""
        return self.fc3(self.relu2(self.fc2(self.relu1(self.fc1(x)))))


def initial_weights(seed: int = 0, hidden: int = 10) -> dict[str, torch.Tensor]:
    """The course model's initial weights for ``seed``: every remedy, and the arithmetic floor,
    starts from these, so their final losses can be compared."""
    torch.manual_seed(seed)
    return copy.deepcopy(MLP(hidden).state_dict())


def load_factory(spec: str) -> Callable[[], nn.Module]:
    """Import ``MODULE:CALLABLE`` (e.g. ``devicelab.zoo:lenet5``) and return the callable: how
    the command line, and a spawned worker process, name a model to build.

    Raises
    ------
    ValueError
        ``spec`` is not of that form, or the module or callable does not exist.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"expected MODULE:CALLABLE such as devicelab.zoo:lenet5, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(
            f"cannot import {module_name!r} ({error}); is it on PYTHONPATH?"
        ) from error
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"{module_name} has no callable {attr!r}")
    return factory
