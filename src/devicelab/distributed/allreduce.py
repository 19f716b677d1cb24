"""What one all-reduce costs: a sweep over sizes, and its latency/bandwidth (Hockney) fit
``t(S) = alpha + S / beta``: a fixed latency per call and a bandwidth for the bytes. The
bandwidths reported are nccl-tests' (``doc/PERFORMANCE.md`` there): ``algbw = S / t``, and the
bus bandwidth (:func:`~devicelab.distributed.bus_bandwidth`), which compares runs on different
numbers of ranks.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ..stats import Interval, bootstrap_median, round_orders
from ..timing import timed_block
from .launch import Rank, run_ranks

__all__ = [
    "AllReducePoint",
    "AllReduceSweep",
    "HockneyFit",
    "allreduce_sweep",
    "bus_bandwidth",
    "hockney_fit",
]


def bus_bandwidth(algbw_bytes_per_s: float, world_size: int) -> float:
    """An all-reduce's bus bandwidth, as nccl-tests defines it: ``algbw * 2 (p - 1) / p``, what a
    ring all-reduce over ``p`` ranks needs on each link."""
    return algbw_bytes_per_s * 2 * (world_size - 1) / world_size


@dataclass(frozen=True)
class HockneyFit:
    """``t(S) = alpha + S / beta`` with bootstrap intervals: ``alpha_s`` of fixed latency per
    all-reduce, ``beta_bytes_per_s`` for each further byte."""

    alpha_s: Interval
    beta_bytes_per_s: Interval

    def seconds(self, size_bytes: float) -> float:
        """The fitted time of one all-reduce of ``size_bytes``."""
        return self.seconds_interval(size_bytes).estimate

    def seconds_interval(self, size_bytes: float, calls: int = 1) -> Interval:
        """The fitted time of ``calls`` all-reduces moving ``size_bytes`` in all, with the range
        the two intervals allow (a bound, not a bootstrap)."""
        a, b = self.alpha_s, self.beta_bytes_per_s
        return Interval(
            calls * a.estimate + size_bytes / b.estimate,
            calls * a.low + size_bytes / b.high,
            calls * a.high + size_bytes / b.low,
            a.confidence,
        )

    @property
    def half_bandwidth_bytes(self) -> float:
        """``alpha * beta`` (Hockney's half-performance length): below this size latency costs
        more than the bytes."""
        return self.alpha_s.estimate * self.beta_bytes_per_s.estimate

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of both intervals and the half-bandwidth size."""
        return {**asdict(self), "half_bandwidth_bytes": self.half_bandwidth_bytes}


def hockney_fit(
    sizes_bytes: Sequence[float],
    seconds_by_round: Sequence[Sequence[float]],
    *,
    confidence: float = 0.95,
) -> HockneyFit:
    """Fit ``t(S) = alpha + S / beta`` to each round, with bootstrap intervals over rounds.

    Each round is fitted by least squares on *relative* residuals (weights ``1 / t**2``), so a
    4-byte call counts as much as a 16 MiB one although their times differ a thousandfold; the
    estimates are the medians over rounds (:func:`devicelab.stats.bootstrap_median`).

    Raises
    ------
    ValueError
        Too few sizes or rounds, rows that do not match the sizes, a time that is not positive
        and finite, or times that do not grow with size (no bandwidth term to fit).
    """
    sizes = np.asarray(sizes_bytes, dtype=float)
    times = np.asarray(seconds_by_round, dtype=float)
    if np.unique(sizes).size < 2:
        raise ValueError(f"a fit needs at least 2 distinct sizes, got {sizes.tolist()}")
    if times.ndim != 2 or times.shape[1] != sizes.size or times.shape[0] < 2:
        raise ValueError(
            f"seconds_by_round needs at least 2 rounds of {sizes.size} times (one per size), "
            f"got shape {times.shape}"
        )
    if not (np.isfinite(times).all() and (times > 0).all()):
        raise ValueError("times must be positive and finite")
    alphas, slopes = [], []
    for row in times:
        design = np.stack([np.ones_like(sizes), sizes], axis=1) / row[:, None]
        (alpha, slope), *_ = np.linalg.lstsq(design, np.ones_like(row), rcond=None)
        alphas.append(alpha)
        slopes.append(slope)
    slope = bootstrap_median(slopes, confidence=confidence)
    if slope.low <= 0:
        raise ValueError(
            "the time does not grow measurably with size (the slope's interval reaches 0): "
            "add larger sizes so that the bandwidth term shows"
        )
    return HockneyFit(
        alpha_s=bootstrap_median(alphas, confidence=confidence),
        beta_bytes_per_s=Interval(
            1 / slope.estimate, 1 / slope.high, 1 / slope.low, slope.confidence
        ),
    )


@dataclass(frozen=True)
class AllReducePoint:
    """One size of the sweep: median seconds per all-reduce over rounds, with its interval,
    and the algorithm and bus bandwidths at the median."""

    size_bytes: int
    seconds: Interval
    algbw_bytes_per_s: float
    busbw_bytes_per_s: float


@dataclass(frozen=True, kw_only=True)
class AllReduceSweep:
    """All-reduces of growing size between ``world_size`` processes (one
    :class:`AllReducePoint` per size, smallest first, and the raw times, a row per round), and
    their :func:`hockney_fit`."""

    backend: str
    world_size: int
    device: str
    rounds: int
    threads_per_rank: int
    points: list[AllReducePoint]
    seconds_by_round: list[list[float]]
    fit: HockneyFit

    @property
    def alpha_s(self) -> Interval:
        """Latency per all-reduce, with its interval."""
        return self.fit.alpha_s

    @property
    def beta_bytes_per_s(self) -> Interval:
        """Bandwidth, with its interval."""
        return self.fit.beta_bytes_per_s

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the setting, every point, the raw times and the fit."""
        return {**asdict(self), "fit": self.fit.to_dict()}


@dataclass(frozen=True)
class _SweepJob:
    """Each rank's part of :func:`allreduce_sweep`."""

    sizes: tuple[int, ...]
    rounds: int
    warmup: int
    seed: int

    def __call__(self, rank: Rank) -> list[list[float]] | None:
        # zeros: the sums of repeated all-reduces never overflow
        buffers = [torch.zeros(s // 4, dtype=torch.float32, device=rank.device) for s in self.sizes]
        for buffer in buffers:
            for _ in range(self.warmup):
                dist.all_reduce(buffer)
        seconds = [[0.0] * len(self.sizes) for _ in range(self.rounds)]
        orders = round_orders(list(range(len(self.sizes))), self.rounds, seed=self.seed)
        for row, order in zip(seconds, orders, strict=True):
            for i in order:
                calls = []
                for _ in range(calls_per_round(self.sizes[i])):
                    rank.barrier()  # every rank starts together: the time is the call's
                    calls.append(timed_block(lambda b=buffers[i]: dist.all_reduce(b), rank.device))
                row[i] = statistics.median(calls)
        slowest = rank.slowest(seconds)
        return slowest if rank.rank == 0 else None


#: Bytes per rank a round aims to move in one size's calls: ``ROUND_BYTES // size`` calls,
#: capped at :data:`MAX_CALLS_PER_ROUND` (so the calls of a tiny size move far less).
ROUND_BYTES = 2**18
#: The most calls of one size in one round.
MAX_CALLS_PER_ROUND = 32


def calls_per_round(size_bytes: int) -> int:
    """All-reduces of ``size_bytes`` timed in each round, each alone after a barrier, of which
    the round keeps the median: a small call lasts less than a rank's wake-up from the
    scheduler, so one call alone would time the scheduler; a large one is timed once.
    ``tests/test_distributed.py`` holds the smallest size within 2x of an independent script
    that times single calls after a barrier."""
    return max(1, min(MAX_CALLS_PER_ROUND, ROUND_BYTES // size_bytes))


def allreduce_sweep(
    sizes_bytes: Sequence[int],
    *,
    world_size: int = 2,
    backend: str = "gloo",
    rounds: int = 20,
    warmup: int = 3,
    timeout_s: float = 60,
    seed: int = 0,
    confidence: float = 0.95,
) -> AllReduceSweep:
    """Time ``torch.distributed.all_reduce`` of each size (bytes per rank, multiples of 4)
    between ``world_size`` processes (:func:`~devicelab.distributed.run_ranks`).

    Each round times every size in a shuffled order,
    :func:`~devicelab.distributed.allreduce.calls_per_round` times, and keeps each rank's
    median call, and of those the slowest rank's (a collective ends when the last rank's does).

    Raises
    ------
    ValueError
        Bad sizes, rounds or warmup, or a group this machine cannot run.
    WorkerError
        A rank failed or hung.
    """
    sizes = tuple(sizes_bytes)
    bad = [s for s in sizes if isinstance(s, bool) or not isinstance(s, int) or s < 4 or s % 4]
    if len(set(sizes)) < 2 or bad:
        raise ValueError(
            "sizes_bytes must be at least 2 distinct sizes, each a positive multiple of 4 "
            f"bytes (float32 elements), got {list(sizes)}"
        )
    sizes = tuple(sorted(sizes))
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 2 or warmup < 0:
        raise ValueError(f"rounds must be at least 2 and warmup at least 0, got {rounds}, {warmup}")
    results = run_ranks(
        _SweepJob(sizes, rounds, warmup, seed),
        world_size=world_size,
        backend=backend,
        timeout_s=timeout_s,
    )
    table = np.asarray(results[0], dtype=float)
    points = []
    for i, size in enumerate(sizes):
        seconds = bootstrap_median(table[:, i], confidence=confidence)
        algbw = size / seconds.estimate
        points.append(AllReducePoint(size, seconds, algbw, bus_bandwidth(algbw, world_size)))
    return AllReduceSweep(
        backend=backend,
        world_size=world_size,
        device="cuda" if backend == "nccl" else "cpu",
        rounds=rounds,
        threads_per_rank=1,
        points=points,
        seconds_by_round=table.tolist(),
        fit=hockney_fit(sizes, table, confidence=confidence),
    )
