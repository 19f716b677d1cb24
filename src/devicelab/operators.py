"""The operator list of a step: every ATen operator it runs, with its kind, phase, FLOPs and bytes.

:func:`operator_list` runs the package's one step on the ``meta`` device, recording each
operator below autograd: shapes are all the counts need. This is the package's one count of
what a step *is*; :mod:`devicelab.profiling` measures what a step *did* when it ran.
"""

from __future__ import annotations

import contextlib
import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry, sdpa_backward_flop_count, sdpa_flop_count

from .steps import LossFn, OptimizerFactory, StepSpec, as_tensors, sgd_lr_0_01, train_step

__all__ = [
    "KINDS",
    "OperatorCall",
    "OperatorList",
    "OperatorRecorder",
    "StepBytes",
    "kind_of",
    "operator_list",
]

#: The kinds of operator a calibration prices, each with its own host cost and device rate.
KINDS = ("view", "matmul", "conv", "pool", "reduction", "loss", "elementwise")

# What torch's own operator metadata does not say. Views are ``OpOverload.is_view`` and
# reductions carry ``torch.Tag.reduction``; these sets hold only what no tag marks:
# - views that alias or restride without the view flag, and the profiler's markers, which
#   move no data;
_UNTAGGED_VIEWS = {
    "_unsafe_view",  # a view whose result autograd does not track as one
    "transpose_",  # restrides in place
    "unsafe_split",
    "_record_function_enter_new",
    "_record_function_exit",
}
# - matrix products, convolutions, pooling and losses: there is no tag for any of them;
_MATMUL = {"mm", "addmm", "bmm", "baddbmm", "addmv", "mv", "dot", "matmul", "linear"}
_CONV = {
    "convolution",
    "_convolution",
    "convolution_backward",
    "mkldnn_convolution",
    "_slow_conv2d_forward",
    "cudnn_convolution",
    "convolution_overrideable",
}
_POOL = {
    "max_pool2d_with_indices",
    "max_pool2d_with_indices_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "_adaptive_avg_pool2d",
    "_adaptive_avg_pool2d_backward",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_backward",
}
_LOSS = {
    "nll_loss_forward",
    "nll_loss_backward",
    "nll_loss2d_forward",
    "nll_loss2d_backward",
    "_log_softmax_backward_data",
    "mse_loss",
    "mse_loss_backward",
    "binary_cross_entropy",
    "binary_cross_entropy_backward",
}
# - operators that reduce along a dimension (softmax, normalisation, a running sum) but carry
#   no reduction tag.
_UNTAGGED_REDUCTIONS = {
    "_softmax",
    "_log_softmax",
    "_softmax_backward_data",
    "cumsum",
    "native_layer_norm",
    "native_layer_norm_backward",
    "native_batch_norm",
    "native_batch_norm_backward",
}
# Attention kernels that flop_counter knows under their CUDA names only: counted with the same
# formulas (query, key and value are their first three arguments).
_SDPA_FORWARD = {"_scaled_dot_product_flash_attention_for_cpu"}
_SDPA_BACKWARD = {"_scaled_dot_product_flash_attention_for_cpu_backward"}


def kind_of(func: torch._ops.OpOverload) -> str:
    """The kind (one of :data:`KINDS`) of the ATen operator ``func`` (e.g.
    ``torch.ops.aten.addmm.default``), from its own metadata (``is_view``,
    ``torch.Tag.pointwise``, ``torch.Tag.reduction``) where it has any, else by name."""
    name = func.overloadpacket.__name__
    if func.is_view or name in _UNTAGGED_VIEWS:
        return "view"
    if name in _MATMUL or name in _SDPA_FORWARD or name in _SDPA_BACKWARD:
        return "matmul"
    for kind, names in (("conv", _CONV), ("pool", _POOL), ("loss", _LOSS)):
        if name in names:
            return kind
    if torch.Tag.pointwise in func.tags:  # before reductions: max.other is a pointwise max
        return "elementwise"
    if torch.Tag.reduction in func.tags or name in _UNTAGGED_REDUCTIONS:
        return "reduction"
    return "elementwise"


