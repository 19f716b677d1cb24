"""Measuring the three overheads that make a tiny model slow on a GPU: transfer and
synchronisation, launch/dispatch, and under-use as the model and batch grow. Every timing goes
through :func:`devicelab.timing.measure`; where one step's time goes, part by part, is
:mod:`devicelab.explain`'s job.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch.autograd import DeviceType

from .data import load_iris
from .devices import resolve_device, synchronize
from .models import MLP, DeepMLP
from .operators import OperatorList, operator_list
from .profiling import profiled_events, top_level_operators
from .steps import StepSpec, prepare_step, run_steps, train_step
from .timing import Timing, measure

__all__ = [
    "LaunchCost",
    "OpCount",
    "SweepPoint",
    "TransferPoint",
    "count_step_ops",
    "sweep_step_operators",
    "launch_cost",
    "pcie_bandwidth_gb_s",
    "recorded_utilization_sweep",
    "sync_cost",
    "transfer_sweep",
    "utilization_sweep",
]


def _check_sizes(name: str, values: Sequence[int]) -> None:
    if len(values) == 0:
        raise ValueError(f"{name} is empty: give at least one size to measure")
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int) or v < 1]
    if bad:
        raise ValueError(f"{name} must be positive integers, got {bad}")


# -- 1. transfer and synchronisation -----------------------------------------------------------
@dataclass(frozen=True)
class TransferPoint:
    """One copy size in one direction (``"host->device"``, ``"device->host"`` or, on the CPU,
    ``"host->host"``) from ``"pageable"`` or ``"pinned"`` host memory."""

    size_bytes: int
    direction: str
    memory: str
    median_s: float
    iqr_s: float

    @property
    def bandwidth_gb_s(self) -> float:
        """Achieved bandwidth in GB/s (10^9 bytes per second)."""
        return self.size_bytes / self.median_s / 1e9

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, bandwidth included."""
        return {**asdict(self), "bandwidth_gb_s": self.bandwidth_gb_s}


def transfer_sweep(
    sizes_bytes: Sequence[int],
    device: str | torch.device | None = "cpu",
    *,
    min_run_time: float = 0.1,
) -> list[TransferPoint]:
    """Time copies of each size between host memory and ``device``.

    On a GPU: both directions, from pageable and from pinned host memory. On the CPU: a
    host->host copy, the in-memory baseline a GPU transfer competes with.

    Raises
    ------
    ValueError
        ``sizes_bytes`` is empty or holds a size that is not a positive integer.
    """
    _check_sizes("sizes_bytes", sizes_bytes)
    device = resolve_device(device)
    points = []
    for size in sizes_bytes:
        n = max(1, size // 4)  # float32 elements
        nbytes = n * 4
        if device.type == "cpu":
            copies = [("host->host", "pageable", torch.empty(n), torch.rand(n))]
        else:
            on_device, copies = torch.rand(n, device=device), []
            for memory, host in (
                ("pageable", torch.rand(n)),
                ("pinned", torch.rand(n).pin_memory()),
            ):
                copies += [
                    ("host->device", memory, on_device, host),
                    ("device->host", memory, host, on_device),
                ]
        for direction, memory, dst, src in copies:
            t = measure(
                lambda d=dst, s=src, pinned=memory == "pinned": d.copy_(s, non_blocking=pinned),
                min_run_time=min_run_time,
            )
            points.append(TransferPoint(nbytes, direction, memory, t.median_s, t.iqr_s))
    return points


# Usable GB/s per lane and direction after line encoding (8b/10b to Gen2, 128b/130b from Gen3;
# Gen6's FLIT encoding is counted as Gen5 doubled). Source: PCI-SIG specifications.
_PCIE_LANE_GB_S = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.877}


def pcie_bandwidth_gb_s(generation: int, width: int) -> float:
    """Theoretical one-direction bandwidth of a PCIe link in GB/s (x16 Gen5: about 63 GB/s).

    Raises
    ------
    ValueError
        An unknown generation or a non-positive width.
    """
    if generation not in _PCIE_LANE_GB_S:
        raise ValueError(f"unknown PCIe generation {generation}; known: 1 to 6")
    if width < 1:
        raise ValueError(f"PCIe width must be positive, got {width}")
    return _PCIE_LANE_GB_S[generation] * width


