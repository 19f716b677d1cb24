"""The training step: one definition, used by every measurement of the site, so figures on
different pages measure the same work. Timing its parts needs no second copy: :func:`train_step`
calls a *lap* after each phase (:class:`Laps` reads the clock there)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .data import IrisData
from .devices import synchronize

__all__ = [
    "PHASES",
    "Laps",
    "LossFn",
    "OptimizerFactory",
    "StepSpec",
    "as_tensors",
    "course_step",
    "prepare_step",
    "run_steps",
    "sgd_lr_0_01",
    "step_kind",
    "AUTO",
    "train_step",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
#: The phases of a step, in the order it runs them. ``optimizer`` is ``zero_grad`` plus
#: ``step``; ``sync`` is the host waiting for the device (``loss.item()``).
PHASES = ("forward", "loss", "backward", "optimizer", "sync")


def sgd_lr_0_01(params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """The default optimizer factory: plain SGD with learning rate 0.01, as in the course."""
    return torch.optim.SGD(params, lr=0.01)


#: The default of ``loss_fn`` and ``optimizer`` where a step may be training or inference:
#: training (cross-entropy and :func:`sgd_lr_0_01`) when targets are given, else inference.
AUTO = "auto"


def course_step(
    model: nn.Module, data: IrisData, *, lr: float = 0.01, sync_every: int | None = 1
) -> StepSpec:
    """The course's step: ``model`` on Iris's training split (on its device), cross-entropy and
    SGD at ``lr``."""
    return StepSpec(
        model=model,
        inputs=(data.X_train,),
        targets=data.y_train,
        loss_fn=F.cross_entropy,
        optimizer=torch.optim.SGD(model.parameters(), lr=lr),
        sync_every=sync_every,
        device=data.device,
    )


def step_kind(
    targets: torch.Tensor | None,
    loss_fn: LossFn | None | str,
    optimizer: OptimizerFactory | None | str,
) -> tuple[LossFn | None, OptimizerFactory | None]:
    """Resolve :data:`AUTO`: with targets, the course's training step (cross-entropy, SGD at
    lr 0.01); without, inference (no loss, no optimizer). Anything else is kept as given, so
    an explicit loss with no targets still fails where the step is prepared."""
    if loss_fn == AUTO:
        loss_fn = F.cross_entropy if targets is not None else None
    if optimizer == AUTO:
        optimizer = sgd_lr_0_01 if loss_fn is not None else None
    return loss_fn, optimizer


@dataclass(frozen=True, kw_only=True)
class StepSpec:
    """One step of training (or of inference: no loss, no optimizer), ready to run.

    Attributes
    ----------
    optimizer:
        None leaves the update out (the gradients are still computed).
    sync_every:
        Wait for the device every this many steps (1: ``loss.item()`` every step, as the
        course does), or None: never inside the loop.
    """

    model: nn.Module
    inputs: tuple[torch.Tensor, ...]
    targets: torch.Tensor | None
    loss_fn: LossFn | None
    optimizer: torch.optim.Optimizer | None = None
    sync_every: int | None = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def training(self) -> bool:
        """Whether the step computes a loss and its gradients."""
        return self.loss_fn is not None

    @property
    def phases(self) -> tuple[str, ...]:
        """The phases this step runs (see :data:`PHASES`)."""
        if not self.training:
            return ("forward", "sync")
        skip = () if self.optimizer is not None else ("optimizer",)
        return tuple(p for p in PHASES if p not in skip)


def _no_lap(phase: str) -> None:
    """The default lap: nothing is timed."""


def train_step(spec: StepSpec, lap: Callable[[str], None] = _no_lap) -> torch.Tensor | None:
    """Run one step of ``spec`` (forward, loss, ``zero_grad``, backward, ``optimizer.step()``),
    calling ``lap(phase)`` as each phase ends; return the loss, still on the device (or None)."""
    logits = spec.model(*spec.inputs)  # model(x) is nn.Module.__call__, which runs forward
    lap("forward")
    if spec.loss_fn is None:
        return None
    loss = spec.loss_fn(logits, spec.targets)
    lap("loss")
    if spec.optimizer is not None:
        spec.optimizer.zero_grad()
        lap("optimizer")
    loss.backward()
    lap("backward")
    if spec.optimizer is not None:
        spec.optimizer.step()
        lap("optimizer")
    return loss


def run_steps(
    spec: StepSpec,
    first: int,
    last: int,
    *,
    losses: list[tuple[int, float]] | None = None,
    lap: Callable[[str], None] = _no_lap,
) -> torch.Tensor | None:
    """Steps ``first..last`` (1-based, inclusive) of ``spec``: the course's loop. Every
    ``spec.sync_every`` steps the host waits for the device (``loss.item()``, appended to
    ``losses`` when given). Returns the last step's loss (None for inference)."""
    loss = None
    for step in range(first, last + 1):
        loss = train_step(spec, lap)
        if spec.sync_every is not None and step % spec.sync_every == 0:
            if loss is None:
                synchronize(spec.device)
            else:
                value = loss.item()  # one device->host copy: the host waits for the device
                if losses is not None:
                    losses.append((step, value))
            lap("sync")
    return loss


