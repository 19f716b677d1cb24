"""Where each microsecond of a training step goes: parts that are measured and add up.

:func:`explain_step` splits one training step of any model into named parts, each timed in
its own right:

- ``forward``: host time of ``model(inputs)``;
- ``loss``: host time of ``loss_fn(outputs, targets)``;
- ``backward``: host time of ``loss.backward()``, the autograd engine;
- ``optimizer``: host time of ``optimizer.zero_grad()`` plus ``optimizer.step()``;
- ``sync``: the wait in ``loss.item()``, the host blocked until the device has finished.

It also times the whole step on its own, with no clock readings inside it, and reports the
difference as the *residual*: the check that the parts add up, never hidden and never used as
a part. On a GPU, :mod:`torch.profiler` adds how long the device was busy (kernels, copies and
memsets), so the step's idle share follows.

How the parts are measured without changing them
    The parts are timed inside the real loop, in the real order, with one ``time.perf_counter``
    reading between phases. Each phase therefore sees the state the previous one left: after
    ``zero_grad()`` (``set_to_none=True``) the gradients are None, so ``backward`` allocates
    them, exactly as in training. Timing a phase alone in a loop (``zero_grad`` a thousand times)
    would measure a different, cheaper operation. Rounds alternate an instrumented block with a
    plain block (the order flips every round), so drift of the machine's speed hits both alike.

Why an interquartile mean, not a median
    On a noisy machine the per-round times are skewed (a slow moment only ever adds time), and
    the sum of each part's median is then below the median of the whole: medians do not add
    up. Means do. So the rounds are ranked by their pair's total time, the fastest and the
    slowest quarter are dropped (the same rounds for the parts and for the whole step), and
    each figure is the mean over the middle half: robust to a disturbed round, and additive.

Why the profiler is used only for counts and device time
    The profiler records every operator on the host, which inflates per-operator CPU times
    several-fold on a step this small. Host times therefore come from plain clock readings,
    and the profiler contributes only what it measures without that bias: operator and kernel
    counts, and kernel durations timed on the device itself.

Why not Holistic Trace Analysis
    HTA's temporal breakdown (idle, compute, non-compute) reads Chrome trace files from disk,
    one per rank, and pulls pandas and plotly. For one process's step loop the same three
    figures are the union of the device's kernel intervals (compute), of its memcpy/memset
    intervals (non-compute) and what is left of the step (idle), computed here from the
    profiler's events in a few lines.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd import DeviceType

from .data import load_iris
from .devices import resolve_device, synchronize
from .floor import course_floor_s
from .models import MLP
from .timing import median_iqr, torch_threads

__all__ = [
    "PART_NAMES",
    "StepBreakdown",
    "busy_time_s",
    "explain_course_step",
    "explain_step",
    "plot_breakdowns",
    "profiled_events",
    "profiler_log_silenced",
    "sgd_lr_0_01",
    "top_level_operators",
]

PART_NAMES = ("forward", "loss", "backward", "optimizer", "sync")
PART_COLOURS = {"forward": "#4c72b0", "loss": "#64b5cd", "backward": "#dd8452",
                "optimizer": "#55a868", "sync": "#c44e3a"}  # fmt: skip
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


def sgd_lr_0_01(params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """The default optimizer factory: plain SGD with learning rate 0.01, as in the course."""
    return torch.optim.SGD(params, lr=0.01)


@dataclass(frozen=True)
class StepBreakdown:
    """One training step, split into separately measured parts.

    Attributes
    ----------
    device:
        Where the step ran.
    parts:
        Part name to seconds per step, in the order the step runs them (see
        :data:`PART_NAMES`). A step without an optimizer has no ``optimizer`` part; an
        inference step has only ``forward`` and ``sync``.
    measured_s, measured_iqr_s:
        The whole step timed on its own (mean over the middle half of the rounds, see the
        module's notes) and the interquartile range over all rounds.
    ops:
        Top-level ATen operator calls per step (called from Python or from autograd).
    kernels:
        GPU kernels per step; None on a CPU.
    device_busy_s:
        Seconds per step the device spent running kernels, copies and memsets (the union of
        their intervals, timed on the device by the profiler); None on a CPU.
    floor_s:
        The same arithmetic with no framework, where known (:mod:`devicelab.floor`, CPU).
    rounds, steps_per_block:
        How the figures were measured.
    threads:
        torch intra-op threads during the measurement.
    """

    device: str
    parts: dict[str, float]
    measured_s: float
    measured_iqr_s: float
    ops: int
    kernels: int | None
    device_busy_s: float | None
    floor_s: float | None
    rounds: int
    steps_per_block: int
    threads: int

    @property
    def parts_sum_s(self) -> float:
        """The sum of the parts."""
        return sum(self.parts.values())

    @property
    def residual_s(self) -> float:
        """``measured_s`` minus the sum of the parts: what the parts fail to explain."""
        return self.measured_s - self.parts_sum_s

    @property
    def residual_share(self) -> float:
        """The residual as a fraction of the measured step (0.05 is 5%)."""
        return self.residual_s / self.measured_s

    @property
    def idle_share(self) -> float | None:
        """Fraction of the step the device sat idle, waiting on its host; None on a CPU."""
        if self.device_busy_s is None:
            return None
        return 1.0 - self.device_busy_s / self.measured_s

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, the derived figures included."""
        return {**asdict(self), "parts_sum_s": self.parts_sum_s,
                "residual_s": self.residual_s, "residual_share": self.residual_share,
                "idle_share": self.idle_share}  # fmt: skip

    def residual_sentence(self) -> str:
        """The residual in words, never as a negative time: which side is larger, by how much."""
        gap = abs(self.residual_s) * 1e6
        if self.residual_s >= 0:
            return (f"residual: the step took {gap:.1f} us ({abs(self.residual_share):.1%}) "
                    "more than its parts")  # fmt: skip
        return (f"residual: the parts add up to {gap:.1f} us ({abs(self.residual_share):.1%}) "
                "more than the step")  # fmt: skip

    def table(self) -> str:
        """The breakdown as a plain-text table: part, microseconds, share of the step."""
        rows = [(name, seconds) for name, seconds in self.parts.items()]
        lines = [f"{'part':<12} {'us/step':>10} {'share':>7}"]
        for name, seconds in rows:
            lines.append(f"{name:<12} {seconds * 1e6:10.1f} {seconds / self.measured_s:7.1%}")
        lines += [
            f"{'sum of parts':<12} {self.parts_sum_s * 1e6:10.1f} "
            f"{self.parts_sum_s / self.measured_s:7.1%}",
            f"{'measured':<12} {self.measured_s * 1e6:10.1f} {1:7.1%}"
            f"   (IQR {self.measured_iqr_s * 1e6:.1f} us, {self.rounds} rounds)",
            self.residual_sentence(),
        ]
        if self.device_busy_s is not None:
            lines.append(f"device busy {self.device_busy_s * 1e6:10.1f} us per step; "
                         f"idle {self.idle_share:.1%} of the step")  # fmt: skip
        if self.floor_s is not None:
            lines.append(f"arithmetic floor (no framework) {self.floor_s * 1e6:.1f} us per step")
        return "\n".join(lines)


def busy_time_s(intervals: Sequence[tuple[float, float]]) -> float:
    """Length of the union of ``(start, end)`` intervals: overlapping work counts once.

    Raises
    ------
    ValueError
        An interval ends before it starts.
    """
    bad = [(s, e) for s, e in intervals if e < s]
    if bad:
        raise ValueError(f"intervals must end after they start, got {bad[:3]}")
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def _tensors(name: str, value: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    values = (value,) if isinstance(value, torch.Tensor) else tuple(value)
    if not values or not all(isinstance(v, torch.Tensor) for v in values):
        raise TypeError(f"{name} must be a tensor or a non-empty sequence of tensors, "
                        f"got {type(value).__name__}")  # fmt: skip
    return values


def _check_placement(model: nn.Module, tensors: dict[str, torch.Tensor], device) -> None:
    for name, tensor in tensors.items():
        if tensor.device != device:
            raise ValueError(f"{name} is on {tensor.device}, but device={str(device)!r}: move "
                             f"it first with `.to(device)`")  # fmt: skip
    for name, param in model.named_parameters():
        if param.device != device:
            raise ValueError(f"the model's parameter {name!r} is on {param.device}, but "
                             f"device={str(device)!r}: move the model first with "
                             "`model.to(device)`")  # fmt: skip


def _positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def explain_step(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    targets: torch.Tensor | None = None,
    *,
    loss_fn: LossFn | None = F.cross_entropy,
    optimizer: OptimizerFactory | None = sgd_lr_0_01,
    device: str | torch.device = "cpu",
    sync: bool = True,
    steps: int = 40,
    rounds: int = 9,
    warmup: int = 5,
    num_threads: int | None = None,
) -> StepBreakdown:
    """Measure one training step of ``model`` part by part, and the whole step on its own.

    The model is trained for real while it is measured (its weights change), as in the
    course's loop.

    Parameters
    ----------
    model:
        Any module whose parameters are on ``device``.
    inputs:
        A tensor, or a sequence of tensors passed as ``model(*inputs)``, on ``device``.
    targets:
        What ``loss_fn`` compares the output with; required unless ``loss_fn`` is None.
    loss_fn:
        ``loss_fn(outputs, targets)`` (cross-entropy by default). None measures inference:
        the forward pass only, with no loss, backward or optimizer.
    optimizer:
        A factory called with the parameters (SGD with lr 0.01 by default). None: no
        optimizer, so no ``optimizer`` part (the gradients are still computed).
    device:
        Where the step runs; anything :func:`~devicelab.devices.resolve_device` accepts.
    sync:
        True reads ``loss.item()`` every step, as the course does (inference: waits for the
        device every step). False never syncs inside the block; the wait at the block's end
        is then the ``sync`` part, spread over its steps.
    steps:
        Steps per timed block.
    rounds:
        Pairs of blocks (one instrumented, one plain); figures are means over the middle half
        of the rounds.
    warmup:
        Untimed steps first (lazy initialisation, allocator growth, cuBLAS handles).
    num_threads:
        torch intra-op threads while measuring (restored afterwards); None keeps the current
        ``torch.get_num_threads()``. A tiny model's operators are too small to split across
        threads, and on a busy machine extra threads only wait for each other, so the site's
        pages measure the course's step on one.

    Raises
    ------
    TypeError
        ``model`` is not an ``nn.Module``, or ``inputs`` are not tensors.
    ValueError
        An unknown device; tensors or parameters on another device; no targets for a loss;
        an optimizer for a model without parameters; non-positive ``steps`` or ``rounds``.
    RuntimeError
        The model raised on the inputs (the message names the model and the input shapes).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    device = resolve_device(device)
    inputs = _tensors("inputs", inputs)
    _positive("steps", steps)
    _positive("rounds", rounds)
    if num_threads is not None:
        _positive("num_threads", num_threads)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be zero or a positive integer, got {warmup!r}")
    training = loss_fn is not None
    if training and targets is None:
        raise ValueError("targets are required to compute a loss; pass loss_fn=None to "
                         "measure inference only")  # fmt: skip
    placed = {f"inputs[{i}]": t for i, t in enumerate(inputs)}
    if training:
        placed["targets"] = targets
    _check_placement(model, placed, device)
    params = [p for p in model.parameters() if p.requires_grad]
    if training and optimizer is not None and not params:
        raise ValueError(f"{type(model).__name__} has no trainable parameters for the "
                         "optimizer; pass optimizer=None")  # fmt: skip
    opt = optimizer(params) if training and optimizer is not None else None
    shapes = ", ".join(str(tuple(t.shape)) for t in inputs)

    def forward() -> torch.Tensor:
        try:
            return model(*inputs)
        except Exception as error:
            raise RuntimeError(f"{type(model).__name__} raised on inputs of shape {shapes}: "
                               f"{type(error).__name__}: {error}") from error  # fmt: skip

    def plain_step() -> None:
        out = forward()
        if not training:
            if sync:
                synchronize(device)
            return
        loss = loss_fn(out, targets)
        if opt is not None:
            opt.zero_grad()
        loss.backward()
        if opt is not None:
            opt.step()
        if sync:
            loss.item()

    def timed_step(acc: dict[str, float]) -> None:
        clock = time.perf_counter
        t0 = clock()
        out = forward()
        t1 = clock()
        acc["forward"] += t1 - t0
        if not training:
            if sync:
                synchronize(device)
                acc["sync"] += clock() - t1
            return
        loss = loss_fn(out, targets)
        t2 = clock()
        acc["loss"] += t2 - t1
        if opt is not None:
            opt.zero_grad()
        t3 = clock()
        loss.backward()
        t4 = clock()
        acc["backward"] += t4 - t3
        if opt is not None:
            opt.step()
        t5 = clock()
        if opt is not None:
            acc["optimizer"] += (t3 - t2) + (t5 - t4)
        if sync:
            loss.item()
            acc["sync"] += clock() - t5

    names = [n for n in PART_NAMES if (training or n in ("forward", "sync"))
             and (n != "optimizer" or opt is not None)]  # fmt: skip

    def instrumented_block() -> dict[str, float]:
        acc = dict.fromkeys(names, 0.0)
        synchronize(device)
        for _ in range(steps):
            timed_step(acc)
        wait = time.perf_counter()
        synchronize(device)  # queued work not yet waited for belongs to the sync part
        acc["sync"] += time.perf_counter() - wait
        return {name: total / steps for name, total in acc.items()}

    def plain_block() -> float:
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            plain_step()
        synchronize(device)
        return (time.perf_counter() - start) / steps

    with torch_threads(num_threads) as threads:
        part_rounds, whole_rounds = _rounds(plain_step, instrumented_block, plain_block,
                                            warmup=warmup, rounds=rounds, device=device)  # fmt: skip
        ops, kernels, busy = _profile(plain_step, device, steps=min(steps, 5))
    kept = _middle_half(
        [sum(p.values()) + whole for p, whole in zip(part_rounds, whole_rounds, strict=True)]
    )
    parts = {name: statistics.fmean(part_rounds[i][name] for i in kept) for name in names}
    measured = statistics.fmean(whole_rounds[i] for i in kept)
    iqr = median_iqr(whole_rounds)[1]
    return StepBreakdown(str(device), parts, measured, iqr, ops, kernels, busy, None,
                         rounds, steps, threads)  # fmt: skip


def _rounds(plain_step, instrumented_block, plain_block, *, warmup, rounds, device):
    """Warm up, then alternate instrumented and plain blocks, flipping their order each round."""
    for _ in range(warmup):
        plain_step()
    synchronize(device)
    part_rounds: list[dict[str, float]] = []
    whole_rounds: list[float] = []
    for r in range(rounds):
        if r % 2:
            whole_rounds.append(plain_block())
            part_rounds.append(instrumented_block())
        else:
            part_rounds.append(instrumented_block())
            whole_rounds.append(plain_block())
    return part_rounds, whole_rounds


def _middle_half(totals: Sequence[float]) -> list[int]:
    """Indices of the rounds left after dropping the fastest and the slowest quarter."""
    order = sorted(range(len(totals)), key=totals.__getitem__)
    drop = len(totals) // 4
    return sorted(order[drop : len(totals) - drop])


@contextlib.contextmanager
def profiler_log_silenced():
    """Send the process's native stderr to /dev/null while the block runs.

    torch's profiler (kineto) writes two ``USDT: ... profiler_start/stop`` trace lines to file
    descriptor 2 each time it starts and stops, with no setting to turn them off. They are not
    warnings, but a notebook page would show them as output. Python exceptions still propagate;
    only native writes to stderr inside the block are dropped.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def profiled_events(run: Callable[[], None], device: torch.device):
    """Call ``run()`` once under :mod:`torch.profiler` (CPU, plus CUDA kernels on a GPU), wait
    for the device, and return the profiler's events. Kineto's trace lines are dropped
    (:func:`profiler_log_silenced`)."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with profiler_log_silenced(), torch.profiler.profile(activities=activities) as prof:
        run()
        synchronize(device)
    return prof.events()


def top_level_operators(events) -> list:
    """The ATen operators among ``events`` that no other ATen operator called: the ones called
    from Python or from the autograd engine, each a dispatch (and on a GPU, usually a launch)."""

    def nested_in_aten(event) -> bool:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name.startswith("aten::"):
                return True
            parent = parent.cpu_parent
        return False

    return [e for e in events if e.device_type == DeviceType.CPU
            and e.name.startswith("aten::") and not nested_in_aten(e)]  # fmt: skip


def _profile(step: Callable[[], None], device: torch.device, *, steps: int):
    """Operator calls, kernels and device-busy seconds per step, from :mod:`torch.profiler`."""

    def run() -> None:
        for _ in range(steps):
            step()

    events = profiled_events(run, device)
    ops = len(top_level_operators(events))
    on_gpu = device.type == "cuda"
    if not on_gpu:
        return round(ops / steps), None, None
    on_device = [e for e in events if e.device_type == DeviceType.CUDA]
    intervals = [(e.time_range.start, e.time_range.end) for e in on_device]  # microseconds
    return round(ops / steps), round(len(on_device) / steps), busy_time_s(intervals) / 1e6 / steps


def explain_course_step(
    device: str | torch.device = "cpu",
    *,
    sync: bool = True,
    floor: bool = True,
    steps: int = 40,
    rounds: int = 9,
    num_threads: int | None = 1,
) -> StepBreakdown:
    """:func:`explain_step` on the course's step: the seeded 4-10-3 MLP on Iris, full batch.

    On the CPU, ``floor=True`` adds the arithmetic floor (:func:`devicelab.floor.
    course_floor_s`): the same epoch compiled with numba, with no framework. It runs on one
    thread by default, like the floor (see ``num_threads`` in :func:`explain_step`).
    """
    device = resolve_device(device)
    data = load_iris(device)
    torch.manual_seed(0)
    model = MLP().to(device)
    result = explain_step(model, data.X_train, data.y_train, device=device, sync=sync,
                          steps=steps, rounds=rounds, num_threads=num_threads)  # fmt: skip
    if floor and device.type == "cpu":
        result = replace(result, floor_s=course_floor_s(data))
    return result


def plot_breakdowns(breakdowns: dict[str, StepBreakdown | dict[str, Any] | None], ax=None):
    """Draw each breakdown as one horizontal bar of stacked parts, in microseconds per step.

    ``breakdowns`` maps a bar's label to a :class:`StepBreakdown`, its ``to_dict()`` (e.g.
    read from a results file), or None for a device whose breakdown was not recorded: that
    bar says so instead of being drawn. The residual is drawn hatched after the parts (or
    marked back from their end when negative), so the eye sees whether they add up; the
    measured step is a black tick and the arithmetic floor, where known, a dotted one.
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.9 + 0.7 * len(breakdowns)))
    labels = list(breakdowns)
    drawn: set[str] = set()
    for row, label in enumerate(labels):
        entry = breakdowns[label]
        if entry is None:
            ax.text(0.01, row, "not recorded yet", va="center", transform=ax.get_yaxis_transform(),
                    style="italic", color="#555555")  # fmt: skip
            continue
        data = entry.to_dict() if isinstance(entry, StepBreakdown) else entry
        left = 0.0
        for name, seconds in data["parts"].items():
            us = seconds * 1e6
            ax.barh(row, us, left=left, color=PART_COLOURS[name], height=0.6,
                    label=None if name in drawn else name)  # fmt: skip
            drawn.add(name)
            left += us
        residual = data["residual_s"] * 1e6
        ax.barh(row, abs(residual), left=left if residual >= 0 else left + residual,
                color="none", edgecolor="#555555", hatch="///", height=0.6,
                label=None if "residual" in drawn else "residual (measured - parts)")  # fmt: skip
        drawn.add("residual")
        measured = data["measured_s"] * 1e6
        ax.plot([measured, measured], [row - 0.4, row + 0.4], color="black", lw=2,
                label=None if "measured" in drawn else "whole step, timed on its own")  # fmt: skip
        drawn.add("measured")
        if data.get("floor_s"):
            floor = data["floor_s"] * 1e6
            ax.plot([floor, floor], [row - 0.4, row + 0.4], color="black", lw=1.5, ls=":",
                    label=None if "floor" in drawn else "arithmetic floor (numba)")  # fmt: skip
            drawn.add("floor")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.invert_yaxis()
    ax.set_xlabel("microseconds per training step")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax
