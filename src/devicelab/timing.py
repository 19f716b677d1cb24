"""Timing: one function on its own, and several compared in paired, interleaved rounds.

:func:`measure` is a thin layer over :mod:`torch.utils.benchmark`.
``torch.utils.benchmark.Timer`` already synchronises the accelerator before each clock
reading and picks how many calls to time per sample. :func:`measure` adds an explicit warm-up
(the first CUDA call builds the context and cuBLAS handles), the caller's thread count instead
of the Timer's default of one thread, and a small frozen result that serialises to JSON.

:func:`compare` is for claims ("B is 2x faster than A"). A shared machine drifts by 2x within
minutes, so two variants timed one after the other can differ by more than the effect being
measured. :func:`compare` runs the variants in alternating rounds (A, B, C, then B, C, A, ...)
in one process at one thread setting, so drift hits every variant of a round alike, and turns
each round into paired ratios against a baseline. :func:`slope_interval` does the same for a
regression, e.g. time against the number of syncs. Both give an :class:`Interval` from a
percentile bootstrap over rounds.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.utils.benchmark as benchmark

from .devices import resolve_device, synchronize

__all__ = [
    "BlockTimes",
    "Comparison",
    "Interval",
    "Timing",
    "bootstrap_median",
    "compare",
    "compare_samples",
    "measure",
    "median_iqr",
    "slope_interval",
    "torch_threads",
]


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


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[int]:
    """Run the block with ``count`` torch intra-op threads (None: the current number), and
    restore the previous number afterwards, even on an error. Yields the number in force.

    Thread count is part of a measurement's setting: tiny operators gain nothing from a pool,
    and on a busy machine its wake-ups can cost more than the effect being measured.
    """
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


# -- paired, interleaved comparisons -----------------------------------------------------------
BOOTSTRAP_RESAMPLES = 4_000
BOOTSTRAP_SEED = 0


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1 (e.g. 0.95), got "
                         f"{confidence!r}")  # fmt: skip


@dataclass(frozen=True)
class Interval:
    """An estimate and its confidence interval.

    Attributes
    ----------
    estimate:
        The point estimate (a median over rounds).
    low, high:
        The interval's bounds.
    confidence:
        The interval's nominal coverage, e.g. 0.95.
    """

    estimate: float
    low: float
    high: float
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"an interval needs low <= high, got [{self.low}, {self.high}]")

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (bounds included)."""
        return self.low <= value <= self.high

    def above(self, value: float) -> bool:
        """Whether the whole interval lies above ``value``."""
        return self.low > value

    def below(self, value: float) -> bool:
        """Whether the whole interval lies below ``value``."""
        return self.high < value

    def scaled(self, factor: float) -> Interval:
        """The interval of ``factor`` times the quantity (bounds swap for a negative factor)."""
        low, high = sorted((self.low * factor, self.high * factor))
        return Interval(self.estimate * factor, low, high, self.confidence)

    def to_dict(self) -> dict[str, float]:
        """A JSON-ready dict of every field."""
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.estimate:.3g} ({self.confidence:.0%} interval {self.low:.3g} to {self.high:.3g})"


