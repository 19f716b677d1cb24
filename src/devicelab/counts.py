"""Counting the work of a step: FLOPs, bytes, from shapes alone.

FLOPs are counted by :class:`torch.utils.flop_counter.FlopCounterMode` over a real step
(:func:`training_step_flops`), bytes by a documented minimum model (:func:`count_step_bytes`).
Both depend on shapes only, so they can be counted on the ``meta`` device, with no data and no
arithmetic (:func:`mlp_step_counts`, :func:`count_on_meta`). The step counted is the package's
one step (:func:`devicelab.steps.train_step`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils.flop_counter import FlopCounterMode

from .models import MLP, DeepMLP
from .steps import LossFn, StepSpec, as_tensors, train_step

__all__ = [
    "StepBytes",
    "StepCounts",
    "count_flops",
    "count_on_meta",
    "count_step_bytes",
    "mlp_step_counts",
    "step_bytes",
    "training_step_flops",
]


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of everything ``fn()`` runs, counted by
    :class:`~torch.utils.flop_counter.FlopCounterMode`.

    FlopCounterMode counts the operators that carry the arithmetic (matrix products,
    convolutions, attention) from their shapes, ``2 * m * n * k`` for an ``m x k`` by ``k x n``
    product, in the forward and the backward. Elementwise work (ReLU, softmax, the loss) is not
    counted: it is a few percent of a step and limited by bandwidth, not compute.
    """
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def _run_counted_step(
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    targets: torch.Tensor | None,
    loss_fn: LossFn | None,
) -> None:
    """The step the counts cover: :func:`devicelab.steps.train_step` with no optimizer (its
    update is elementwise and not counted). Inference (no targets or no loss) runs under
    ``no_grad``."""
    inference = targets is None or loss_fn is None
    spec = StepSpec(
        model=model,
        inputs=inputs,
        targets=targets,
        loss_fn=None if inference else loss_fn,
        optimizer=None,
        sync_every=None,
    )
    with torch.no_grad() if inference else contextlib.nullcontext():
        train_step(spec)


def training_step_flops(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    targets: torch.Tensor | None = None,
    *,
    loss_fn: LossFn | None = F.cross_entropy,
) -> int:
    """FLOPs of one training step of ``model``: forward, loss and backward, counted by
    :func:`count_flops`.

    With ``targets`` or ``loss_fn`` None the step is inference only: the forward. The optimizer's
    update is elementwise and not counted. The step really runs; on the ``meta`` device it runs
    with shapes only (no data, no arithmetic), which is how large shapes are counted cheaply.
    Gradients it leaves on the parameters are cleared again.
    """
    try:
        inputs = as_tensors("inputs", inputs)
        return count_flops(lambda: _run_counted_step(model, inputs, targets, loss_fn))
    finally:
        model.zero_grad(set_to_none=True)


@dataclass(frozen=True)
class StepBytes:
    """The minimum bytes one step moves, by kind (see :func:`count_step_bytes`)."""

    inputs_read: int
    parameters_read: int
    saved_written: int
    saved_read: int
    gradients_written: int

    @property
    def total(self) -> int:
        """All the bytes above."""
        return (
            self.inputs_read
            + self.parameters_read
            + self.saved_written
            + self.saved_read
            + self.gradients_written
        )

    def to_dict(self) -> dict[str, int]:
        """A JSON-ready dict, the total included."""
        return {**asdict(self), "total": self.total}


def _nbytes(tensors) -> int:
    return sum(t.untyped_storage().nbytes() for t in tensors)