@dataclass(frozen=True, kw_only=True)
class OperatorCall:
    """One ATen operator call of a step.

    Attributes
    ----------
    name, kind, phase:
        The operator (e.g. ``"addmm"``), its kind (:data:`KINDS`), and ``"forward"``,
        ``"loss"``, ``"backward"`` or ``"optimizer"``.
    flops, bytes:
        Floating-point operations (0 but for products, convolutions and attention), and bytes
        of the tensors it reads and writes (0 for a view).
    dims:
        The shape that decides its efficiency: ``(m, k, n)`` for a matrix product (a batch
        counted in ``m``), ``(in channels, out channels, kernel size, output pixels)`` for a
        convolution or its backward; empty otherwise.
    """

    name: str
    kind: str
    phase: str
    flops: int
    bytes: int
    dims: tuple[int, ...] = ()


def _nbytes(tree: Any) -> int:
    """Bytes of the distinct tensors in ``tree`` (a tensor passed twice counts once)."""
    seen: dict[int, int] = {}
    for leaf in tree_flatten(tree)[0]:
        if isinstance(leaf, torch.Tensor):
            seen[id(leaf)] = leaf.numel() * leaf.element_size()
    return sum(seen.values())


def _dims(name: str, args, out) -> tuple[int, ...]:
    """The shape that decides an operator's efficiency (see :class:`OperatorCall`)."""
    if name in ("convolution", "_convolution", "mkldnn_convolution", "convolution_backward"):
        x, w = (args[1], args[2]) if name == "convolution_backward" else (args[0], args[1])
        grad_or_out = args[0] if name == "convolution_backward" else out
        if isinstance(w, torch.Tensor) and w.dim() == 4 and isinstance(grad_or_out, torch.Tensor):
            pixels = grad_or_out.shape[0] * grad_or_out.shape[-1] * grad_or_out.shape[-2]
            return (w.shape[1], w.shape[0], w.shape[-1], pixels)
        return ()
    if name in ("mm", "addmm", "bmm", "baddbmm"):
        a, b = (args[0], args[1]) if name in ("mm", "bmm") else (args[1], args[2])
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dim() >= 2:
            batch = a.shape[0] if a.dim() == 3 else 1
            return (batch * a.shape[-2], a.shape[-1], b.shape[-1])
    return ()


def _flops(packet, name: str, args, kwargs, out) -> int:
    if packet in flop_registry:
        return int(flop_registry[packet](*args, **kwargs, out_val=out))
    if name in _SDPA_FORWARD:
        return int(sdpa_flop_count(*(a.shape for a in args[:3])))
    if name in _SDPA_BACKWARD:
        return int(sdpa_backward_flop_count(*(a.shape for a in args[:4])))
    return 0


class OperatorRecorder(TorchDispatchMode):
    """Records every operator call that reaches the dispatcher while it is active (``with
    OperatorRecorder() as r: ...``); :meth:`lap` names the phase of the calls since the last lap
    and moves them to ``calls``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[OperatorCall] = []
        self._pending: list[tuple[str, str, int, int, tuple[int, ...]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name, kind = func.overloadpacket.__name__, kind_of(func)
        moved = 0 if kind == "view" else _nbytes((args, kwargs, out))
        flops = _flops(func.overloadpacket, name, args, kwargs, out)
        self._pending.append((name, kind, flops, moved, _dims(name, args, out)))
        return out

    def lap(self, phase: str) -> None:
        """Name the phase of the calls recorded since the last lap."""
        self.calls += [
            OperatorCall(name=n, kind=k, phase=phase, flops=f, bytes=b, dims=d)
            for n, k, f, b, d in self._pending
        ]
        self._pending = []


@dataclass(frozen=True)
class StepBytes:
    """The least bytes one step must move to and from memory, by kind (each storage once).

    Any implementation, however fused, must read the inputs and parameters, write each gradient,
    and keep what the backward needs from the forward (beyond the caches, written and read
    back): ``bytes / bandwidth`` is a time a step cannot beat unless it stays in cache.

    Attributes
    ----------
    saved_written:
        The activations autograd saves for the backward (exactly what this model's operators
        keep), written once by the forward; for inference, the output.
    saved_read:
        Everything saved for the backward, read once by it: those activations, and the inputs
        and parameters it needs.
    """

    inputs_read: int = 0
    parameters_read: int = 0
    saved_written: int = 0
    saved_read: int = 0
    gradients_written: int = 0


def _storage_bytes(tensors) -> int:
    return sum(t.untyped_storage().nbytes() for t in tensors)


@dataclass(frozen=True)
class OperatorList:
    """Every operator call of one step, in order, and where they were traced.

    Attributes
    ----------
    traced_on:
        ``"meta"`` (shapes only), or ``"cpu"`` when the model could not run on ``meta``.
    module_calls, parameters, least:
        ``nn.Module`` calls in the forward, trainable parameter tensors, and the least bytes
        the step must move (:class:`StepBytes`).
    """

    calls: tuple[OperatorCall, ...]
    traced_on: str
    module_calls: int = 0
    parameters: int = 0
    least: StepBytes = StepBytes()

    @property
    def flops(self) -> int:
        """FLOPs of the whole step."""
        return sum(c.flops for c in self.calls)

    @property
    def bytes(self) -> int:
        """Bytes read and written by all the step's operators (an upper bound on traffic)."""
        return sum(c.bytes for c in self.calls)

    @property
    def least_bytes(self) -> int:
        """The least bytes the step must move, a lower bound on its traffic (:class:`StepBytes`)."""
        return sum(asdict(self.least).values())

    @property
    def intensity(self) -> float:
        """The arithmetic intensity, FLOPs per byte the step must move (:attr:`least_bytes`)."""
        return self.flops / self.least_bytes

    def counts(self) -> dict[tuple[str, str], int]:
        """How many calls of each ``(phase, kind)``."""
        return dict(Counter((c.phase, c.kind) for c in self.calls))


