"""The arithmetic floor: the course's epoch with no framework at all, compiled with numba.

The loop is scalar, the way a reader would write it by hand: a floor for *overhead*, not a
claim about the CPU's peak FLOP/s."""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from .data import IrisData
from .models import MLP, initial_weights
from .timing import timed_block

__all__ = ["course_floor_s", "floor_train"]


@functools.cache
def _epochs_kernel():
    # numba is imported here, not at module import: it costs about a second, and only the
    # floor needs it.
    import numba

    @numba.njit(cache=True, fastmath=False)
    def epochs(w1, b1, w2, b2, X, y, lr, n_epochs):  # pragma: no cover - compiled
        n, d = X.shape
        h = w1.shape[0]
        k = w2.shape[0]
        hidden = np.empty((n, h), dtype=np.float32)
        dlogits = np.empty((n, k), dtype=np.float32)
        gw1 = np.empty_like(w1)
        gb1 = np.empty_like(b1)
        gw2 = np.empty_like(w2)
        gb2 = np.empty_like(b2)
        loss = np.float32(0.0)
        for _ in range(n_epochs):
            loss = np.float32(0.0)
            gw1[:] = 0.0
            gb1[:] = 0.0
            gw2[:] = 0.0
            gb2[:] = 0.0
            for i in range(n):
                # forward: hidden = relu(x W1^T + b1), logits = hidden W2^T + b2
                for j in range(h):
                    acc = b1[j]
                    for c in range(d):
                        acc += X[i, c] * w1[j, c]
                    hidden[i, j] = acc if acc > 0.0 else np.float32(0.0)
                top = np.float32(-np.inf)
                for m in range(k):
                    acc = b2[m]
                    for j in range(h):
                        acc += hidden[i, j] * w2[m, j]
                    dlogits[i, m] = acc
                    top = max(top, acc)
                # cross-entropy through a stable softmax; its gradient is (softmax - onehot) / n
                total = np.float32(0.0)
                for m in range(k):
                    dlogits[i, m] = np.exp(dlogits[i, m] - top)
                    total += dlogits[i, m]
                loss += np.log(total) - np.log(dlogits[i, y[i]])
                for m in range(k):
                    dlogits[i, m] = dlogits[i, m] / total / n
                dlogits[i, y[i]] -= np.float32(1.0) / n
            # backward
            for i in range(n):
                for m in range(k):
                    g = dlogits[i, m]
                    gb2[m] += g
                    for j in range(h):
                        gw2[m, j] += g * hidden[i, j]
                for j in range(h):
                    if hidden[i, j] > 0.0:
                        g = np.float32(0.0)
                        for m in range(k):
                            g += dlogits[i, m] * w2[m, j]
                        gb1[j] += g
                        for c in range(d):
                            gw1[j, c] += g * X[i, c]
            # SGD update
            w1 -= lr * gw1
            b1 -= lr * gb1
            w2 -= lr * gw2
            b2 -= lr * gb2
        return loss / n

    return epochs


_KEYS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


def _arrays(data: IrisData) -> tuple[np.ndarray, ...]:
    init = initial_weights()
    weights = [init[k].numpy().astype(np.float32).copy() for k in _KEYS]
    X = data.X_train.cpu().numpy().astype(np.float32)
    y = data.y_train.cpu().numpy().astype(np.int64)
    return (*weights, X, y)


def floor_train(data: IrisData, *, epochs: int = 20_000) -> tuple[float, float]:
    """Train the course's model (SGD, lr 0.01) with the numba loop; return
    ``(final_loss, seconds)``.

    It starts from the remedies' initial weights, and its final loss is read the way theirs is,
    so the two must agree within float32 rounding: the proof that it does the same maths.

    Raises
    ------
    ValueError
        ``epochs`` is not a positive integer.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    kernel, lr = _epochs_kernel(), np.float32(0.01)
    w1, b1, w2, b2, X, y = _arrays(data)
    kernel(w1.copy(), b1.copy(), w2.copy(), b2.copy(), X, y, lr, 1)  # compile
    seconds = timed_block(lambda: kernel(w1, b1, w2, b2, X, y, lr, epochs), torch.device("cpu"))
    model = MLP()
    arrays = (w1, b1, w2, b2)
    model.load_state_dict({k: torch.from_numpy(a) for k, a in zip(_KEYS, arrays, strict=True)})
    with torch.no_grad():
        loss = F.cross_entropy(model(data.X_train.cpu()), data.y_train.cpu()).item()
    return loss, seconds


def course_floor_s(data: IrisData) -> float:
    """Seconds per epoch of the course's epoch with no framework: the median of five timed runs
    of 2,000 epochs of the numba loop, on one thread."""
    times = [floor_train(data, epochs=2_000)[1] / 2_000 for _ in range(5)]
    return float(np.median(times))
