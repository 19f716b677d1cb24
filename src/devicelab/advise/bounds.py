"""The bound and the verdict: which overhead decides a step, and which device wins.

A step's time has four candidate terms: the host issuing its operators (operator calls x the
measured cost of one tiny operator), the syncs (syncs x the measured cost of one), and the two
roofline times (bytes / bandwidth, FLOPs / peak FLOP/s). The largest names the bound
(:func:`name_bound`). It comes from measured costs and counted work, never from the number of
parameters.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import torch

from ..devices import resolve_device
from ..overheads import launch_cost, sync_cost
from ..roofline import Ceilings, measure_ceilings
from ..stats import Spread

__all__ = [
    "BOUNDS",
    "REMEDIES",
    "REMEDIES_PAGE",
    "VERDICTS",
    "DeviceCosts",
    "StepTerms",
    "decide",
    "device_costs",
    "name_bound",
]

BOUNDS = ("launch/dispatch-bound", "sync-bound", "memory-bound", "compute-bound")
VERDICTS = ("cpu", "gpu", "either")
#: The remedies page, relative to the site's root.
REMEDIES_PAGE = "auto_examples/overheads/plot_remedies.html"
#: What helps a step under each bound (each measured on :data:`REMEDIES_PAGE`).
REMEDIES: dict[str, list[str]] = {
    "launch/dispatch-bound": [
        "give each operator more work: a larger batch, or several models batched into one",
        "issue fewer operators: fused or hand-written steps, torch.compile, CUDA graphs",
    ],
    "sync-bound": [
        "read the loss (.item()) every N steps, or keep the loss log on the device",
        "never print or branch on a GPU value inside the loop",
    ],
    "memory-bound": [
        "fuse elementwise operators (torch.compile) so activations are read and written once",
        "use lower precision (bfloat16) to halve the bytes moved",
    ],
    "compute-bound": [
        "use the GPU: its compute ceiling is far above a CPU's",
        "allow TF32 or bfloat16 matrix products on the GPU",
    ],
}
_TERM_BOUND = {
    "host_s": BOUNDS[0],
    "sync_s": BOUNDS[1],
    "memory_s": BOUNDS[2],
    "compute_s": BOUNDS[3],
}


@dataclass(frozen=True)
class DeviceCosts:
    """What a device charges apart from a model: ceilings, one tiny operator, one sync."""

    device: str
    ceilings: Ceilings
    per_op_s: float
    sync_s: float


@functools.cache
def _device_costs(device: str) -> DeviceCosts:
    ceilings = measure_ceilings(device, min_run_time=0.1)
    per_op = launch_cost(device, min_run_time=0.1).queued.median_s
    return DeviceCosts(device, ceilings, per_op, sync_cost(device, min_run_time=0.1).median_s)


def device_costs(device: str | torch.device) -> DeviceCosts:
    """The device's roofline ceilings, tiny-operator cost and sync cost, measured on first use
    and cached for the process (so a page advising on four models measures them once)."""
    return _device_costs(str(resolve_device(device)))


@dataclass(frozen=True)
class StepTerms:
    """Seconds per step of the four things a step can wait on (None: not known).

    Attributes
    ----------
    host_s:
        Operator calls x the cost of one (launch/dispatch).
    sync_s:
        Syncs x the cost of one.
    memory_s, compute_s:
        Bytes / bandwidth ceiling and FLOPs / compute ceiling: the roofline's two times.
    """

    host_s: float
    sync_s: float
    memory_s: float | None
    compute_s: float | None

    def to_dict(self) -> dict[str, float | None]:
        """A JSON-ready dict."""
        return asdict(self)


def name_bound(terms: StepTerms) -> str:
    """The bound: the name (one of :data:`BOUNDS`) of the largest known term.

    Raises
    ------
    ValueError
        A negative term.
    """
    known = {k: v for k, v in asdict(terms).items() if v is not None}
    bad = {k: v for k, v in known.items() if not v >= 0}
    if bad:
        raise ValueError(f"step terms must be zero or more seconds, got {bad}")
    return _TERM_BOUND[max(known, key=known.__getitem__)]


def decide(cpu: Spread, gpu: Spread) -> str:
    """``"cpu"`` or ``"gpu"`` for the faster, ``"either"`` when their spreads overlap.

    The rule compares *spreads*, not confidence intervals: a live step's interquartile range
    around its interquartile mean (:attr:`devicelab.advise.report.DeviceReport.spread`), or a prediction's range
    carried over from its record (:attr:`devicelab.advise.prediction.Prediction.spread`). A
    device wins only when its whole range lies below the other's: a step that varies by more
    than the gap between the devices gives "either".

    Raises
    ------
    TypeError
        An argument is not a :class:`~devicelab.stats.Spread` (a bootstrap
        :class:`~devicelab.stats.Interval` says how well a median is known, not how much a
        step varies, and is refused).
    """
    for name, value in (("cpu", cpu), ("gpu", gpu)):
        if not isinstance(value, Spread):
            raise TypeError(
                f"{name} must be a devicelab.stats.Spread (a step's range), got "
                f"{type(value).__name__}"
            )
    if cpu.high < gpu.low:
        return "cpu"
    if gpu.high < cpu.low:
        return "gpu"
    return "either"
