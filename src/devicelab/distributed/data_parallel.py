"""One process against ``world_size`` under ``DistributedDataParallel``, in paired rounds.

:func:`~devicelab.distributed.compare_data_parallel` times, in the same spawned ranks and the same
rounds:

- ``"one process"``: rank 0 on the whole batch with ``world_size`` threads, the others wait;
- ``"its share"``: rank 0 on its share on one thread: the compute each rank does under DDP;
- ``"DDP"``: every rank trains ``DistributedDataParallel(model)`` on its share, one thread each;
- the remedies: ``"DDP, no_sync()"`` (no all-reduce), gradient accumulation (``no_sync()``
  for all but every ``accumulate``-th micro-batch) and ``"DDP, a bucket per tensor"``.

A round of a DDP variant lasts as long as its slowest rank.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..models import load_factory
from ..stats import Comparison, Interval, bootstrap_median, compare_samples, round_orders
from ..steps import LossFn, as_tensors, prepare_step, run_steps, sgd_lr_0_01, train_step
from ..timing import timed_block, torch_threads
from .allreduce import AllReduceSweep, HockneyFit
from .launch import Rank, check_world, run_ranks

__all__ = [
    "ACCUMULATE",
    "DDP",
    "NO_SYNC",
    "ONE_PROCESS",
    "PER_TENSOR",
    "SHARE",
    "DataParallelComparison",
    "ModelFactory",
    "compare_data_parallel",
]

#: A model factory: ``"module:callable"``, or a picklable callable defined in a module.
ModelFactory = str | Callable[[], nn.Module]

ONE_PROCESS = "one process"
SHARE = "its share"
DDP = "DDP"
NO_SYNC = "DDP, no_sync()"
ACCUMULATE = "DDP, gradient accumulation"
PER_TENSOR = "DDP, a bucket per tensor"
#: A timed block of the crossover's slowest variant lasts about this long.
BLOCK_S = 0.03
MAX_STEPS = 50


def _check_factory(factory: ModelFactory) -> None:
    """Refuse what a spawned worker could not import, before any process starts."""
    if isinstance(factory, str):
        load_factory(factory)
        return
    if not callable(factory):
        raise ValueError(f"model_factory must be callable or 'module:callable', got {factory!r}")
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", "")
    if module in (None, "__main__") or "<locals>" in qualname or "<lambda>" in qualname:
        raise ValueError(
            f"model_factory {qualname or factory!r} is defined in a script or inside a "
            "function, which a spawned worker cannot import: define it at the top of a "
            "module, or pass 'module:callable'"
        )


def _resize(tensor: torch.Tensor, batch: int) -> torch.Tensor:
    """``tensor`` with ``batch`` rows: its own rows repeated (or cut) along dimension 0."""
    return tensor[torch.arange(batch) % tensor.shape[0]]


@dataclass(frozen=True)
class _Workload:
    """The model and the data, as every rank rebuilds them."""

    factory: ModelFactory
    inputs: tuple[torch.Tensor, ...]
    targets: torch.Tensor
    loss_fn: LossFn
    seed: int

    def model(self, device: torch.device) -> nn.Module:
        """A new model with the same seeded initial weights in every rank and variant."""
        torch.manual_seed(self.seed)
        factory = self.factory
        return (load_factory(factory) if isinstance(factory, str) else factory)().to(device)

    def data(self, batch: int, rank: Rank):
        """The whole batch and this rank's share of it, on the rank's device."""
        xs = tuple(_resize(t, batch).to(rank.device) for t in self.inputs)
        y = _resize(self.targets, batch).to(rank.device)

        def share(t: torch.Tensor) -> torch.Tensor:
            return t.tensor_split(rank.world_size)[rank.rank].contiguous()

        return xs, y, tuple(share(t) for t in xs), share(y)


def _ddp(model: nn.Module, device: torch.device, **options: Any) -> DistributedDataParallel:
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, **options)


def _buckets(model: DistributedDataParallel) -> int | None:
    """How many buckets DDP all-reduces per step (after its first step rebuilt them)."""
    try:
        data = model._get_ddp_logging_data()  # the only public-facing record of the buckets
    except Exception:
        return None
    sizes = data.get("rebuilt_bucket_sizes") or data.get("bucket_sizes")
    return len([s for s in str(sizes).replace(",", " ").split() if s.strip()]) or None


def _accumulating(model: DistributedDataParallel, xs, y, work: _Workload, device, every: int):
    """Gradient accumulation: backward under ``no_sync()`` except every ``every``-th
    micro-batch, whose backward all-reduces the summed gradients before the update."""
    spec = prepare_step(model, xs, targets=y, loss_fn=work.loss_fn, optimizer=None, device=device)
    optimizer = sgd_lr_0_01(model.parameters())

    def run(steps: int) -> None:
        for i in range(1, steps + 1):
            synced = i % every == 0
            with contextlib.nullcontext() if synced else model.no_sync():
                loss = train_step(spec)  # no optimizer in the spec: gradients add up
            loss.item()
            if synced:
                optimizer.step()
                optimizer.zero_grad()

    return run


def _idle(steps: int) -> None:
    """What the other ranks do while rank 0 runs alone."""


def _variants(rank: Rank, work: _Workload, batch: int, accumulate: int | None):
    """This rank's runner of each variant (``runner(steps)``), and DDP's bucket counts."""
    device = rank.device
    xs, y, share_xs, share_y = work.data(batch, rank)

    def spec(model, inputs, targets):
        return prepare_step(model, inputs, targets=targets, loss_fn=work.loss_fn, device=device)

    variants: dict[str, Callable[[int], object]] = {ONE_PROCESS: _idle, SHARE: _idle}
    if rank.rank == 0:
        whole = spec(work.model(device), xs, y)
        share = spec(work.model(device), share_xs, share_y)

        def one_process(steps: int) -> None:
            with torch_threads(rank.world_size):  # the ranks' threads, in one process
                run_steps(whole, 1, steps)

        variants[ONE_PROCESS] = one_process
        variants[SHARE] = lambda steps: run_steps(share, 1, steps)
    ddp = _ddp(work.model(device), device)
    ddp_step = spec(ddp, share_xs, share_y)
    variants[DDP] = lambda steps: run_steps(ddp_step, 1, steps)

    def no_sync(steps: int) -> None:
        with ddp.no_sync():  # every rank computes its share at once, and nobody talks
            run_steps(ddp_step, 1, steps)

    variants[NO_SYNC] = no_sync
    models = {DDP: ddp}
    if accumulate is not None:
        variants[ACCUMULATE] = _accumulating(
            _ddp(work.model(device), device), share_xs, share_y, work, device, accumulate
        )
        smallest = min(p.numel() * p.element_size() for p in ddp.parameters())
        models[PER_TENSOR] = _ddp(work.model(device), device, bucket_cap_mb=smallest / 2**21)
        per_tensor = spec(models[PER_TENSOR], share_xs, share_y)
        variants[PER_TENSOR] = lambda steps: run_steps(per_tensor, 1, steps)
    return variants, models


def _plan_steps(rank: Rank, variants, steps: int | None, multiple: int) -> int:
    """Steps per timed block: ``steps``, or (None) enough for a block of about
    :data:`BLOCK_S` of the slowest variant measured once on rank 0, agreed by every rank."""
    if steps is None:
        seconds = 0.0
        for runner in variants.values():
            seconds = max(seconds, timed_block(lambda r=runner: r(multiple), rank.device))
        planned = max(1, min(MAX_STEPS, round(BLOCK_S * multiple / max(seconds, 1e-9))))
        # rank 0 ran every variant, the others idled through its own: rank 0's plan for all
        table = rank.slowest([[float(planned if rank.rank == 0 else 0)]])
        steps = int(table[0][0])
    return max(multiple, math.ceil(steps / multiple) * multiple)


def _timed_rounds(rank: Rank, variants, steps: int, rounds: int, seed: int):
    names = list(variants)
    table = [[0.0] * len(names) for _ in range(rounds)]
    for row, order in zip(table, round_orders(names, rounds, seed=seed), strict=True):
        for name in order:
            rank.barrier()
            seconds = timed_block(lambda r=variants[name]: r(steps), rank.device)
            row[names.index(name)] = seconds / steps
    table = rank.slowest(table)  # a rank-0-only variant: the others timed nothing
    return {name: [row[i] for row in table] for i, name in enumerate(names)}


@dataclass(frozen=True)
class _CompareJob:
    """Each rank's part of :func:`compare_data_parallel` and :func:`data_parallel_crossover`."""

    work: _Workload
    batches: tuple[int, ...]
    steps: int | None
    rounds: int
    accumulate: int | None

    def __call__(self, rank: Rank) -> list[dict[str, Any]] | None:
        results = []
        for batch in self.batches:
            variants, models = _variants(rank, self.work, batch, self.accumulate)
            multiple = self.accumulate or 1
            for runner in variants.values():
                runner(multiple)  # warm-up; DDP rebuilds its buckets in its first step
            steps = _plan_steps(rank, variants, self.steps, multiple)
            samples = _timed_rounds(rank, variants, steps, self.rounds, self.work.seed)
            grads = sum(p.numel() * p.element_size() for p in models[DDP].parameters())
            buckets = {name: _buckets(model) for name, model in models.items()}
            results.append(
                {"batch": batch, "steps": steps, "samples": samples, "gradient_bytes": grads}
                | {"buckets": buckets}
            )
            rank.barrier()
        return results if rank.rank == 0 else None