def sync_cost(device: str | torch.device | None = "cpu", *, min_run_time: float = 0.2) -> Timing:
    """Time one ``.item()`` on a one-element tensor on ``device``: the price of one sync."""
    device = resolve_device(device)
    scalar = torch.ones((), device=device)
    return measure(scalar.item, label=f"scalar .item() on {device}", min_run_time=min_run_time)


# -- 2. launch and dispatch --------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchCost:
    """Per-operator cost on one device: ``queued``, many tiny ops back to back and one wait
    (the throughput that bounds a training loop); ``synced``, one op and a full sync each."""

    device: str
    queued: Timing
    synced: Timing

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def launch_cost(
    device: str | torch.device | None = "cpu", *, min_run_time: float = 0.2
) -> LaunchCost:
    """Time an in-place add on a one-element tensor: almost no arithmetic, all overhead."""
    device = resolve_device(device)
    tiny = torch.zeros(1, device=device)

    def op_then_sync():
        tiny.add_(1.0)
        synchronize(device)

    queued = measure(
        lambda: tiny.add_(1.0), label=f"tiny add_ on {device}", min_run_time=min_run_time
    )
    synced = measure(op_then_sync, label=f"tiny add_ + sync on {device}", min_run_time=min_run_time)
    return LaunchCost(str(device), queued, synced)


@dataclass(frozen=True)
class OpCount:
    """What one training step launches: top-level ATen operators (``operator_calls``), every
    ATen operator, nested ones included (``aten_calls``), and GPU ``kernels``."""

    device: str
    operator_calls: int
    aten_calls: int
    kernels: int
    operators: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def count_step_ops(
    device: str | torch.device | None = "cpu", *, hidden: int = 10, deep: bool = False
) -> OpCount:
    """What one Iris training step dispatched and launched when it ran on ``device``, seen by
    :mod:`torch.profiler` (so it depends on the device and the profiler; what a step *is* is
    counted by :func:`devicelab.operators.operator_list`). The model is
    :class:`~devicelab.models.MLP`, or :class:`~devicelab.models.DeepMLP` with ``deep``.
    """
    device = resolve_device(device)
    data = load_iris(device)
    spec = _sweep_step(DeepMLP if deep else MLP, hidden, data.X_train, data.y_train, device)
    run_steps(spec, 1, 3)  # warm up: lazy initialisation must not be counted
    events = profiled_events(lambda: train_step(spec), device)
    aten = [e for e in events if e.device_type == DeviceType.CPU and e.name.startswith("aten::")]
    top = top_level_operators(events)
    kernels = [e for e in events if e.device_type == DeviceType.CUDA]
    operators = Counter(event.name for event in top)
    return OpCount(str(device), len(top), len(aten), len(kernels), dict(sorted(operators.items())))


def _sweep_step(model_class, hidden, X, y, device) -> StepSpec:
    """The course's step on a model of this width, with no ``loss.item()``: these measurements
    are about compute and launch, not syncs."""
    return prepare_step(model_class(hidden).to(device), X, targets=y, device=device, sync=False)


# -- 3. under-use: the model and batch grow ----------------------------------------------------
@functools.lru_cache(maxsize=256)  # pages count the same shapes for several devices
def sweep_step_operators(hidden: int, batch: int, *, deep: bool = False) -> OperatorList:
    """The operator list (:func:`~devicelab.operators.operator_list`) of one step of the sweeps'
    model (:class:`~devicelab.models.MLP`, or :class:`~devicelab.models.DeepMLP` with ``deep``)
    on ``batch`` rows, built on the ``meta`` device: nothing is allocated.

    Raises
    ------
    ValueError
        ``hidden`` or ``batch`` is not a positive integer.
    """
    _check_sizes("hidden", [hidden])
    _check_sizes("batch", [batch])
    with torch.device("meta"):
        model = (DeepMLP if deep else MLP)(hidden)
        inputs, targets = torch.empty(batch, 4), torch.empty(batch, dtype=torch.long)
    return operator_list(model, inputs, targets=targets)


