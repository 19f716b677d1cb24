"""Numbers from timings: intervals, spreads and paired comparisons (no clock here).

An :class:`Interval` says how well a median is known, and a claim is chosen from one; a
:class:`Spread` says how far the values themselves spread, and is never passed for one.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Comparison",
    "Interval",
    "Spread",
    "bootstrap_median",
    "compare_samples",
    "format_seconds",
    "interquartile_mean",
    "median_iqr",
    "middle_half",
    "round_orders",
    "slope_interval",
]


def format_seconds(seconds: float) -> str:
    """``seconds`` with a readable unit: ``"1.23 ms"``, ``"45.6 µs"``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


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


def middle_half(totals: Sequence[float]) -> list[int]:
    """Indices of ``totals`` left after dropping the fastest and the slowest quarter, in order:
    the same rounds for parts measured together, so that their interquartile means add up."""
    order = sorted(range(len(totals)), key=totals.__getitem__)
    drop = len(totals) // 4
    return sorted(order[drop : len(totals) - drop])


def interquartile_mean(samples: Sequence[float]) -> float:
    """The mean of the middle half of ``samples``: robust to a disturbed round and, unlike a
    median, additive over parts taken in the same rounds.

    Raises
    ------
    ValueError
        ``samples`` is empty.
    """
    if len(samples) == 0:
        raise ValueError("no samples: a timing needs at least one")
    return statistics.fmean(samples[i] for i in middle_half(samples))


@dataclass(frozen=True)
class Spread:
    """A centre and how far the values spread around it. Not a confidence interval.

    Attributes
    ----------
    kind:
        Where the range comes from: ``"iqr"`` (measured values) or ``"prediction"``
        (:attr:`devicelab.costmodel.StepPrediction.spread`).

    Raises
    ------
    ValueError
        ``low > high``, or ``centre`` outside the range.
    """

    centre: float
    low: float
    high: float
    kind: str = "iqr"

    def __post_init__(self) -> None:
        if not self.low <= self.centre <= self.high:
            raise ValueError(
                f"a spread needs low <= centre <= high, got {self.low}, {self.centre}, {self.high}"
            )

    @classmethod
    def around(cls, centre: float, width: float, kind: str = "iqr") -> Spread:
        """``centre`` plus and minus half of ``width`` (e.g. an IQR)."""
        if not width >= 0:
            raise ValueError(f"a spread's width must be zero or more, got {width}")
        return cls(centre, centre - width / 2, centre + width / 2, kind)


BOOTSTRAP_RESAMPLES = 4_000
BOOTSTRAP_SEED = 0


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(
            f"confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence!r}"
        )


@dataclass(frozen=True)
class Interval:
    """An estimate (a median over rounds) and its confidence interval, of nominal coverage
    ``confidence``."""

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


def bootstrap_median(values: Sequence[float], *, confidence: float = 0.95) -> Interval:
    """The median of ``values`` (independent draws, one per round) with a percentile-bootstrap
    interval, seeded so the same values always give the same interval.

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
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, data.size, size=(BOOTSTRAP_RESAMPLES, data.size))
    medians = np.median(data[picks], axis=1)
    low, high = np.quantile(medians, [(1 - confidence) / 2, (1 + confidence) / 2])
    estimate = float(np.median(data))
    # The percentile interval of a median can miss the sample median by a hair with even sizes.
    return Interval(estimate, min(float(low), estimate), max(float(high), estimate), confidence)


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Variants timed in paired rounds, and their ratios to a baseline.

    Attributes
    ----------
    samples:
        Seconds per measured unit of each variant, one value per round, in round order.
    ratios:
        Each variant's time over the baseline's, paired by round: the median of the per-round
        ratios with its bootstrap interval. Below 1: faster (``speedups`` are the inverse).
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
        lines = [
            f"{self.rounds} paired rounds, {self.confidence:.0%} intervals, "
            f"time relative to {self.baseline!r}:"
        ]
        for name, ratio in self.ratios.items():
            spread = self.intervals[name]
            lines.append(
                f"  {name:<{width}}  {format_seconds(spread.estimate)} per unit "
                f"[{format_seconds(spread.low)}, {format_seconds(spread.high)}]  x{ratio.estimate:.3g} "
                f"[{ratio.low:.3g}, {ratio.high:.3g}]"
            )
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
        raise ValueError(
            f"a comparison needs at least 2 variants, got {len(variants)}: {list(variants)}"
        )
    if baseline not in variants:
        raise ValueError(f"baseline {baseline!r} is not one of the variants: {list(variants)}")
    _check_confidence(confidence)


def _check_rounds(rounds: int) -> None:
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 2:
        raise ValueError(
            f"rounds must be an integer of at least 2 (an interval needs several "
            f"paired rounds), got {rounds!r}"
        )


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


def slope_interval(
    x: Sequence[float],
    y_by_round: Sequence[Sequence[float]],
    *,
    confidence: float = 0.95,
) -> Interval:
    """The slope of ``y`` against ``x``, paired by round, with a bootstrap interval.

    Each round is fitted on its own, so a round that ran slow shifts its line up without
    tilting it. An interval that contains 0 means no measurable slope.

    Parameters
    ----------
    x:
        The regressor of each variant, e.g. syncs per epoch; at least 2 distinct values.
    y_by_round:
        One row per round, one value per entry of ``x``, e.g. seconds per epoch.

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
        raise ValueError(
            f"y_by_round needs one row per round and {xs.size} values per row (one "
            f"per x), got shape {ys.shape}"
        )
    _check_rounds(ys.shape[0])
    if np.unique(xs).size < 2:
        raise ValueError(f"a slope needs at least 2 distinct x values, got {xs.tolist()}")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("x and y_by_round must be finite")
    centred = xs - xs.mean()
    slopes = (ys - ys.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
    return bootstrap_median(slopes, confidence=confidence)