def _trace(model, inputs, targets, loss_fn, optimizer, device: str) -> OperatorList:
    copied = copy.deepcopy(model).to(device)
    xs = tuple(t.to(device) for t in inputs)
    y = targets.to(device) if targets is not None else None
    opt = optimizer(copied.parameters()) if (optimizer and loss_fn) else None
    spec = StepSpec(
        model=copied,
        inputs=xs,
        targets=y,
        loss_fn=loss_fn,
        optimizer=opt,
        sync_every=None,
        device=torch.device(device),
    )
    recorder = OperatorRecorder()
    module_calls, outputs = [], []
    saved: dict[StorageWeakRef, torch.Tensor] = {}  # by storage: a tensor saved twice, once

    def keep(tensor: torch.Tensor) -> torch.Tensor:
        saved[StorageWeakRef(tensor.untyped_storage())] = tensor
        return tensor

    hook = nn.modules.module.register_module_forward_pre_hook(lambda *_: module_calls.append(1))
    output_hook = copied.register_forward_hook(lambda _m, _i, out: outputs.append(out))
    try:
        with (
            recorder,
            torch.no_grad() if loss_fn is None else contextlib.nullcontext(),
            torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor),
        ):
            train_step(spec, recorder.lap)
    finally:
        hook.remove()
        output_hook.remove()
    parameters = list(copied.parameters())
    trainable = [p for p in parameters if p.requires_grad]
    read = _storage_bytes([*xs] + ([y] if y is not None else []))
    if loss_fn is None:  # inference: inputs and parameters read, the output written
        outs = [t for t in tree_flatten(outputs)[0] if isinstance(t, torch.Tensor)]
        least = StepBytes(read, _storage_bytes(parameters), _storage_bytes(outs))
    else:
        given = {StorageWeakRef(t.untyped_storage()) for t in [*parameters, *xs, y]}
        activations = [t for key, t in saved.items() if key not in given]
        least = StepBytes(
            read,
            _storage_bytes(parameters),
            _storage_bytes(activations),
            _storage_bytes(saved.values()),
            _storage_bytes(trainable),
        )
    return OperatorList(tuple(recorder.calls), device, len(module_calls), len(trainable), least)


def operator_list(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor | None = None,
    loss_fn: LossFn | None = F.cross_entropy,
    optimizer: OptimizerFactory | None = sgd_lr_0_01,
) -> OperatorList:
    """The operators of one step of ``model`` on these shapes, traced on a ``meta`` copy (a model
    that cannot run on ``meta`` is run once on the CPU instead, not timed). With
    ``loss_fn=None`` the step is inference: the forward, under ``no_grad``.

    Raises
    ------
    TypeError
        ``inputs`` are not tensors.
    ValueError
        No targets for a loss.
    """
    inputs = as_tensors("inputs", inputs)
    if loss_fn is not None and targets is None:
        raise ValueError(
            "targets are required to count a training step; pass loss_fn=None for inference"
        )
    try:
        return _trace(model, inputs, targets, loss_fn, optimizer, "meta")
    except (NotImplementedError, RuntimeError):  # an operator with no meta kernel
        return _trace(model, inputs, targets, loss_fn, optimizer, "cpu")
