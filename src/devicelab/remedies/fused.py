"""Fewer, fused operators: the course's epoch with its gradients written by hand, in eager
PyTorch, in NumPy, compiled with :func:`torch.compile`, and captured as a CUDA graph."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..timing import timed_block, torch_threads
from .prepared import WEIGHT_KEYS, Prepared, Setting, check_unroll, weights_loss

__all__ = [
    "manual_step",
    "prepare_compiled",
    "prepare_cuda_graph",
    "prepare_manual",
    "prepare_numpy",
]


def manual_step(
    W1: torch.Tensor,
    b1: torch.Tensor,
    W2: torch.Tensor,
    b2: torch.Tensor,
    X: torch.Tensor,
    Y: torch.Tensor,
    lr: float,
) -> None:
    """One epoch of the course's training with the gradients written out, updating in place.

    ``Y`` is the one-hot label matrix. For mean cross-entropy over softmax, the gradient with
    respect to the logits is ``(softmax - Y) / n``; the rest is the chain rule.
    """
    n = X.shape[0]
    h = torch.relu(torch.addmm(b1, X, W1.t()))
    p = torch.softmax(torch.addmm(b2, h, W2.t()), dim=1)
    g = (p - Y) / n  # d(loss)/d(logits)
    gh = (g @ W2) * (h > 0)  # back through fc2, then through the ReLU
    W1.sub_(lr * (gh.t() @ X))
    b1.sub_(lr * gh.sum(0))
    W2.sub_(lr * (g.t() @ h))
    b2.sub_(lr * g.sum(0))


def _weights_and_onehot(setting: Setting) -> tuple[list[torch.Tensor], torch.Tensor]:
    weights = [setting.init[k].detach().clone().to(setting.device) for k in WEIGHT_KEYS]
    Y = F.one_hot(setting.data.y_train, 3).to(setting.data.X_train.dtype)
    return weights, Y


def prepare_manual(setting: Setting) -> Prepared:
    """:func:`manual_step` in eager PyTorch, no autograd: the same maths, fewer operators."""
    weights, Y = _weights_and_onehot(setting)
    return Prepared(
        label="hand-written gradients",
        run=_chunk_runner(manual_step, weights, setting.data.X_train, Y, setting.lr, 1),
        final_loss=lambda: weights_loss(weights, setting.data),
    )


def prepare_numpy(setting: Setting) -> Prepared:
    """:func:`manual_step`'s maths in NumPy on the CPU: no dispatcher, no autograd at all."""
    X = setting.data.X_train.numpy()
    Y = F.one_hot(setting.data.y_train, 3).numpy().astype(X.dtype)
    W1, b1, W2, b2 = (setting.init[k].detach().numpy().copy() for k in WEIGHT_KEYS)
    n, step = X.shape[0], np.float32(setting.lr)

    def run(first: int, last: int) -> None:
        nonlocal W1, b1, W2, b2  # updated in place below
        for _ in range(first, last + 1):
            h = np.maximum(X @ W1.T + b1, 0)
            z = h @ W2.T + b2
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            g = (p - Y) / n
            gh = (g @ W2) * (h > 0)
            W1 -= step * (gh.T @ X)
            b1 -= step * gh.sum(0)
            W2 -= step * (g.T @ h)
            b2 -= step * g.sum(0)

    def final_loss() -> float:
        return weights_loss([torch.from_numpy(w) for w in (W1, b1, W2, b2)], setting.data)

    return Prepared(label="NumPy, hand-written", run=run, final_loss=final_loss)


def _unrolled(unroll: int) -> Callable[..., None]:
    def epochs_at_once(W1, b1, W2, b2, X, Y, lr):
        for _ in range(unroll):
            manual_step(W1, b1, W2, b2, X, Y, lr)

    return epochs_at_once


def _chunk_runner(chunk, weights, X, Y, lr, unroll, threads=None) -> Callable[[int, int], None]:
    """``run(first, last)`` calling ``chunk`` once per ``unroll`` epochs."""

    @torch.no_grad()
    def run(first: int, last: int) -> None:
        check_unroll(last - first + 1, unroll)
        with torch_threads(threads):
            for _ in range((last - first + 1) // unroll):
                chunk(*weights, X, Y, lr)

    return run


def prepare_compiled(setting: Setting) -> Prepared:
    """:func:`torch.compile` of ``unroll`` hand-written epochs as one function, compiled
    (``setup_s``) on copies of the weights.

    On the CPU, inductor's C++ wrapper (``options={"cpp_wrapper": True}``) also takes Python
    out of the generated code's launcher, and it runs on one thread: tiny loops lose more to a
    thread pool's wake-up than they gain.
    """
    weights, Y = _weights_and_onehot(setting)
    X, lr, unroll, device = setting.data.X_train, setting.lr, setting.unroll, setting.device
    on_cpu = device.type == "cpu"
    chunk = torch.compile(_unrolled(unroll), options={"cpp_wrapper": True} if on_cpu else None)
    # On the CPU, compiled at one thread: inductor then emits serial code with no pool to wake.
    threads = 1 if on_cpu else None
    run = _chunk_runner(chunk, weights, X, Y, lr, unroll, threads)
    scratch = _chunk_runner(chunk, [w.clone() for w in weights], X, Y, lr, unroll, threads)
    setup = timed_block(lambda: scratch(1, 2 * unroll), device)
    return Prepared(
        label=f"torch.compile, {unroll} epochs per call{', 1 thread' if threads else ''}",
        run=run,
        final_loss=lambda: weights_loss(weights, setting.data),
        setup_s=setup,
        epochs_per_call=unroll,
    )


def prepare_cuda_graph(setting: Setting) -> Prepared:
    """Capture ``unroll`` hand-written epochs once as a CUDA graph, then replay it: one launch
    per ``unroll`` epochs."""
    weights, Y = _weights_and_onehot(setting)
    X, lr, unroll, device = setting.data.X_train, setting.lr, setting.unroll, setting.device
    chunk = _unrolled(unroll)
    graph = torch.cuda.CUDAGraph()

    @torch.no_grad()
    def capture() -> None:
        # Warm up on copies and on a side stream, as torch.cuda.graphs' documentation asks.
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            scratch = [w.clone() for w in weights]
            for _ in range(3):
                chunk(*scratch, X, Y, lr)
        torch.cuda.current_stream(device).wait_stream(side)
        with torch.cuda.graph(graph):  # records kernels; nothing runs during capture
            chunk(*weights, X, Y, lr)

    setup = timed_block(capture, device)
    return Prepared(
        label=f"CUDA graph, {unroll} epochs per replay",
        run=_chunk_runner(lambda *_: graph.replay(), weights, X, Y, lr, unroll),
        final_loss=lambda: weights_loss(weights, setting.data),
        setup_s=setup,
        epochs_per_call=unroll,
    )
