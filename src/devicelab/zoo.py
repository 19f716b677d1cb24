"""Models of different shapes to ask "CPU or GPU?" about, each a factory with no arguments,
usable from the command line (``python -m devicelab advise devicelab.zoo:lenet5 ...``).
"""

from __future__ import annotations

import torch
from torch import nn

from .models import MLP

__all__ = [
    "EXAMPLE_SHAPES",
    "LeNet5",
    "TransformerClassifier",
    "iris_mlp",
    "lenet5",
    "transformer_layer",
    "wide_mlp",
    "VALIDATION_SHAPES",
    "GRUClassifier",
    "SmallCNN",
    "gru_classifier",
    "small_cnn",
]

#: Factory name to ``(input shape, classes)``: the shapes the gallery advises on.
EXAMPLE_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    "iris_mlp": ((120, 4), 3),  # the course's training split, full batch
    "lenet5": ((64, 1, 28, 28), 10),
    "transformer_layer": ((32, 128, 256), 10),  # batch 32, sequence 128, d_model 256
    "wide_mlp": ((128, 1024), 10),
}


#: The course's 4-10-3 MLP.
iris_mlp = MLP


class LeNet5(nn.Module):
    """LeNet-5's shape for 28x28 images: two 5x5 convolutions with pooling, three linears
    (about 62 thousand parameters)."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of shape ``(batch, classes)`` for images of shape ``(batch, 1, 28, 28)``."""
        return self.classifier(self.features(x))


#: A LeNet-5-sized CNN for ``(batch, 1, 28, 28)`` images and 10 classes.
lenet5 = LeNet5


class TransformerClassifier(nn.Module):
    """One :class:`torch.nn.TransformerEncoderLayer` and a linear head on the sequence's mean,
    for inputs already embedded: ``(batch, sequence, d_model)``."""

    def __init__(self, d_model: int = 256, heads: int = 4, classes: int = 10) -> None:
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(
            d_model, heads, dim_feedforward=4 * d_model, dropout=0.0, batch_first=True
        )
        self.head = nn.Linear(d_model, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of shape ``(batch, classes)``."""
        return self.head(self.encoder(x).mean(dim=1))


#: One Transformer encoder layer, d_model 256, 4 heads, feed-forward 1,024, 10 classes.
transformer_layer = TransformerClassifier


def wide_mlp() -> nn.Module:
    """``1,024 -> 4,096 -> 4,096 -> 10`` with ReLUs: about 21 million parameters, and matrix
    products with thousands of multiply-adds per value moved at a batch of 128."""
    return nn.Sequential(
        nn.Linear(1024, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 10)
    )


class GRUClassifier(nn.Module):
    """A one-layer GRU (input 32, hidden 64) over the sequence, and a linear head on its last
    step: ``(batch, sequence, 32) -> (batch, classes)``."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.gru = nn.GRU(32, 64, batch_first=True)
        self.head = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of shape ``(batch, classes)``."""
        return self.head(self.gru(x)[0][:, -1])


#: A GRU classifier for ``(batch, sequence, 32)`` inputs and 5 classes.
gru_classifier = GRUClassifier


class SmallCNN(nn.Module):
    """``conv(3->16, 3x3) -> ReLU -> maxpool 2 -> conv(16->32, 3x3) -> ReLU -> global average
    pool -> linear(32->classes)`` for ``(batch, 3, 32, 32)`` images."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores of shape ``(batch, classes)``."""
        return self.head(self.features(x))


#: A small CNN for ``(batch, 3, 32, 32)`` images and 10 classes.
small_cnn = SmallCNN


#: :data:`EXAMPLE_SHAPES` and two more shapes of model (a recurrent and a convolutional one):
#: the six whose predicted CPU step the "Your own model" page checks against the measured one.
VALIDATION_SHAPES: dict[str, tuple[tuple[int, ...], int]] = {
    **EXAMPLE_SHAPES,
    "gru_classifier": ((16, 20, 32), 5),
    "small_cnn": ((32, 3, 32, 32), 10),
}
