"""What one all-reduce costs: a sweep over sizes, and its latency/bandwidth (Hockney) fit.

An all-reduce leaves every rank with the sum of every rank's tensor: what
``DistributedDataParallel`` does with the gradients at every step. Its time follows the
Hockney model ``t(S) = alpha + S / beta``: a fixed latency ``alpha`` per call (the software
path, the handshakes, the wake-ups) and a bandwidth ``beta`` for the bytes. Small messages
measure alpha, large ones beta; the size ``alpha * beta`` at which the two terms are equal is
where an all-reduce stops being latency-bound (Hockney's half-performance length).

The bandwidths are the ones nccl-tests reports (``doc/PERFORMANCE.md`` there): the algorithm
bandwidth ``algbw = S / t``, and for an all-reduce the bus bandwidth
``busbw = algbw * 2 (p - 1) / p``, which a ring all-reduce over ``p`` ranks would need on each
link, so that runs on different numbers of ranks compare.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
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
    """An all-reduce's bus bandwidth, as nccl-tests defines it: ``algbw * 2 (p - 1) / p``."""
    return algbw_bytes_per_s * 2 * (world_size - 1) / world_size


@dataclass(frozen=True)
class HockneyFit:
    """``t(S) = alpha + S / beta`` with bootstrap intervals.

    Attributes
    ----------
    alpha_s:
        Seconds of fixed latency per all-reduce.
    beta_bytes_per_s:
        Bytes per second that each further byte costs (algorithm bandwidth at large sizes).
    """

    alpha_s: Interval
    beta_bytes_per_s: Interval

    def seconds(self, size_bytes: float) -> float:
        """The fitted time of one all-reduce of ``size_bytes``."""
        return self.alpha_s.estimate + size_bytes / self.beta_bytes_per_s.estimate

    def seconds_interval(self, size_bytes: float) -> Interval:
        """The fitted time with the range its two intervals allow (a bound, not a bootstrap)."""
        return Interval(
            self.seconds(size_bytes),
            self.alpha_s.low + size_bytes / self.beta_bytes_per_s.high,
            self.alpha_s.high + size_bytes / self.beta_bytes_per_s.low,
            self.alpha_s.confidence,
        )

    @property
    def half_bandwidth_bytes(self) -> float:
        """``alpha * beta``: below this size latency costs more than the bytes."""
        return self.alpha_s.estimate * self.beta_bytes_per_s.estimate

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of both intervals and the half-bandwidth size."""
        return {
            "alpha_s": self.alpha_s.to_dict(),
            "beta_bytes_per_s": self.beta_bytes_per_s.to_dict(),
            "half_bandwidth_bytes": self.half_bandwidth_bytes,
        }


def hockney_fit(
    sizes_bytes: Sequence[float],
    seconds_by_round: Sequence[Sequence[float]],
    *,
    confidence: float = 0.95,
) -> HockneyFit:
    """Fit ``t(S) = alpha + S / beta`` to each round, with bootstrap intervals over rounds.

    Each round is fitted on its own by least squares on *relative* residuals (weights
    ``1 / t**2``), so a 4-byte call counts as much as a 16 MiB one although their times differ
    a thousandfold; the estimates are the medians of the per-round alphas and inverse slopes,
    their intervals percentile bootstraps over rounds (:func:`devicelab.stats.bootstrap_median`),
    as :func:`devicelab.stats.slope_interval` does for a plain slope.

    Parameters
    ----------
    sizes_bytes:
        At least 2 distinct sizes.
    seconds_by_round:
        One row per round (at least 2), one positive time per size.
    confidence:
        Coverage of the intervals, in (0, 1).

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
    """One size of the sweep.

    Attributes
    ----------
    size_bytes:
        Bytes each rank contributes (float32 elements times 4).
    seconds:
        Median seconds per all-reduce over rounds, with its bootstrap interval; each round's
        time is the slowest rank's, after a barrier.
    algbw_bytes_per_s, busbw_bytes_per_s:
        Algorithm and bus bandwidth at the median (nccl-tests' definitions).
    """

    size_bytes: int
    seconds: Interval
    algbw_bytes_per_s: float
    busbw_bytes_per_s: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "size_bytes": self.size_bytes,
            "seconds": self.seconds.to_dict(),
            "algbw_bytes_per_s": self.algbw_bytes_per_s,
            "busbw_bytes_per_s": self.busbw_bytes_per_s,
        }