def _workload(model_factory, inputs, targets, loss_fn, seed, world_size) -> _Workload:
    _check_factory(model_factory)
    xs = tuple(t.detach().cpu() for t in as_tensors("inputs", inputs))
    if not isinstance(targets, torch.Tensor):
        raise TypeError(f"targets must be a tensor, got {type(targets).__name__}")
    if any(t.dim() == 0 or t.shape[0] < world_size for t in (*xs, targets)):
        raise ValueError(
            f"inputs and targets need at least world_size={world_size} rows (one share each)"
        )
    return _Workload(model_factory, xs, targets.detach().cpu(), loss_fn, seed)


@dataclass(frozen=True, kw_only=True)
class DataParallelComparison:
    """One process against ``world_size`` DDP processes, paired by round.

    Attributes
    ----------
    gradient_bytes:
        Bytes of gradients each DDP step all-reduces.
    buckets, buckets_per_tensor:
        Buckets of default DDP, and of the ``bucket_cap_mb`` variant (None if not measured).
    comparison, ratio:
        Every variant's seconds per step, paired, against ``"one process"``; DDP's ratio.
    allreduce_s:
        What the all-reduce adds to a DDP step: DDP minus the same step under ``no_sync()``.
    remedies:
        Each remedy's speed-up over plain DDP, paired: gradient accumulation (time per
        micro-batch), ``"larger buckets"`` (a bucket per tensor over DDP's default buckets)
        and ``"one process"`` (not distributing at all). Above 1, the remedy helps.
    """

    world_size: int
    backend: str
    batch: int
    steps_per_block: int
    rounds: int
    threads: dict[str, int]
    gradient_bytes: int
    buckets: int | None
    buckets_per_tensor: int | None
    accumulate: int
    comparison: Comparison
    ratio: Interval
    allreduce_s: Interval
    remedies: dict[str, Interval]

    def predicted_allreduce_s(self, fit: HockneyFit | AllReduceSweep) -> Interval:
        """The all-reduce a step needs by the Hockney fit, ``alpha`` per bucket plus the gradient
        bytes over ``beta`` (:meth:`~devicelab.distributed.HockneyFit.seconds_interval`)."""
        fit = fit.fit if isinstance(fit, AllReduceSweep) else fit
        return fit.seconds_interval(self.gradient_bytes, self.buckets or 1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**asdict(self), "comparison": self.comparison.to_dict()}