def bootstrap_median(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Interval:
    """The median of ``values`` with a percentile-bootstrap interval.

    ``values`` are treated as independent draws (one per round). The interval is the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the medians of
    ``resamples`` resamples drawn with replacement, with NumPy's generator seeded by ``seed`` so
    the same values always give the same interval. With few rounds the interval is wide: with 5
    it is about the smallest to the largest value, as it should be.

    Raises
    ------
    ValueError
        Fewer than 2 values, a non-finite value, or ``confidence`` outside (0, 1).
    """
    _check_confidence(confidence)
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size < 2:
        raise ValueError(f"a bootstrap interval needs at least 2 values (rounds), got {data.size}")
    if not np.isfinite(data).all():
        raise ValueError(f"values must be finite, got {values!r}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, data.size, size=(resamples, data.size))
    medians = np.median(data[picks], axis=1)
    low, high = np.quantile(medians, [(1 - confidence) / 2, (1 + confidence) / 2])
    estimate = float(np.median(data))
    # The percentile interval of a median can miss the sample median by a hair with even sizes.
    return Interval(estimate, min(float(low), estimate), max(float(high), estimate), confidence)


@dataclass(frozen=True)
class Comparison:
    """Variants timed in paired rounds, and their ratios to a baseline.

    Attributes
    ----------
    baseline:
        The name every ratio is relative to.
    samples:
        Seconds per measured unit of each variant, one value per round, in round order.
    medians:
        Median seconds per unit of each variant over the rounds.
    intervals:
        Each variant's median seconds per unit with its bootstrap interval (for error bars).
    ratios:
        Each variant's time over the baseline's, paired by round: the median of the per-round
        ratios with its bootstrap interval. Below 1: faster than the baseline.
    speedups:
        The baseline's time over each variant's, paired by round (the inverse of ``ratios``).
    orders:
        The order in which the variants ran in each round.
    threads:
        torch intra-op threads during the rounds.
    confidence:
        The intervals' nominal coverage.
    """

    baseline: str
    samples: dict[str, list[float]]
    medians: dict[str, float]
    intervals: dict[str, Interval]
    ratios: dict[str, Interval]
    speedups: dict[str, Interval]
    orders: list[list[str]] = field(default_factory=list)
    threads: int | None = None
    confidence: float = 0.95

    @property
    def rounds(self) -> int:
        """How many rounds were timed."""
        return len(self.samples[self.baseline])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: samples, medians, and every interval as a dict."""
        return {
            "baseline": self.baseline,
            "rounds": self.rounds,
            "threads": self.threads,
            "confidence": self.confidence,
            "samples": self.samples,
            "medians": self.medians,
            "intervals": {k: v.to_dict() for k, v in self.intervals.items()},
            "ratios": {k: v.to_dict() for k, v in self.ratios.items()},
            "speedups": {k: v.to_dict() for k, v in self.speedups.items()},
            "orders": self.orders,
        }

    def __str__(self) -> str:
        width = max(len(name) for name in self.samples)
        lines = [f"{self.rounds} paired rounds, {self.confidence:.0%} intervals, "
                 f"time relative to {self.baseline!r}:"]  # fmt: skip
        for name, ratio in self.ratios.items():
            spread = self.intervals[name]
            lines.append(f"  {name:<{width}}  {_fmt(spread.estimate)} per unit "
                         f"[{_fmt(spread.low)}, {_fmt(spread.high)}]  x{ratio.estimate:.3g} "
                         f"[{ratio.low:.3g}, {ratio.high:.3g}]")  # fmt: skip
        return "\n".join(lines)


def compare_samples(
    samples: Mapping[str, Sequence[float]],
    *,
    baseline: str,
    confidence: float = 0.95,
    orders: Sequence[Sequence[str]] = (),
    threads: int | None = None,
) -> Comparison:
    """Turn per-round timings into a :class:`Comparison` (no timing: a pure function).

    Parameters
    ----------
    samples:
        Variant name to seconds per unit, one value per round; the i-th values of every
        variant come from the same round, which is what pairs them.
    baseline:
        The variant every ratio is relative to.
    confidence:
        Coverage of the percentile-bootstrap intervals (:func:`bootstrap_median`).
    orders, threads:
        Carried into the result.

    Raises
    ------
    ValueError
        Fewer than 2 variants, an unknown ``baseline``, fewer than 2 rounds, rounds of unequal
        length, a time that is not positive and finite, or ``confidence`` outside (0, 1).
    """
    _check_variants(samples, baseline, confidence)
    data = {name: np.asarray(values, dtype=float) for name, values in samples.items()}
    lengths = {name: values.size for name, values in data.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every variant needs one time per round; got {lengths}")
    _check_rounds(lengths[baseline])
    for name, values in data.items():
        if not (np.isfinite(values).all() and (values > 0).all()):
            raise ValueError(f"times must be positive and finite; {name!r} has {values.tolist()}")
    base = data[baseline]
    return Comparison(
        baseline=baseline,
        samples={name: values.tolist() for name, values in data.items()},
        medians={name: float(np.median(values)) for name, values in data.items()},
        intervals={
            name: bootstrap_median(values, confidence=confidence) for name, values in data.items()
        },
        ratios={
            name: bootstrap_median(values / base, confidence=confidence)
            for name, values in data.items()
        },
        speedups={
            name: bootstrap_median(base / values, confidence=confidence)
            for name, values in data.items()
        },
        orders=[list(order) for order in orders],
        threads=threads,
        confidence=confidence,
    )


def _check_variants(variants: Mapping[str, object], baseline: str, confidence: float) -> None:
    if len(variants) < 2:
        raise ValueError(f"a comparison needs at least 2 variants, got {len(variants)}: "
                         f"{list(variants)}")  # fmt: skip
    if baseline not in variants:
        raise ValueError(f"baseline {baseline!r} is not one of the variants: {list(variants)}")
    _check_confidence(confidence)


def _check_rounds(rounds: int) -> None:
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 2:
        raise ValueError(f"rounds must be an integer of at least 2 (an interval needs several "
                         f"paired rounds), got {rounds!r}")  # fmt: skip


def round_orders(names: Sequence[str], rounds: int, *, seed: int = 0) -> list[list[str]]:
    """The order of ``names`` in each round: shuffled, and rotated so each name goes first in
    turn. A fixed order would always give the same variant the cold caches of a round's start
    or the warm ones after its neighbour."""
    rng = np.random.default_rng(seed)
    orders = []
    for r in range(rounds):
        order = [names[i] for i in rng.permutation(len(names))]
        first = order.index(names[r % len(names)])
        orders.append(order[first:] + order[:first])
    return orders


def compare(
    variants: Mapping[str, Callable[[], object]],
    *,
    baseline: str,
    rounds: int = 10,
    confidence: float = 0.95,
    warmup: int = 1,
    number: int = 1,
    num_threads: int | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
) -> Comparison:
    """Time ``variants`` in alternating rounds and compare each with ``baseline``, paired.

    Each variant is called ``warmup`` times first, untimed. Then every round times each
    variant once (``number`` calls, averaged), in an order shuffled per round and rotated so
    that no variant always runs first. All rounds run in this process at one thread setting.
    A machine that slows down or speeds up during the rounds slows every variant of a round
    alike, so the per-round ratios cancel the drift that separate runs minutes apart would
    keep. Intervals are percentile bootstraps over rounds (:func:`bootstrap_median`).

    Parameters
    ----------
    variants:
        Name to a callable that runs one measured unit, e.g. a block of 200 epochs. Units
        may carry state (a model that keeps training): every variant is called equally often.
    baseline:
        The variant the ratios are relative to.
    rounds:
        Paired rounds, at least 2; 10 or more gives usable intervals.
    confidence:
        Coverage of the intervals, in (0, 1).
    warmup:
        Untimed calls of each variant before the rounds (compilation, caches, allocator).
    number:
        Calls per variant per round; the time is their mean.
    num_threads:
        torch intra-op threads during the rounds (restored afterwards); None keeps the
        current setting.
    device:
        When it is an accelerator, it is synchronised before each clock reading, so queued
        work counts in the unit that queued it.
    seed:
        Seeds the per-round orders.
    clock:
        Returns seconds; :func:`time.perf_counter` unless a test injects a fake clock.

    Raises
    ------
    ValueError
        Fewer than 2 variants, an unknown ``baseline``, ``rounds`` < 2, ``confidence``
        outside (0, 1), ``warmup`` < 0 or ``number`` < 1.
    TypeError
        A variant is not callable.
    """
    _check_variants(variants, baseline, confidence)
    _check_rounds(rounds)
    if warmup < 0 or number < 1:
        raise ValueError(f"warmup must be >= 0 and number >= 1, got {warmup} and {number}")
    for name, fn in variants.items():
        if not callable(fn):
            raise TypeError(f"variant {name!r} must be a callable that runs one unit, "
                            f"got {type(fn).__name__}")  # fmt: skip
    where = resolve_device(device) if device is not None else torch.device("cpu")
    orders = round_orders(list(variants), rounds, seed=seed)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with torch_threads(num_threads) as threads:
        for fn in variants.values():
            for _ in range(warmup):
                fn()
        synchronize(where)
        for order in orders:
            for name in order:
                fn = variants[name]
                start = clock()
                for _ in range(number):
                    fn()
                synchronize(where)
                samples[name].append((clock() - start) / number)
    return compare_samples(samples, baseline=baseline, confidence=confidence, orders=orders,
                           threads=threads)  # fmt: skip


def slope_interval(
    x: Sequence[float],
    y_by_round: Sequence[Sequence[float]],
    *,
    confidence: float = 0.95,
) -> Interval:
    """The slope of ``y`` against ``x``, paired by round, with a bootstrap interval.

    Each round's points are fitted by least squares on their own, so a round that ran slow
    shifts its line up without tilting it. The estimate is the median of the per-round slopes,
    the interval a percentile bootstrap over rounds (:func:`bootstrap_median`). An interval
    that contains 0 means no measurable slope.

    Parameters
    ----------
    x:
        The regressor of each variant, e.g. syncs per epoch; at least 2 distinct values.
    y_by_round:
        One row per round, one value per entry of ``x``, e.g. seconds per epoch.
    confidence:
        Coverage of the interval, in (0, 1).

    Raises
    ------
    ValueError
        Fewer than 2 rounds, rows that do not match ``x``, fewer than 2 distinct ``x``, a
        non-finite value, or ``confidence`` outside (0, 1).
    """
    _check_confidence(confidence)
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y_by_round, dtype=float)
    if ys.ndim != 2 or ys.shape[1] != xs.size:
        raise ValueError(f"y_by_round needs one row per round and {xs.size} values per row (one "
                         f"per x), got shape {ys.shape}")  # fmt: skip
    _check_rounds(ys.shape[0])
    if np.unique(xs).size < 2:
        raise ValueError(f"a slope needs at least 2 distinct x values, got {xs.tolist()}")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("x and y_by_round must be finite")
    centred = xs - xs.mean()
    slopes = (ys - ys.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
    return bootstrap_median(slopes, confidence=confidence)
