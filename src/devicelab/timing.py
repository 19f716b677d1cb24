"""A thin layer over :mod:`torch.utils.benchmark`: warm-up, sync, repeats, median and spread.

``torch.utils.benchmark.Timer`` already synchronises the accelerator before each clock
reading and picks how many calls to time per sample. This module adds three things the
lessons need: an explicit warm-up (the first CUDA call builds the context and cuBLAS handles),
the caller's thread count instead of the Timer's default of one thread, and a small frozen
result that serialises to JSON.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.utils.benchmark as benchmark

__all__ = ["BlockTimes", "Timing", "measure", "median_iqr"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call of one measured function.

    Attributes
    ----------
    label:
        What was measured.
    median_s:
        Median seconds per call across samples.
    iqr_s:
        Interquartile range of seconds per call across samples: the spread.
    samples:
        How many samples (timed blocks) the median is over.
    calls_per_sample:
        Calls per timed block; a block's time divided by this is one sample.
    threads:
        torch intra-op threads during the measurement.
    """

    label: str
    median_s: float
    iqr_s: float
    samples: int
    calls_per_sample: int
    threads: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)

    def __str__(self) -> str:
        return (f"{self.label}: {_fmt(self.median_s)} median, IQR {_fmt(self.iqr_s)} "
                f"({self.samples} x {self.calls_per_sample} calls, {self.threads} threads)")  # fmt: skip


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def measure(
    fn: Callable[[], object],
    *,
    label: str = "",
    min_run_time: float = 0.2,
    warmup: int = 3,
    num_threads: int | None = None,
) -> Timing:
    """Time ``fn()`` with warm-up, accelerator synchronisation and repeats.

    Parameters
    ----------
    fn:
        Called with no arguments. Work it queues on a GPU is included: the Timer waits for
        the accelerator before each clock reading.
    label:
        Carried into the result.
    min_run_time:
        Seconds of timed calls to collect at least (``Timer.blocked_autorange``).
    warmup:
        Untimed calls first (context creation, cuBLAS handles, allocator growth, compilation).
    num_threads:
        torch intra-op threads while timing; None keeps the current ``torch.get_num_threads()``.

    Raises
    ------
    ValueError
        ``min_run_time`` is not positive or ``warmup`` is negative.
    """
    if not min_run_time > 0:
        raise ValueError(f"min_run_time must be positive, got {min_run_time}")
    if warmup < 0:
        raise ValueError(f"warmup must be zero or more, got {warmup}")
    threads = num_threads if num_threads is not None else torch.get_num_threads()
    for _ in range(warmup):
        fn()
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads, label=label)
    result = timer.blocked_autorange(min_run_time=min_run_time)
    return Timing(
        label=label,
        median_s=result.median,
        iqr_s=result.iqr,
        samples=len(result.times),
        calls_per_sample=result.number_per_run,
        threads=threads,
    )


def median_iqr(samples: Sequence[float]) -> tuple[float, float]:
    """Median and interquartile range of ``samples`` (IQR 0 for a single sample).

    Raises
    ------
    ValueError
        ``samples`` is empty.
    """
    if len(samples) == 0:
        raise ValueError("no samples: a timing needs at least one")
    if len(samples) == 1:
        return samples[0], 0.0
    q1, median, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return median, q3 - q1


class BlockTimes:
    """Mixin for results timed in blocks of epochs: a ``block_epoch_times_s`` list gives the
    median seconds per epoch and its interquartile range."""

    block_epoch_times_s: list[float]

    @property
    def epoch_time_s(self) -> float:
        """Median seconds per epoch over the timed blocks."""
        return median_iqr(self.block_epoch_times_s)[0]

    @property
    def epoch_time_iqr_s(self) -> float:
        """Interquartile range of the per-block seconds per epoch (0 with a single block)."""
        return median_iqr(self.block_epoch_times_s)[1]