def count_step_bytes(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    targets: torch.Tensor | None = None,
    *,
    loss_fn: LossFn | None = F.cross_entropy,
) -> StepBytes:
    """The bytes one step must move to and from memory at least, by kind.

    What is counted, each storage once:

    - ``inputs_read``: the inputs and targets, read once by the forward.
    - ``parameters_read``: every parameter, read once by the forward.
    - ``saved_written``: the activations autograd saves for the backward (found with
      :func:`torch.autograd.graph.saved_tensors_hooks`, so exactly what this model's operators
      keep), written once by the forward.
    - ``saved_read``: everything saved for the backward, read once by it: those activations,
      the inputs it needs, and the parameters it needs (a layer's weight, to pass the gradient
      on to the layer before).
    - ``gradients_written``: one gradient per parameter, written once by the backward.

    Why it is a lower bound: any implementation of this step, however fused, must read its
    inputs and parameters, must produce each gradient, and must keep what the backward needs
    from the forward somewhere between the two, which for anything larger than the caches means
    writing it to memory and reading it back. Everything else is left out: intermediate results
    that a fused kernel could keep in registers, the gradients flowing between layers in the
    backward, repeated reads, and the optimizer's update (read parameter and gradient, write
    parameter). So a real step moves more, and ``bytes / bandwidth`` is a time it cannot beat,
    except when the whole working set stays in cache between steps.

    With ``targets`` or ``loss_fn`` None the step is inference only: inputs and parameters
    read, the output written (as ``saved_written``), nothing saved, no gradients.
    """
    inputs = as_tensors("inputs", inputs)
    inputs_read = _nbytes([*inputs] + ([targets] if targets is not None else []))
    parameters = list(model.parameters())
    if targets is None or loss_fn is None:
        with torch.no_grad():
            output = model(*inputs)
        return StepBytes(inputs_read, _nbytes(parameters), _nbytes([output]), 0, 0)

    saved: dict[StorageWeakRef, torch.Tensor] = {}  # keyed by storage: a tensor saved twice, once

    def keep(tensor: torch.Tensor) -> torch.Tensor:
        saved[StorageWeakRef(tensor.untyped_storage())] = tensor
        return tensor

    # the forward alone tells what the backward will read: no need to run the backward
    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        loss_fn(model(*inputs), targets)
    given = {StorageWeakRef(t.untyped_storage()) for t in [*parameters, *inputs, targets]}
    activations = [t for key, t in saved.items() if key not in given]
    trainable = [p for p in parameters if p.requires_grad]
    return StepBytes(
        inputs_read=inputs_read,
        parameters_read=_nbytes(parameters),
        saved_written=_nbytes(activations),
        saved_read=_nbytes(saved.values()),
        gradients_written=_nbytes(trainable),
    )


def step_bytes(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    targets: torch.Tensor | None = None,
    *,
    loss_fn: LossFn | None = F.cross_entropy,
) -> int:
    """Total minimum bytes one step moves: :func:`count_step_bytes`'s total."""
    return count_step_bytes(model, inputs, targets, loss_fn=loss_fn).total


@dataclass(frozen=True)
class StepCounts:
    """FLOPs and minimum bytes of one training step, and their ratio."""

    flops: int
    bytes_moved: int

    @property
    def intensity(self) -> float:
        """Arithmetic intensity, FLOPs per byte moved."""
        return self.flops / self.bytes_moved


@functools.lru_cache(maxsize=256)  # pages count the same shapes for several devices
def mlp_step_counts(hidden: int, batch: int, *, deep: bool = False) -> StepCounts:
    """FLOPs and bytes of one cross-entropy training step of the sweep's model, from its shapes.

    The model is :class:`~devicelab.models.MLP` (4 -> hidden -> 3) or, with ``deep``,
    :class:`~devicelab.models.DeepMLP` (4 -> hidden -> hidden -> 3), float32, on a batch of
    ``batch`` rows. It is built on the ``meta`` device: the counts depend on shapes only, so no
    memory is allocated and nothing is computed, whatever the size.

    Raises
    ------
    ValueError
        ``hidden`` or ``batch`` is not positive.
    """
    _check_positive(hidden=hidden, batch=batch)
    with torch.device("meta"):
        model = (DeepMLP if deep else MLP)(hidden)
        inputs = torch.empty(batch, 4)
        targets = torch.empty(batch, dtype=torch.long)
    return StepCounts(
        training_step_flops(model, inputs, targets), step_bytes(model, inputs, targets)
    )


def count_on_meta(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    targets: torch.Tensor | None = None,
    *,
    loss_fn: LossFn | None = F.cross_entropy,
) -> StepCounts:
    """FLOPs and minimum bytes of one step of ``model`` on these shapes, counted on a ``meta``
    copy: ``model`` and the tensors are left untouched, and nothing is computed."""
    meta = copy.deepcopy(model).to("meta")
    xs = tuple(t.to("meta") for t in as_tensors("inputs", inputs))
    y = targets.to("meta") if targets is not None else None
    return StepCounts(
        training_step_flops(meta, xs, y, loss_fn=loss_fn),
        step_bytes(meta, xs, y, loss_fn=loss_fn),
    )