@dataclass(frozen=True, kw_only=True)
class SweepPoint:
    """Time of one training step at one model width and batch size on one device, with the
    FLOPs and the least bytes it must move (:func:`sweep_step_operators`)."""

    device: str
    hidden: int
    batch: int
    median_s: float
    iqr_s: float
    flops: int
    bytes_moved: int
    model: str = "MLP"

    @property
    def flops_per_s(self) -> float:
        """Achieved floating-point operations per second."""
        return self.flops / self.median_s

    @property
    def intensity(self) -> float:
        """Arithmetic intensity, FLOPs per byte moved."""
        return self.flops / self.bytes_moved

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, achieved FLOP/s and arithmetic intensity included."""
        return {**asdict(self), "flops_per_s": self.flops_per_s, "intensity": self.intensity}


def _sweep_point(
    device: str, hidden: int, batch: int, median_s: float, iqr_s: float, deep: bool
) -> SweepPoint:
    """A measured or recorded step time, with the FLOPs and bytes its shapes imply."""
    counts = sweep_step_operators(hidden, batch, deep=deep)
    return SweepPoint(
        device=device,
        hidden=hidden,
        batch=batch,
        median_s=median_s,
        iqr_s=iqr_s,
        flops=counts.flops,
        bytes_moved=counts.least_bytes,
        model="DeepMLP" if deep else "MLP",
    )


def utilization_sweep(
    device: str | torch.device | None,
    *,
    hiddens: Sequence[int],
    batches: Sequence[int],
    min_run_time: float = 0.2,
    seed: int = 0,
    deep: bool = False,
) -> list[SweepPoint]:
    """Time one full-batch training step at every ``(hidden, batch)`` pair on ``device``.

    Data is synthetic (4 features, 3 classes), so large batches need no dataset. The model is
    :class:`~devicelab.models.MLP`, or :class:`~devicelab.models.DeepMLP` with ``deep``.

    Raises
    ------
    ValueError
        An empty sweep, or a width or batch that is not a positive integer.
    """
    _check_sizes("hiddens", hiddens)
    _check_sizes("batches", batches)
    device = resolve_device(device)
    generator = torch.Generator().manual_seed(seed)
    points = []
    for hidden in hiddens:
        for batch in batches:
            X = torch.rand(batch, 4, generator=generator).to(device)
            y = torch.randint(0, 3, (batch,), generator=generator).to(device)
            spec = _sweep_step(DeepMLP if deep else MLP, hidden, X, y, device)
            t = measure(lambda s=spec: train_step(s), min_run_time=min_run_time)
            points.append(_sweep_point(str(device), hidden, batch, t.median_s, t.iqr_s, deep))
    return points


def recorded_utilization_sweep(
    record: dict[str, Any], axis: str, device: str | None = None
) -> list[SweepPoint]:
    """A recorded utilisation sweep, as the points :func:`utilization_sweep` returns, smallest
    first (none without such a sweep), FLOPs and bytes counted here from the shapes.

    Parameters
    ----------
    record:
        A validated results record (:func:`devicelab.results.newest_record`'s).
    axis:
        ``"width"``, ``"batch"`` or ``"deep"`` (the 4-h-h-3 model, version 2 and later).
    device:
        The record's own device (None) or ``"cpu"``, its host.
    """
    device = record["device"] if device is None else device
    sweeps = record["measurements"].get("utilization", {}).get("sweeps", {})
    found = sorted(sweeps.get(device, {}).get(axis) or [], key=lambda p: (p["hidden"], p["batch"]))
    return [
        _sweep_point(
            device, p["hidden"], p["batch"], p["median_s"], p.get("iqr_s", 0.0), axis == "deep"
        )
        for p in found
    ]
