"""Where data parallel starts to pay: the batch at which ``world_size`` processes beat one.

A DDP step costs about ``compute(B / p) + alpha + bytes / beta`` against ``compute(B)`` for one
process: the all-reduce does not grow with the batch, the compute does, so at a large enough
batch the saved compute pays for the talking.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..stats import Interval, compare_samples
from ..steps import LossFn
from .allreduce import AllReduceSweep, HockneyFit
from .data_parallel import (
    DDP,
    NO_SYNC,
    ONE_PROCESS,
    SHARE,
    ModelFactory,
    _check_counts,
    _CompareJob,
    _workload,
)
from .launch import check_world, run_ranks

__all__ = [
    "Bracket",
    "CrossoverPoint",
    "DataParallelCrossover",
    "bracket",
    "data_parallel_crossover",
    "predicted_crossover_batch",
]


@dataclass(frozen=True, kw_only=True)
class CrossoverPoint:
    """One batch of the crossover sweep, in seconds per step: the variants of
    :mod:`devicelab.distributed.data_parallel` (``no_sync_s``: every rank on its share at once,
    no communication), and ``predicted_ddp_s``, the share's compute plus the fitted all-reduce."""

    batch: int
    steps_per_block: int
    one_process_s: Interval
    share_s: Interval
    no_sync_s: Interval
    ddp_s: Interval
    ratio: Interval
    predicted_ddp_s: Interval

    @property
    def measured(self) -> str:
        """``"slower"`` or ``"faster"`` when the ratio's interval says so, else ``"unclear"``."""
        if self.ratio.above(1):
            return "slower"
        return "faster" if self.ratio.below(1) else "unclear"

    @property
    def predicted(self) -> str:
        """The prediction's verdict, ``"slower"`` or ``"faster"`` when its range and the one
        process's interval do not overlap, else ``"unclear"``."""
        if self.predicted_ddp_s.low > self.one_process_s.high:
            return "slower"
        return "faster" if self.predicted_ddp_s.high < self.one_process_s.low else "unclear"

    @property
    def predicted_ratio(self) -> float:
        """Predicted DDP step over the measured one-process step."""
        return self.predicted_ddp_s.estimate / self.one_process_s.estimate

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with both verdicts."""
        return {**asdict(self), "measured": self.measured, "predicted": self.predicted}


@dataclass(frozen=True)
class Bracket:
    """Where the crossover lies among the swept batches: above ``low``, the largest batch
    below ``high`` at which DDP was surely slower, and at most ``high``, the first at which it
    was surely faster; ``estimate`` interpolates where the central ratio crosses 1 (each None
    when there is none)."""

    low: int | None
    high: int | None
    estimate: float | None

    @property
    def found(self) -> bool:
        """Whether DDP was surely faster at some batch of the sweep."""
        return self.high is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def __str__(self) -> str:
        if self.high is None:
            above = f" (DDP slower up to {self.low:,})" if self.low is not None else ""
            return f"not within the sweep{above}"
        low = f"above {self.low:,} and " if self.low is not None else ""
        middle = f", about {self.estimate:,.0f}" if self.estimate is not None else ""
        return f"{low}at most {self.high:,} rows{middle}"


def bracket(batches: Sequence[int], verdicts: Sequence[str], ratios: Sequence[float]) -> Bracket:
    """The :class:`Bracket` of a sweep: per batch (ascending) the verdict (``"slower"``,
    ``"faster"`` or ``"unclear"``) and the central ratio of DDP to one process.

    The estimate is looked for inside the bracket only (from ``low``, or the first batch, to
    ``high``), so that a noisy ratio elsewhere cannot put it where the intervals do not."""
    pairs = list(zip(batches, verdicts, strict=True))
    high = next((b for b, v in pairs if v == "faster"), None)
    slower = [b for b, v in pairs if v == "slower" and (high is None or b < high)]
    low = max(slower) if slower else None
    if high is None:
        return Bracket(low, None, None)
    first, last = batches.index(low) if low is not None else 0, batches.index(high)
    estimate = None
    for i in range(first, last + 1):
        if ratios[i] <= 1:
            if i == first:
                estimate = float(batches[i])
            else:
                lo, hi = math.log(batches[i - 1]), math.log(batches[i])
                above, below = math.log(ratios[i - 1]), math.log(ratios[i])
                estimate = math.exp(lo + above / (above - below) * (hi - lo))
            break
    return Bracket(low, high, estimate)


@dataclass(frozen=True, kw_only=True)
class DataParallelCrossover:
    """DDP against one process at growing batches: one :class:`CrossoverPoint` per batch,
    smallest first, and the measured and predicted :class:`Bracket` s."""

    world_size: int
    backend: str
    gradient_bytes: int
    buckets: int | None
    fit: HockneyFit
    points: list[CrossoverPoint]
    measured: Bracket
    predicted: Bracket

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            **asdict(self),
            "fit": self.fit.to_dict(),
            "points": [p.to_dict() for p in self.points],
        }


def predicted_crossover_batch(
    per_sample_s: float, allreduce_s: float, world_size: int
) -> int | None:
    """The smallest batch from which ``world_size`` DDP ranks should beat one process.

    With the compute growing by ``per_sample_s`` a row, sharing the batch saves
    ``per_sample_s * B * (1 - 1/p)``, which pays for the all-reduce from ``B = allreduce_s /
    (per_sample_s * (1 - 1/p))`` on. None when the compute does not grow with the batch.

    Raises
    ------
    ValueError
        ``world_size`` is below 2, or ``allreduce_s`` is negative.
    """
    if world_size < 2 or not allreduce_s >= 0:
        raise ValueError(
            f"world_size must be at least 2 and allreduce_s zero or more, got {world_size} "
            f"and {allreduce_s}"
        )
    if not per_sample_s > 0:
        return None
    return max(1, math.ceil(allreduce_s / (per_sample_s * (1 - 1 / world_size))))


def data_parallel_crossover(
    model_factory: ModelFactory,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor,
    batches: Sequence[int],
    costs: HockneyFit | AllReduceSweep,
    world_size: int = 2,
    backend: str = "gloo",
    rounds: int = 7,
    loss_fn: LossFn = F.cross_entropy,
    seed: int = 0,
    timeout_s: float = 300,
    confidence: float = 0.95,
) -> DataParallelCrossover:
    """Compare one process and DDP at each batch; bracket where DDP starts to win.

    At each batch the rows of ``inputs`` and ``targets`` are repeated to fill it, and
    ``"one process"``, ``"its share"`` and ``"DDP"`` are timed in paired rounds as in
    :func:`~devicelab.distributed.compare_data_parallel`. The prediction is the share's
    measured compute plus ``costs``' all-reduce of the gradients.

    Parameters
    ----------
    batches:
        At least 2 batch sizes, each at least ``world_size``.
    costs:
        The Hockney fit (or the :class:`~devicelab.distributed.AllReduceSweep` that holds it)
        measured between the same kind of ranks.

    Raises
    ------
    ValueError, TypeError, WorkerError
        As :func:`~devicelab.distributed.compare_data_parallel` raises them, and for bad
        batches.
    """
    check_world(world_size, backend)
    _check_counts(None, rounds, None)
    sizes = tuple(batches)
    bad = [b for b in sizes if isinstance(b, bool) or not isinstance(b, int) or b < world_size]
    if len(set(sizes)) < 2 or bad:
        raise ValueError(
            f"batches must be at least 2 distinct integers of at least world_size={world_size} "
            f"rows, got {list(sizes)}"
        )
    sizes = tuple(sorted(set(sizes)))
    fit = costs.fit if isinstance(costs, AllReduceSweep) else costs
    work = _workload(model_factory, inputs, targets, loss_fn, seed, world_size)
    job = _CompareJob(work, sizes, None, rounds, None)
    results = run_ranks(job, world_size=world_size, backend=backend, timeout_s=timeout_s)[0]
    grads, buckets = results[0]["gradient_bytes"], results[0]["buckets"][DDP]
    allreduce = fit.seconds_interval(grads, buckets or 1)
    points = []
    for result in results:
        samples = result["samples"]
        paired = compare_samples(samples, baseline=ONE_PROCESS, confidence=confidence)
        share = paired.intervals[SHARE]
        predicted = Interval(
            share.estimate + allreduce.estimate,
            share.low + allreduce.low,
            share.high + allreduce.high,
            confidence,
        )
        points.append(
            CrossoverPoint(
                batch=result["batch"],
                steps_per_block=result["steps"],
                one_process_s=paired.intervals[ONE_PROCESS],
                share_s=share,
                no_sync_s=paired.intervals[NO_SYNC],
                ddp_s=paired.intervals[DDP],
                ratio=paired.ratios[DDP],
                predicted_ddp_s=predicted,
            )
        )
    return DataParallelCrossover(
        world_size=world_size,
        backend=backend,
        gradient_bytes=grads,
        buckets=buckets,
        fit=fit,
        points=points,
        measured=bracket(sizes, [p.measured for p in points], [p.ratio.estimate for p in points]),
        predicted=bracket(
            sizes, [p.predicted for p in points], [p.predicted_ratio for p in points]
        ),
    )
