"""The course's model: a 4-10-3 multilayer perceptron."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP"]


class MLP(nn.Module):
    """``Linear(in, hidden) -> ReLU -> Linear(hidden, out)``.

    The defaults are the course's 4-10-3 network for Iris. No softmax at the end:
    :func:`torch.nn.functional.cross_entropy` applies log-softmax itself.

    Parameters
    ----------
    hidden:
        Width of the hidden layer (10 in the course). Widening it is how the overheads lab
        gives the GPU more work.
    in_features, out_features:
        Input and output sizes (4 measurements, 3 species for Iris).
    """

    def __init__(self, hidden: int = 10, *, in_features: int = 4, out_features: int = 3) -> None:
        super().__init__()
        for name, value in (
            ("hidden", hidden),
            ("in_features", in_features),
            ("out_features", out_features),
        ):
            if value < 1:
                raise ValueError(f"{name} must be a positive layer width, got {value}")
        self.fc1 = nn.Linear(in_features, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class scores (logits) of shape ``(batch, out_features)``."""
        return self.fc2(self.relu(self.fc1(x)))
