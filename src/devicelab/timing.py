"""The clock: one timed block (:func:`timed_block`), one thread setting
(:func:`torch_threads`), and the timers built on them. Every timing in devicelab goes through
this module."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch

from .devices import resolve_device, synchronize
from .stats import (
    Comparison,
    _check_rounds,
    _check_variants,
    compare_samples,
    format_seconds,
    median_iqr,
    round_orders,
)

__all__ = [
    "BlockTimes",
    "Clock",
    "Timing",
    "compare",
    "measure",
    "timed_block",
    "timed_blocks",
    "torch_threads",
]

#: A clock, which returns seconds. :func:`time.perf_counter` unless a test injects a fake one.
Clock = Callable[[], float]


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Seconds per call of one measured function: ``samples`` timed blocks of
    ``calls_per_sample`` calls each, at ``threads`` torch threads."""

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
        return (
            f"{self.label}: {format_seconds(self.median_s)} median, IQR {format_seconds(self.iqr_s)} "
            f"({self.samples} x {self.calls_per_sample} calls, {self.threads} threads)"
        )


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[int]:
    """Run the block with ``count`` torch intra-op threads (None: the current number), and
    restore the previous number afterwards, even on an error. Yields the number in force."""
    before = torch.get_num_threads()
    threads = count if count is not None else before
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def measure(
    fn: Callable[[], object],
    *,
    label: str = "",
    min_run_time: float = 0.2,
    warmup: int = 3,
    num_threads: int | None = None,
) -> Timing:
    """Time ``fn()`` with :mod:`torch.utils.benchmark` (which waits for the accelerator and
    sizes its blocks itself), after ``warmup`` untimed calls.

    Parameters
    ----------
    min_run_time:
        Seconds of timed calls to collect at least (``Timer.blocked_autorange``).
    num_threads:
        torch intra-op threads while timing; None keeps the current setting.

    Raises
    ------
    ValueError
        ``min_run_time`` is not positive or ``warmup`` is negative.
    """
    if not min_run_time > 0:
        raise ValueError(f"min_run_time must be positive, got {min_run_time}")
    if warmup < 0:
        raise ValueError(f"warmup must be zero or more, got {warmup}")
    with torch_threads(num_threads) as threads:
        for _ in range(warmup):
            fn()
        # imported here: torch.utils.benchmark pulls in setuptools (about half a second), which
        # predicting or pricing a step never needs (tests/test_import_cost.py)
        import torch.utils.benchmark as benchmark

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


def timed_block(
    run: Callable[[], object], device: torch.device, *, clock: Clock = time.perf_counter
) -> float:
    """Seconds that ``run()`` takes on ``device``, queued work included.

    Without the first wait, work queued earlier would be charged to this block; without the
    second, a GPU block would measure only how long it took to *queue* its work.
    """
    synchronize(device)
    start = clock()
    run()
    synchronize(device)
    return clock() - start


def timed_blocks(
    run_range: Callable[[int, int], object],
    count: int,
    device: torch.device,
    *,
    blocks: int = 20,
    clock: Clock = time.perf_counter,
) -> tuple[float, list[float]]:
    """Run ``run_range(first, last)`` over ``1..count`` in equal timed blocks. Returns the total
    seconds and the seconds per unit (e.g. per epoch) of each block."""
    blocks = max(1, min(blocks, count))
    edges = [round(i * count / blocks) for i in range(blocks + 1)]
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    seconds = [
        timed_block(lambda f=first, la=last: run_range(f + 1, la), device, clock=clock)
        for first, last in spans
    ]
    return sum(seconds), [
        s / (last - first) for s, (first, last) in zip(seconds, spans, strict=True)
    ]


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


def compare(
    variants: Mapping[str, Callable[[], object]],
    *,
    baseline: str,
    rounds: int = 10,
    confidence: float = 0.95,
    warmup: int = 1,
    num_threads: int | None = None,
    device: str | torch.device | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Comparison:
    """Time ``variants`` in alternating rounds and compare each with ``baseline``, paired.

    Every round times each variant once (one call, a :func:`timed_block`), in an order shuffled per
    round. A machine that drifts slows every variant of a round alike, so the per-round ratios
    cancel the drift.

    Parameters
    ----------
    variants:
        Name to a callable that runs one measured unit, e.g. a block of 200 epochs; every
        variant is called equally often.
    rounds:
        Paired rounds, at least 2; 10 or more gives usable intervals.
    device:
        Each unit is a :func:`timed_block` on it (None: ``"auto"``).

    Raises
    ------
    ValueError
        Fewer than 2 variants, an unknown ``baseline``, ``rounds`` < 2, ``confidence``
        outside (0, 1), or ``warmup`` < 0.
    TypeError
        A variant is not callable.
    """
    _check_variants(variants, baseline, confidence)
    _check_rounds(rounds)
    if warmup < 0:
        raise ValueError(f"warmup must be zero or more, got {warmup}")
    for name, fn in variants.items():
        if not callable(fn):
            raise TypeError(
                f"variant {name!r} must be a callable that runs one unit, got {type(fn).__name__}"
            )
    where = resolve_device(device)
    orders = round_orders(list(variants), rounds)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with torch_threads(num_threads) as threads:
        for fn in variants.values():
            for _ in range(warmup):
                fn()
        for order in orders:
            for name in order:
                samples[name].append(timed_block(variants[name], where, clock=clock))
    return compare_samples(
        samples, baseline=baseline, confidence=confidence, orders=orders, threads=threads
    )