class Laps:
    """Seconds spent in each phase of the steps it is passed to (as ``lap=``), summed.

    Each call charges the time since the previous reading to the phase that just ended, so the
    phases tile the block with no gaps, in the real loop and order.
    """

    def __init__(self, phases: Sequence[str], clock: Callable[[], float] = time.perf_counter):
        self.seconds = dict.fromkeys(phases, 0.0)
        self._clock = clock
        self._last = clock()

    def start(self) -> None:
        """Start the clock: the next lap is charged from now."""
        self._last = self._clock()

    def __call__(self, phase: str) -> None:
        now = self._clock()
        self.seconds[phase] += now - self._last
        self._last = now


def as_tensors(name: str, value: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """``value`` as a tuple of tensors (one tensor becomes a 1-tuple).

    Raises
    ------
    TypeError
        ``value`` is not a tensor or a non-empty sequence of tensors.
    """
    values = (value,) if isinstance(value, torch.Tensor) else tuple(value)
    if not values or not all(isinstance(v, torch.Tensor) for v in values):
        raise TypeError(
            f"{name} must be a tensor or a non-empty sequence of tensors, "
            f"got {type(value).__name__}"
        )
    return values


def _check_placement(model: nn.Module, tensors: dict[str, torch.Tensor], device) -> None:
    for name, tensor in tensors.items():
        if tensor.device != device:
            raise ValueError(
                f"{name} is on {tensor.device}, but device={str(device)!r}: move it first with "
                "`.to(device)`"
            )
    for name, param in model.named_parameters():
        if param.device != device:
            raise ValueError(
                f"the model's parameter {name!r} is on {param.device}, but "
                f"device={str(device)!r}: move the model first with `model.to(device)`"
            )


def _checked_forward(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
    """Run the model once, so that a model that raises is named with its input shapes."""
    try:
        with torch.no_grad():
            model(*inputs)
    except Exception as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
        raise RuntimeError(
            f"{type(model).__name__} raised on inputs of shape {shapes}: "
            f"{type(error).__name__}: {error}"
        ) from error


def prepare_step(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor | None = None,
    loss_fn: LossFn | None = F.cross_entropy,
    optimizer: OptimizerFactory | None = sgd_lr_0_01,
    device: torch.device,
    sync: bool = True,
) -> StepSpec:
    """A checked :class:`StepSpec`: the model and tensors already on ``device``.

    ``optimizer`` is a factory called with the trainable parameters. The model runs once,
    untimed, so that a model that raises on these inputs is reported here.

    Raises
    ------
    TypeError
        ``model`` is not an ``nn.Module``, or the inputs are not tensors.
    ValueError
        Tensors or parameters on another device; no targets for a loss; an optimizer for a
        model without trainable parameters.
    RuntimeError
        The model raised on the inputs.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    inputs = as_tensors("inputs", inputs)
    training = loss_fn is not None
    if training and targets is None:
        raise ValueError(
            "targets are required to compute a loss; pass loss_fn=None to measure inference only"
        )
    placed = {f"inputs[{i}]": t for i, t in enumerate(inputs)}
    if training:
        placed["targets"] = targets
    _check_placement(model, placed, device)
    params = [p for p in model.parameters() if p.requires_grad]
    if training and optimizer is not None and not params:
        raise ValueError(
            f"{type(model).__name__} has no trainable parameters for the optimizer; "
            "pass optimizer=None"
        )
    _checked_forward(model, inputs)
    return StepSpec(
        model=model,
        inputs=inputs,
        targets=targets if training else None,
        loss_fn=loss_fn,
        optimizer=optimizer(params) if training and optimizer is not None else None,
        sync_every=1 if sync else None,
        device=device,
    )
