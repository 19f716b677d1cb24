"""Where each microsecond of a training step goes: parts that are measured and add up.

:func:`explain_step` times each phase of :func:`devicelab.steps.train_step` and the whole step
on its own; the difference is the *residual*, the check that the parts add up.

The parts are timed inside the real loop, in the real order (:class:`~devicelab.steps.Laps`),
so each phase sees the state the previous one left (``backward`` allocates the gradients that
``zero_grad`` set to None); a phase timed alone in a loop would be a cheaper operation.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .data import load_iris
from .devices import resolve_device
from .floor import course_floor_s
from .models import MLP
from .profiling import profile_steps
from .stats import interquartile_mean, median_iqr, middle_half
from .steps import (
    Laps,
    LossFn,
    OptimizerFactory,
    StepSpec,
    prepare_step,
    run_steps,
    sgd_lr_0_01,
)
from .timing import timed_block, torch_threads

__all__ = [
    "StepBreakdown",
    "StepTime",
    "explain_course_step",
    "explain_step",
    "plot_breakdowns",
    "time_step",
]

PART_COLOURS = {
    "forward": "#4c72b0",
    "loss": "#64b5cd",
    "backward": "#dd8452",
    "optimizer": "#55a868",
    "sync": "#c44e3a",
}


@dataclass(frozen=True, kw_only=True)
class StepBreakdown:
    """One training step, split into separately measured parts.

    Attributes
    ----------
    parts:
        Part name to seconds per step, in :data:`devicelab.steps.PHASES`' order: no
        ``optimizer`` part without an optimizer; only ``forward`` and ``sync`` for inference.
    measured_s, measured_iqr_s:
        The whole step timed on its own: interquartile mean and range over rounds.
    ops:
        Top-level ATen operator calls per step (called from Python or from autograd).
    kernels, device_busy_s:
        GPU kernels per step, and seconds per step the device was busy (kernels, copies and
        memsets, timed on the device by the profiler); None on a CPU.
    floor_s:
        The same arithmetic with no framework, where known (:mod:`devicelab.floor`, CPU).
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
        return {
            **asdict(self),
            "parts_sum_s": self.parts_sum_s,
            "residual_s": self.residual_s,
            "residual_share": self.residual_share,
            "idle_share": self.idle_share,
        }

    def residual_sentence(self) -> str:
        """The residual in words, never as a negative time: which side is larger, by how much."""
        gap = f"{abs(self.residual_s) * 1e6:.1f} µs ({abs(self.residual_share):.1%})"
        if self.residual_s >= 0:
            return f"residual: the step took {gap} more than its parts"
        return f"residual: the parts add up to {gap} more than the step"

    def table(self) -> str:
        """The breakdown as a plain-text table: part, microseconds, share of the step."""
        lines = [f"{'part':<12} {'µs/step':>10} {'share':>7}"]
        for name, seconds in self.parts.items():
            lines.append(f"{name:<12} {seconds * 1e6:10.1f} {seconds / self.measured_s:7.1%}")
        lines += [
            f"{'sum of parts':<12} {self.parts_sum_s * 1e6:10.1f} "
            f"{self.parts_sum_s / self.measured_s:7.1%}",
            f"{'measured':<12} {self.measured_s * 1e6:10.1f} {1:7.1%}"
            f"   (IQR {self.measured_iqr_s * 1e6:.1f} µs, {self.rounds} rounds)",
            self.residual_sentence(),
        ]
        if self.device_busy_s is not None:
            lines.append(
                f"device busy {self.device_busy_s * 1e6:10.1f} µs per step; "
                f"idle {self.idle_share:.1%} of the step"
            )
        if self.floor_s is not None:
            lines.append(f"arithmetic floor (no framework) {self.floor_s * 1e6:.1f} µs per step")
        return "\n".join(lines)