@dataclass(frozen=True, kw_only=True)
class AllReduceSweep:
    """All-reduces of growing size between ``world_size`` processes, and their fit.

    Attributes
    ----------
    backend, world_size:
        Who talked: ``"gloo"`` between CPU processes, ``"nccl"`` between GPUs.
    device:
        ``"cpu"`` or ``"cuda"``: where the tensors lived.
    rounds:
        Rounds per size; in each, every size is timed once, in a shuffled order.
    threads_per_rank:
        torch intra-op threads in each rank.
    points:
        One :class:`AllReducePoint` per size, smallest first.
    seconds_by_round:
        The raw times: one row per round, one column per size.
    fit:
        The Hockney fit (:func:`hockney_fit`).
    """

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

    @property
    def busbw_bytes_per_s(self) -> float:
        """The bus bandwidth of the largest size (what nccl-tests would print last)."""
        return self.points[-1].busbw_bytes_per_s

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the setting, every point, the raw times and the fit."""
        return {
            "backend": self.backend,
            "world_size": self.world_size,
            "device": self.device,
            "rounds": self.rounds,
            "threads_per_rank": self.threads_per_rank,
            "points": [p.to_dict() for p in self.points],
            "seconds_by_round": self.seconds_by_round,
            "fit": self.fit.to_dict(),
        }


@dataclass(frozen=True)
class _SweepJob:
    """Each rank's part of :func:`allreduce_sweep`."""

    sizes: tuple[int, ...]
    rounds: int
    warmup: int
    seed: int

    def __call__(self, rank: Rank) -> list[list[float]] | None:
        buffers = [_zeros(size, rank) for size in self.sizes]
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
    scheduler, so one call alone would time the scheduler; a large one is timed once (its
    bytes already take milliseconds). ``tests/test_distributed.py`` holds the smallest size
    within 2x of an independent script that times single calls after a barrier. The same on
    every rank, so every rank makes the same calls."""
    return max(1, min(MAX_CALLS_PER_ROUND, ROUND_BYTES // size_bytes))


def _zeros(size_bytes: int, rank: Rank) -> torch.Tensor:
    """``size_bytes`` bytes of float32 zeros on the rank's device (zeros: the sums of repeated
    all-reduces never overflow)."""
    return torch.zeros(size_bytes // 4, dtype=torch.float32, device=rank.device)


def _check_sizes(sizes_bytes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(sizes_bytes)
    bad = [s for s in sizes if isinstance(s, bool) or not isinstance(s, int) or s < 4 or s % 4]
    if len(set(sizes)) < 2 or bad:
        raise ValueError(
            "sizes_bytes must be at least 2 distinct sizes, each a positive multiple of 4 "
            f"bytes (float32 elements), got {list(sizes)}"
        )
    return tuple(sorted(sizes))


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
    """Time ``torch.distributed.all_reduce`` of each size between ``world_size`` processes.

    The processes are spawned for this call (:func:`~devicelab.distributed.run_ranks`),
    one thread each. Every size is all-reduced ``warmup`` times, untimed. Then each round
    times every size in a shuffled order,
    :func:`~devicelab.distributed.allreduce.calls_per_round` times: all ranks wait at a
    barrier, then each times the call alone with :func:`devicelab.timing.timed_block`. The
    round keeps each rank's median call, and of those the slowest rank's (a collective ends
    for everybody when it ends for the last rank).

    Parameters
    ----------
    sizes_bytes:
        Bytes per rank, each a multiple of 4 (float32 elements); at least 2 sizes.
    world_size:
        Processes (ranks), at least 2.
    backend:
        ``"gloo"`` (CPU tensors) or ``"nccl"`` (one GPU per rank).
    rounds:
        Timed rounds per size, at least 2.
    warmup:
        Untimed all-reduces of each size first (connections, buffers, allocator).
    timeout_s:
        The whole call, start-up included, ends within this many seconds.
    seed:
        Seeds the order of the sizes in each round.
    confidence:
        Coverage of the intervals.

    Raises
    ------
    ValueError
        Bad sizes, rounds or warmup, or a group this machine cannot run
        (:func:`~devicelab.distributed.check_world`).
    WorkerError
        A rank failed or hung (:class:`~devicelab.distributed.WorkerError`).
    """
    sizes = _check_sizes(sizes_bytes)
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
