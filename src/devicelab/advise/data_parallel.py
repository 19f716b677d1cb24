"""The advice's data-parallel line: would ``world_size`` processes speed up *your* model?

The model is :mod:`devicelab.distributed.crossover`'s, with the step fitted on the advice's
batch test and the all-reduce measured here after a barrier, the best case
(:doc:`/auto_examples/overheads/plot_communication` measures what a training step adds): the
crossover this line gives is a lower bound.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from ..distributed import (
    HockneyFit,
    WorkerError,
    allreduce_sweep,
    check_world,
    predicted_crossover_batch,
)
from ..stats import Interval
from .reasons import format_step

__all__ = [
    "COSTS_VARIABLE",
    "QUICK_ROUNDS",
    "QUICK_SIZES",
    "WORLD_SIZE",
    "DataParallelAdvice",
    "allreduce_costs",
    "data_parallel_advice",
    "given_costs",
]

#: The quick sweep's sizes, one latency-bound and one bandwidth-bound.
QUICK_SIZES = (4, 16 * 2**20)
#: The quick sweep's rounds.
QUICK_ROUNDS = 5
WORLD_SIZE = 2
BACKEND = "gloo"


#: ``"ALPHA_S,BETA_BYTES_PER_S"`` in this environment variable gives the all-reduce's costs
#: instead of measuring them (e.g. from a bench record, or where processes may not be spawned).
COSTS_VARIABLE = "DEVICELAB_ALLREDUCE_COSTS"


def given_costs() -> HockneyFit | None:
    """The costs :data:`COSTS_VARIABLE` gives, or None when it is unset.

    Raises
    ------
    ValueError
        The variable is set but is not two positive numbers.
    """
    text = os.environ.get(COSTS_VARIABLE, "").strip()
    if not text:
        return None
    try:
        alpha, beta = (float(part) for part in text.split(","))
    except ValueError:
        alpha = beta = -1.0
    if not (alpha >= 0 and beta > 0):
        raise ValueError(
            f"{COSTS_VARIABLE} must be 'ALPHA_S,BETA_BYTES_PER_S' (e.g. 2e-4,1.4e9), got {text!r}"
        )
    return HockneyFit(Interval(alpha, alpha, alpha), Interval(beta, beta, beta))


@functools.cache
def allreduce_costs(world_size: int = WORLD_SIZE, backend: str = BACKEND) -> HockneyFit:
    """``alpha`` and ``beta`` between ``world_size`` processes here, from a quick sweep (seconds,
    mostly starting the processes), measured once per process.

    Raises
    ------
    ValueError
        This machine cannot run the group (:func:`devicelab.distributed.check_world`).
    WorkerError
        A rank failed or hung.
    """
    check_world(world_size, backend)
    return allreduce_sweep(
        QUICK_SIZES, world_size=world_size, backend=backend, rounds=QUICK_ROUNDS, warmup=2
    ).fit


@dataclass(frozen=True, kw_only=True)
class DataParallelAdvice:
    """Whether ``world_size`` gloo processes would speed up the model's training step at
    ``batch``; the all-reduce's fields are None when it could not be measured.

    ``step_s`` is the measured CPU step, ``fixed_s + per_sample_s * batch`` its fitted line,
    ``ddp_step_s`` is ``step(batch / world_size) + allreduce_s``; ``from_batch`` is None too
    when no batch would pay.
    """

    world_size: int
    backend: str
    batch: int
    gradient_bytes: int
    alpha_s: float | None = None
    beta_bytes_per_s: float | None = None
    allreduce_s: float | None = None
    step_s: float
    fixed_s: float | None
    per_sample_s: float | None
    ddp_step_s: float | None = None
    speeds_up: bool | None = None
    from_batch: int | None = None
    source: str
    reason: str


def _line(points: list[dict[str, Any]]) -> tuple[float, float] | None:
    """``(fixed, per_sample)`` of ``step = fixed + per_sample * batch`` by least squares, or
    None with fewer than two batches."""
    batches = np.asarray([p["batch"] for p in points], dtype=float)
    if np.unique(batches).size < 2:
        return None
    steps = np.asarray([p["step_s"] for p in points], dtype=float)
    per_sample, fixed = np.polyfit(batches, steps, 1)
    return float(fixed), float(per_sample)


def data_parallel_advice(
    model: nn.Module,
    batch: int,
    batch_test: dict[str, Any],
    *,
    costs: HockneyFit | None = None,
) -> DataParallelAdvice | None:
    """The data-parallel line for ``model`` at ``batch``, for ``WORLD_SIZE`` processes; None
    when the CPU was not measured (there is no step to split).

    Parameters
    ----------
    batch_test:
        The advice's batch test: its ``"points"`` measured on the CPU give the step.
    costs:
        ``alpha`` and ``beta`` to use; None takes them from :data:`COSTS_VARIABLE` when it
        is set, else measures them once per process (:func:`allreduce_costs`).
    """
    cpu = [p for p in batch_test["points"] if p["device"] == "cpu" and not p["predicted"]]
    if not cpu:
        return None
    grads = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    name = type(model).__name__
    source = (
        "given"
        if costs is not None
        else f"given by {COSTS_VARIABLE}"
        if os.environ.get(COSTS_VARIABLE, "").strip()
        else f"measured here once: a quick sweep of {len(QUICK_SIZES)} sizes, "
        f"{QUICK_ROUNDS} rounds, {WORLD_SIZE} {BACKEND} processes"
    )
    fixed, per_sample = _line(cpu) or (None, None)
    at_batch = [p["step_s"] for p in cpu if p["batch"] == batch]
    if at_batch:
        step_s = min(at_batch)
    else:  # the batch test skipped the example's batch: the fitted step there
        step_s = fixed + per_sample * batch if per_sample is not None else cpu[0]["step_s"]
    known = {
        "world_size": WORLD_SIZE,
        "backend": BACKEND,
        "batch": batch,
        "gradient_bytes": grads,
        "step_s": step_s,
        "fixed_s": fixed,
        "per_sample_s": per_sample,
        "source": source,
    }
    try:
        if costs is None:
            costs = given_costs() or allreduce_costs(WORLD_SIZE, BACKEND)
    except (ValueError, WorkerError) as error:
        return DataParallelAdvice(
            **known,
            reason=f"Data parallel: not estimated for {name}: the all-reduce could not be "
            f"measured here ({error}).",
        )
    talk = costs.seconds(grads)  # one all-reduce of every gradient
    ddp = speeds_up = start = None
    if per_sample is not None:
        ddp = fixed + per_sample * batch / WORLD_SIZE + talk
        start = predicted_crossover_batch(per_sample, talk, WORLD_SIZE)
        speeds_up = start is not None and batch >= start
    return DataParallelAdvice(
        **known,
        alpha_s=costs.alpha_s.estimate,
        beta_bytes_per_s=costs.beta_bytes_per_s.estimate,
        allreduce_s=talk,
        ddp_step_s=ddp,
        speeds_up=speeds_up,
        from_batch=start,
        reason=_reason(name, known, costs, talk, ddp, speeds_up, start),
    )


def _reason(name, known, costs, talk, ddp, speeds_up, start) -> str:
    grads, batch, per_sample = known["gradient_bytes"], known["batch"], known["per_sample_s"]
    talking = (
        f"each step would all-reduce {grads / 1e6:.3g} MB of gradients, "
        f"{format_step(talk)} by this machine's alpha {format_step(costs.alpha_s.estimate)} and "
        f"beta {costs.beta_bytes_per_s.estimate / 1e9:.3g} GB/s"
    )
    who = f"Data parallel: {WORLD_SIZE} {BACKEND} processes"
    if per_sample is None:
        return f"{who}: not estimated for {name}: {talking}, and one batch size gives no slope."
    if per_sample <= 0:
        return (
            f"{who} would not speed up {name} at any batch: the measured step does not grow "
            f"with the batch, so there is no compute to share, and {talking}."
        )
    saved = per_sample * batch * (1 - 1 / WORLD_SIZE)
    single = known["fixed_s"] + per_sample * batch
    if speeds_up:
        verdict = (
            f"{who} would speed up {name} at batch {batch:,}: sharing the batch saves "
            f"{format_step(saved)} of compute a step, more than the all-reduce ({talking}): "
            f"about x{single / ddp:.2f}"
        )
    else:
        verdict = (
            f"{who} would not speed up {name} at batch {batch:,}: {talking}, more than the "
            f"{format_step(saved)} of compute that sharing the batch saves (the measured step "
            f"grows {format_step(per_sample)} a sample)"
        )
    return (
        f"{verdict}; they would pay from a batch of about {start:,} on (a best case: the "
        "all-reduce is measured after a barrier)."
    )