def _rounds(
    spec: StepSpec, *, steps: int, rounds: int
) -> tuple[list[dict[str, float]], list[float]]:
    """Alternate an instrumented block (laps read the clock between phases) with a plain one,
    flipping their order each round so drift hits both alike. Seconds per step of each."""

    def instrumented() -> dict[str, float]:
        laps = Laps(spec.phases)

        def run() -> None:
            laps.start()
            run_steps(spec, 1, steps, lap=laps)

        total = timed_block(run, spec.device)
        # what the laps did not see is the wait at the block's end: queued work, a sync
        laps.seconds["sync"] += total - sum(laps.seconds.values())
        return {phase: seconds / steps for phase, seconds in laps.seconds.items()}

    def plain() -> float:
        return timed_block(lambda: run_steps(spec, 1, steps), spec.device) / steps

    part_rounds: list[dict[str, float]] = []
    whole_rounds: list[float] = []
    for r in range(rounds):
        if r % 2:
            whole_rounds.append(plain())
        part_rounds.append(instrumented())
        if not r % 2:
            whole_rounds.append(plain())
    return part_rounds, whole_rounds


def _positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_counts(steps: int, rounds: int, warmup: int, num_threads: int | None = None) -> None:
    _positive("steps", steps)
    _positive("rounds", rounds)
    if num_threads is not None:
        _positive("num_threads", num_threads)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be zero or a positive integer, got {warmup!r}")


def explain_step(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor | None = None,
    loss_fn: LossFn | None = F.cross_entropy,
    optimizer: OptimizerFactory | None = sgd_lr_0_01,
    device: str | torch.device | None = "cpu",
    steps: int = 40,
    rounds: int = 9,
    warmup: int = 5,
    num_threads: int | None = None,
) -> StepBreakdown:
    """Measure one training step of ``model`` part by part, and the whole step on its own. The
    model is trained for real while it is measured (its weights change).

    Parameters
    ----------
    model, inputs, targets:
        Any module whose parameters are on ``device``; a tensor or a sequence of tensors
        passed as ``model(*inputs)``; what ``loss_fn`` compares the output with.
    loss_fn, optimizer:
        ``loss_fn(outputs, targets)`` (cross-entropy; None measures inference), and a factory
        called with the parameters (SGD with lr 0.01; None: no optimizer part).
    steps, rounds, warmup:
        Steps per timed block; pairs of blocks (one instrumented, one plain), the figures
        being interquartile means over rounds; untimed steps first.
    num_threads:
        torch intra-op threads while measuring (None: the current number).

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
    device = resolve_device(device)
    _check_counts(steps, rounds, warmup, num_threads)
    spec = prepare_step(
        model, inputs, targets=targets, loss_fn=loss_fn, optimizer=optimizer, device=device
    )
    with torch_threads(num_threads) as threads:
        run_steps(spec, 1, warmup)
        part_rounds, whole_rounds = _rounds(spec, steps=steps, rounds=rounds)
        # only counts and device time come from the profiler: it inflates host times
        profile = profile_steps(
            lambda: run_steps(spec, 1, min(steps, 5)), device, steps=min(steps, 5)
        )
    # interquartile means of the same rounds for the parts and the whole, ranked by the pair's
    # total: times on a noisy machine are skewed, and medians would not add up
    kept = middle_half(
        [sum(p.values()) + w for p, w in zip(part_rounds, whole_rounds, strict=True)]
    )
    parts = {name: statistics.fmean(part_rounds[i][name] for i in kept) for name in spec.phases}
    measured = statistics.fmean(whole_rounds[i] for i in kept)
    return StepBreakdown(
        device=str(device),
        parts=parts,
        measured_s=measured,
        measured_iqr_s=median_iqr(whole_rounds)[1],
        ops=profile.ops,
        kernels=profile.kernels,
        device_busy_s=profile.device_busy_s,
        floor_s=None,
        rounds=rounds,
        steps_per_block=steps,
        threads=threads,
    )


@dataclass(frozen=True)
class StepTime:
    """The whole step timed on its own (:func:`time_step`): the interquartile mean and range of
    the rounds' seconds per step."""

    mean_s: float
    iqr_s: float


def time_step(
    spec: StepSpec,
    *,
    steps: int = 40,
    rounds: int = 9,
    warmup: int = 5,
) -> StepTime:
    """Time the whole step of ``spec`` the way :func:`explain_step` times it, without the parts:
    ``rounds`` blocks of ``steps`` steps after ``warmup`` untimed ones, interquartile mean.

    Raises
    ------
    ValueError
        Non-positive ``steps`` or ``rounds``, or a negative ``warmup``.
    """
    _check_counts(steps, rounds, warmup)
    run_steps(spec, 1, warmup)
    whole = [
        timed_block(lambda: run_steps(spec, 1, steps), spec.device) / steps for _ in range(rounds)
    ]
    return StepTime(interquartile_mean(whole), median_iqr(whole)[1])