def _check_counts(steps: int | None, rounds: int, accumulate: int | None) -> None:
    for name, value in (("rounds", rounds), ("steps", steps), ("accumulate", accumulate)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if rounds < 2 or (steps is not None and steps < 1) or (accumulate or 2) < 2:
        raise ValueError(
            f"rounds must be at least 2, steps at least 1 and accumulate at least 2, got "
            f"{rounds}, {steps}, {accumulate}"
        )


def compare_data_parallel(
    model_factory: ModelFactory,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor,
    world_size: int = 2,
    backend: str = "gloo",
    steps: int = 20,
    rounds: int = 15,
    accumulate: int = 4,
    loss_fn: LossFn = F.cross_entropy,
    seed: int = 0,
    timeout_s: float = 120,
    confidence: float = 0.95,
) -> DataParallelComparison:
    """Time one process on the whole batch against ``world_size`` DDP processes on its shares
    (the variants are listed in :mod:`devicelab.distributed.data_parallel`), every variant from
    the same seeded weights.

    Parameters
    ----------
    model_factory:
        ``"module:callable"`` (e.g. ``"devicelab.models:MLP"``) or a picklable callable
        defined at the top of a module, returning an ``nn.Module``.
    inputs, targets:
        The whole batch, rows along dimension 0, at least ``world_size`` rows.
    steps:
        Steps per timed block (a multiple of ``accumulate``; rounded up to one).
    accumulate:
        Micro-batches per update in the gradient-accumulation variant, at least 2.

    Raises
    ------
    ValueError
        A group this machine cannot run, a factory a worker could not import, too few rows,
        or bad counts.
    TypeError
        Inputs or targets that are not tensors.
    WorkerError
        A rank failed or hung (:func:`~devicelab.distributed.run_ranks`).
    """
    check_world(world_size, backend)
    _check_counts(steps, rounds, accumulate)
    work = _workload(model_factory, inputs, targets, loss_fn, seed, world_size)
    batch = work.inputs[0].shape[0]
    job = _CompareJob(work, (batch,), steps, rounds, accumulate)
    (result,) = run_ranks(job, world_size=world_size, backend=backend, timeout_s=timeout_s)[0]
    samples = result["samples"]
    one = compare_samples(samples, baseline=ONE_PROCESS, confidence=confidence)
    ddp = compare_samples(samples, baseline=DDP, confidence=confidence)
    gaps = np.asarray(samples[DDP]) - np.asarray(samples[NO_SYNC])
    return DataParallelComparison(
        world_size=world_size,
        backend=backend,
        batch=batch,
        steps_per_block=result["steps"],
        rounds=rounds,
        threads={ONE_PROCESS: world_size, "each rank": 1},
        gradient_bytes=result["gradient_bytes"],
        buckets=result["buckets"][DDP],
        buckets_per_tensor=result["buckets"].get(PER_TENSOR),
        accumulate=accumulate,
        comparison=one,
        ratio=one.ratios[DDP],
        allreduce_s=bootstrap_median(gaps, confidence=confidence),
        remedies={
            "gradient accumulation": ddp.speedups[ACCUMULATE],
            "larger buckets": ddp.ratios[PER_TENSOR],
            "one process": ddp.speedups[ONE_PROCESS],
        },
    )
