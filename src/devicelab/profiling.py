"""What :mod:`torch.profiler` tells about a step: operator calls, kernels, device busy time.

The profiler inflates per-operator host times several-fold on a step this small, so devicelab
never takes host times from it, only the calls and the kernels' times on the device.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.autograd import DeviceType

from .devices import synchronize

__all__ = [
    "StepProfile",
    "busy_time_s",
    "profile_steps",
    "profiled_events",
    "profiler_log_silenced",
    "top_level_operators",
]


def busy_time_s(intervals: Sequence[tuple[float, float]]) -> float:
    """Length of the union of ``(start, end)`` intervals: overlapping work counts once.

    Raises
    ------
    ValueError
        An interval ends before it starts.
    """
    bad = [(s, e) for s, e in intervals if e < s]
    if bad:
        raise ValueError(f"intervals must end after they start, got {bad[:3]}")
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


@contextlib.contextmanager
def profiler_log_silenced() -> Iterator[None]:
    """Send the process's native stderr to /dev/null while the block runs.

    torch's profiler (kineto) writes ``USDT: ... profiler_start/stop`` trace lines to file
    descriptor 2, with no setting to turn them off, and a notebook page would show them.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def profiled_events(run: Callable[[], None], device: torch.device):
    """Call ``run()`` once under :mod:`torch.profiler` (CPU, plus CUDA kernels on a GPU), wait
    for the device, and return the profiler's events. Kineto's trace lines are dropped
    (:func:`profiler_log_silenced`)."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with profiler_log_silenced(), torch.profiler.profile(activities=activities) as prof:
        run()
        synchronize(device)
    return prof.events()


def top_level_operators(events) -> list:
    """The ATen operators among ``events`` that no other ATen operator called: the ones called
    from Python or from the autograd engine, each a dispatch (and on a GPU, usually a launch)."""

    def nested_in_aten(event) -> bool:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name.startswith("aten::"):
                return True
            parent = parent.cpu_parent
        return False

    return [
        e
        for e in events
        if e.device_type == DeviceType.CPU and e.name.startswith("aten::") and not nested_in_aten(e)
    ]


@dataclass(frozen=True)
class StepProfile:
    """Per-step counts from one profiled run of several steps: top-level operator calls
    (:func:`top_level_operators`), and on a GPU (else None) kernels and the seconds the GPU ran
    kernels, copies or memsets (the union of their intervals)."""

    ops: int
    kernels: int | None
    device_busy_s: float | None


def profile_steps(run: Callable[[], None], device: torch.device, *, steps: int) -> StepProfile:
    """Profile ``run()``, which runs ``steps`` steps, and count per step."""
    events = profiled_events(run, device)
    ops = round(len(top_level_operators(events)) / steps)
    if device.type != "cuda":
        return StepProfile(ops, None, None)
    on_device = [e for e in events if e.device_type == DeviceType.CUDA]
    intervals = [(e.time_range.start, e.time_range.end) for e in on_device]  # microseconds
    return StepProfile(ops, round(len(on_device) / steps), busy_time_s(intervals) / 1e6 / steps)
