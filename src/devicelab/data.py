"""The course's data: Iris, split 80/20 and min-max scaled, as tensors on a device (offline:
scikit-learn ships Iris inside its package)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["IrisData", "load_iris"]


@dataclass(frozen=True)
class IrisData:
    """Train and test tensors, all on the same device: ``X_*`` float32 of shape ``(n, 4)``,
    ``y_*`` int64 class labels of shape ``(n,)``."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def device(self) -> torch.device:
        """The device the tensors live on."""
        return self.X_train.device

    def to(self, device: torch.device | str) -> IrisData:
        """Return a copy with every tensor moved to ``device``."""
        return IrisData(
            *(t.to(device) for t in (self.X_train, self.y_train, self.X_test, self.y_test))
        )


def load_iris(device: torch.device | str = "cpu") -> IrisData:
    """Load Iris the way the course does: split 80/20 (``random_state=42``), then min-max
    scaled by the training split only, so no test statistics leak into training."""
    # scikit-learn costs over a second to import: only the pages that load Iris pay it, not
    # every importer of this module (the calibration, predict_step)
    from sklearn.datasets import load_iris as sklearn_iris
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler

    features, labels = sklearn_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.2, random_state=42
    )
    scaler = MinMaxScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return IrisData(
        X_train=torch.tensor(X_train, dtype=torch.float32, device=device),
        y_train=torch.tensor(y_train, dtype=torch.int64, device=device),
        X_test=torch.tensor(X_test, dtype=torch.float32, device=device),
        y_test=torch.tensor(y_test, dtype=torch.int64, device=device),
    )