def explain_course_step(
    device: str | torch.device | None = "cpu", *, steps: int = 40, rounds: int = 9
) -> StepBreakdown:
    """:func:`explain_step` on the course's step: the seeded 4-10-3 MLP on Iris, full batch, on
    one thread; on the CPU with the arithmetic floor (:func:`devicelab.floor.course_floor_s`)."""
    device = resolve_device(device)
    data = load_iris(device)
    torch.manual_seed(0)
    model = MLP().to(device)
    result = explain_step(
        model,
        data.X_train,
        targets=data.y_train,
        device=device,
        steps=steps,
        rounds=rounds,
        num_threads=1,  # the site's CPU figures are at one thread, like the floor's
    )
    if device.type == "cpu":
        result = replace(result, floor_s=course_floor_s(data))
    return result


def plot_breakdowns(breakdowns: dict[str, StepBreakdown | dict[str, Any] | float | None], ax=None):
    """Draw each breakdown as one horizontal bar of stacked parts, in microseconds per step.

    ``breakdowns`` maps a bar's label to a :class:`StepBreakdown`, its ``to_dict()`` (e.g.
    from a results file), the seconds of a step recorded whole but not in parts (drawn whole,
    dotted), or None (nothing recorded: the bar says so). The residual is hatched after the
    parts (back from their end when negative), the measured step a black tick and the
    arithmetic floor, where known, a dotted one. Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.9 + 0.7 * len(breakdowns)))
    labels = list(breakdowns)
    drawn: set[str] = set()
    for row, label in enumerate(labels):
        entry = breakdowns[label]
        if entry is None:
            ax.text(
                0.01,
                row,
                "not recorded yet",
                va="center",
                transform=ax.get_yaxis_transform(),
                style="italic",
                color="#555555",
            )
            continue
        if isinstance(entry, (int, float)):
            _whole_step_bar(ax, row, entry * 1e6, drawn)
            continue
        data = entry.to_dict() if isinstance(entry, StepBreakdown) else entry
        left = 0.0
        for name, seconds in data["parts"].items():
            us = seconds * 1e6
            ax.barh(
                row,
                us,
                left=left,
                color=PART_COLOURS[name],
                height=0.6,
                label=None if name in drawn else name,
            )
            drawn.add(name)
            left += us
        residual = data["residual_s"] * 1e6
        ax.barh(
            row,
            abs(residual),
            left=left if residual >= 0 else left + residual,
            color="none",
            edgecolor="#555555",
            hatch="///",
            height=0.6,
            label=None if "residual" in drawn else "residual (measured - parts)",
        )
        drawn.add("residual")
        _measured_tick(ax, row, data["measured_s"] * 1e6, drawn)
        if data.get("floor_s"):
            floor = data["floor_s"] * 1e6
            ax.plot(
                [floor, floor],
                [row - 0.4, row + 0.4],
                color="black",
                lw=1.5,
                ls=":",
                label=None if "floor" in drawn else "arithmetic floor (numba)",
            )
            drawn.add("floor")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.invert_yaxis()
    ax.set_xlabel("microseconds per training step")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def _measured_tick(ax, row: int, us: float, drawn: set[str]) -> None:
    """The whole step, timed on its own: a black tick across the bar."""
    ax.plot(
        [us, us],
        [row - 0.4, row + 0.4],
        color="black",
        lw=2,
        label=None if "measured" in drawn else "whole step, timed on its own",
    )
    drawn.add("measured")


def _whole_step_bar(ax, row: int, us: float, drawn: set[str]) -> None:
    """A step recorded whole, its parts not: one outlined, dotted bar and the measured tick."""
    ax.barh(
        row,
        us,
        color="#eeeeee",
        edgecolor="#555555",
        hatch="..",
        height=0.6,
        label=None if "whole" in drawn else "parts not recorded (whole step only)",
    )
    drawn.add("whole")
    _measured_tick(ax, row, us, drawn)
