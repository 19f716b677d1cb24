"""The cost model: :func:`price` turns a step's operator list
(:func:`devicelab.operators.operator_list`) and a device's :class:`Calibration` into a
:class:`StepPrediction`, one way for every device. Operator ``i`` of kind ``k`` in phase
``p``, with ``F`` FLOPs and ``B`` bytes, costs the host and the device::

    host_i   = H[p, k]                         # host seconds per call (the calibration's)
    device_i = max(C_k(F), M_k(B), d_min)      # a product's or a conv's FLOPs, or its bytes

``C`` is the device time of a matrix product or convolution of that shape and size (small
ones reach a small share of the peak), ``M`` a memory-bound operator's against its bytes,
``d_min`` a kernel's least. With ``H0`` the per-step host costs (module calls, starting the
backward, ``zero_grad`` and the update) and ``s`` syncs of ``t_s`` each, a CPU's cores issue
an operator and then compute it, while a GPU computes as its host queues the next::

    step_CPU = H0 + sum(host_i) + sum(device_i) + s * t_s
    step_GPU = max(H0 + sum(host_i), sum(device_i)) + s * t_s

The largest of the four terms (host, syncs, memory-bound and compute-bound device time) names
the bound.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .operators import OperatorCall, OperatorList
from .stats import Spread

__all__ = [
    "BOUNDS",
    "UNCERTAINTY",
    "HOST_PHASES",
    "Calibration",
    "Curve",
    "HostCosts",
    "OperatorCost",
    "StepPrediction",
    "StepTerms",
    "name_bound",
    "price",
]


@dataclass(frozen=True)
class Curve:
    """Device seconds of one kind of operator against its size (FLOPs or bytes): ``points``,
    ``(size, seconds)`` pairs by increasing size, interpolated on a log-log scale, and in
    proportion to the size beyond the first and last points."""

    kind: str
    unit: str
    points: tuple[tuple[float, float], ...]

    def seconds(self, size: float) -> float:
        """Predicted device seconds for an operator of ``size`` FLOPs or bytes."""
        if size <= 0 or not self.points:
            return 0.0
        sizes = [p[0] for p in self.points]
        if size <= sizes[0]:
            return self.points[0][1] * size / sizes[0]
        if size >= sizes[-1]:
            return self.points[-1][1] * size / sizes[-1]
        i = bisect.bisect_left(sizes, size)  # sizes[i - 1] < size <= sizes[i]
        (x0, y0), (x1, y1) = self.points[i - 1], self.points[i]
        w = (math.log(size) - math.log(x0)) / (math.log(x1) - math.log(x0))
        return math.exp(math.log(y0) + w * (math.log(y1) - math.log(y0)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"kind": self.kind, "unit": self.unit, "points": [list(p) for p in self.points]}


#: The phases whose host cost a calibration keeps per call (the optimizer's is per parameter).
HOST_PHASES = ("forward", "backward")


@dataclass(frozen=True, kw_only=True)
class HostCosts:
    """Host seconds: per operator call by phase and kind, and per step.

    Attributes
    ----------
    per_call:
        Seconds per call by ``(phase, kind)`` (:data:`HOST_PHASES`,
        :data:`devicelab.operators.KINDS`).
    optimizer_fixed, optimizer_per_parameter:
        ``zero_grad`` and the SGD update: once per step, and per parameter tensor.
    tiny_op:
        One in-place add on one element, no autograd: what a GPU's launch is compared with.
    """

    per_call: dict[tuple[str, str], float]
    module_call: float
    backward_call: float
    optimizer_fixed: float
    optimizer_per_parameter: float
    tiny_op: float

    def call(self, phase: str, kind: str) -> float:
        """Host seconds of one call (an unmeasured kind costs an elementwise call's)."""
        return self.per_call.get((phase, kind), self.per_call[(phase, "elementwise")])

    def scaled(self, factor: float) -> HostCosts:
        """Every cost times ``factor`` (a slower or faster host)."""
        return HostCosts(
            per_call={key: v * factor for key, v in self.per_call.items()},
            **{name: getattr(self, name) * factor for name in _PER_STEP},
        )

    def plus_launch(self, launch_s: float) -> HostCosts:
        """The same host issuing to a GPU: every call that runs a kernel (all but views) and
        the update of each parameter tensor pay ``launch_s`` more (foreach kernels group the
        updates, so this is an upper bound)."""
        return replace(
            self,
            per_call={
                (phase, kind): v + (0.0 if kind == "view" else launch_s)
                for (phase, kind), v in self.per_call.items()
            },
            optimizer_per_parameter=self.optimizer_per_parameter + launch_s,
        )

    def to_dict(self) -> dict[str, float]:
        """The results record's layout: ``"<phase>:<kind>"`` keys and the per-step names."""
        named = {f"{phase}:{kind}": v for (phase, kind), v in self.per_call.items()}
        return named | {name: getattr(self, name) for name in _PER_STEP}

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> HostCosts:
        """The costs that :meth:`to_dict` wrote (other keys, such as a record's
        ``"context"``, are not host costs and are left out)."""
        per_call = {}
        for key, value in data.items():
            phase, _, kind = key.partition(":")  # the file's layout, read once here
            if kind and phase in HOST_PHASES:
                per_call[phase, kind] = value
        return cls(per_call=per_call, **{name: data[name] for name in _PER_STEP})


#: The per-step costs of :class:`HostCosts`, in the order a record writes them.
_PER_STEP = tuple(f.name for f in fields(HostCosts) if f.name != "per_call")


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """What one device charges: host seconds per operator, device seconds against size, a sync.

    Attributes
    ----------
    device:
        The device, e.g. ``"cpu"`` or ``"cuda:0"``, or a GPU's name for a datasheet.
    context:
        The factor that turns host costs measured one call at a time into the same calls'
        cost in a step (measured on a fixed mixed probe; usually above 1).
    curves:
        Device seconds against size, keyed ``"matmul"``, ``"conv"``, ``"conv_backward"``
        (FLOPs), ``"elementwise"``, ``"reduction"``, ``"pool"``, ``"pool_backward"`` (bytes).
    overlap:
        Whether the device runs while the host queues (a GPU) or after it (a CPU).
    kernel_floor_s:
        The least device time of one kernel (0 on a CPU).
    shape_grids:
        Measured shapes of matrix products (``"matmul"``: rows ``(m, k, n, flops, seconds)``)
        and convolutions (``"conv"``, ``"conv_backward"``: rows ``(in, out, kernel, pixels,
        flops, seconds)``); empty for a datasheet.
    source:
        Where the figures come from: ``"measured"``, ``"record"`` or ``"datasheet"``.
    """

    device: str
    threads: int
    host: HostCosts
    context: float = 1.0
    curves: dict[str, Curve]
    sync_s: float
    overlap: bool
    kernel_floor_s: float = 0.0
    source: str = "measured"
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    shape_grids: dict[str, tuple[tuple[float, ...], ...]] = field(default_factory=dict)

    def shaped_seconds(self, kind: str, dims: tuple[int, ...], flops: float) -> float:
        """Device seconds of a matrix product (``kind="matmul"``, dims ``(m, k, n)``) or a
        convolution (``"conv"`` or ``"conv_backward"``, dims ``(in, out, kernel, pixels)``):
        the rate of the nearest measured shapes (inverse-distance weighted in log space, the
        four nearest) times its FLOPs; the FLOPs curve when the calibration has no shapes."""
        rows = self.shape_grids.get(kind, ())
        if not rows or not dims or len(dims) != len(rows[0]) - 2 or min(dims) < 1:
            return self.curves[kind].seconds(flops)
        here = [math.log(d) for d in dims]
        scored = sorted(
            (math.dist(here, [math.log(v) for v in row[:-2]]), math.log(row[-2] / row[-1]))
            for row in rows
        )[:4]
        if scored[0][0] < 1e-9:
            return flops / math.exp(scored[0][1])
        weights = [1 / d**2 for d, _ in scored]
        log_rate = sum(w * r for w, (_, r) in zip(weights, scored, strict=True)) / sum(weights)
        return flops / math.exp(log_rate)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``bench`` records)."""
        return {
            "device": self.device,
            "threads": self.threads,
            # the record keeps the context factor beside the costs (results schema v3)
            "host_s": self.host.to_dict() | {"context": self.context},
            "curves": {name: c.to_dict() for name, c in self.curves.items()},
            "sync_s": self.sync_s,
            "overlap": self.overlap,
            "kernel_floor_s": self.kernel_floor_s,
            "source": self.source,
            "assumptions": list(self.assumptions),
            "shape_grids": {k: [list(r) for r in rows] for k, rows in self.shape_grids.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """The calibration that :meth:`to_dict` wrote (e.g. read from a results record)."""
        curves = {
            name: Curve(c["kind"], c["unit"], tuple(tuple(p) for p in c["points"]))
            for name, c in data["curves"].items()
        }
        return cls(
            device=data["device"],
            threads=data["threads"],
            host=HostCosts.from_dict(data["host_s"]),
            context=data["host_s"].get("context", 1.0),
            curves=curves,
            sync_s=data["sync_s"],
            overlap=data["overlap"],
            kernel_floor_s=data.get("kernel_floor_s", 0.0),
            source=data.get("source", "record"),
            assumptions=tuple(data.get("assumptions", ())),
            shape_grids={
                k: tuple(tuple(r) for r in rows) for k, rows in data.get("shape_grids", {}).items()
            },
        )


#: The four bounds a step can be under, the names :func:`name_bound` gives.
BOUNDS = ("launch/dispatch-bound", "sync-bound", "memory-bound", "compute-bound")
_TERM_BOUND = dict(zip(("host_s", "sync_s", "memory_s", "compute_s"), BOUNDS, strict=True))
#: The factor a prediction may be off by, by where its calibration came from. A page checks
#: this machine's within 25%; a recorded or datasheet GPU's rest partly on assumptions.
UNCERTAINTY = {"measured": 1.25, "record": 1.5, "datasheet": 2.0}


@dataclass(frozen=True)
class StepTerms:
    """Seconds per step of the four things a step can wait on (None: not known): the host, the
    syncs, memory-bound and compute-bound device time."""

    host_s: float
    sync_s: float
    memory_s: float | None
    compute_s: float | None


def name_bound(terms: StepTerms) -> str:
    """The bound: the name (one of :data:`~devicelab.costmodel.BOUNDS`) of the largest known term.

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


@dataclass(frozen=True, kw_only=True)
class OperatorCost:
    """The predicted cost of every call of one kind of operator in one phase of the step."""

    kind: str
    phase: str
    count: int
    flops: int
    bytes: int
    host_s: float
    device_s: float


@dataclass(frozen=True, kw_only=True)
class StepPrediction:
    """A predicted step: a prediction, never a measurement.

    Attributes
    ----------
    host_s, device_s, sync_s:
        The host's time (per-step costs and every operator call), the device's (every
        operator's arithmetic or memory traffic) and the syncs'.
    terms, bound, per_op:
        The four terms (:class:`StepTerms`), the bound they name (:func:`name_bound`), and an
        :class:`OperatorCost` per ``(kind, phase)``.
    low_s, high_s:
        The range the prediction may be off by (:data:`UNCERTAINTY`).
    source, assumptions, provenance:
        Where the calibration came from, what it assumed, and a line saying so.
    flops, bytes_moved, ops:
        The step's FLOPs, its operators' bytes, and its operator calls.
    """

    device: str
    step_s: float
    host_s: float
    device_s: float
    sync_s: float
    terms: StepTerms
    bound: str
    per_op: tuple[OperatorCost, ...]
    low_s: float
    high_s: float
    source: str
    provenance: str
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    syncs: int = 1
    flops: int = 0
    bytes_moved: int = 0
    ops: int = 0

    @property
    def spread(self) -> Spread:
        """The prediction and its range, a :class:`~devicelab.stats.Spread`."""
        return Spread(self.step_s, self.low_s, self.high_s, "prediction")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, marked ``"kind": "prediction"``."""
        data = asdict(self) | {"per_op": [asdict(c) for c in self.per_op]}
        return {"kind": "prediction", **data, "assumptions": list(self.assumptions)}

    def __str__(self) -> str:
        """A short table: the step and its range, the terms and the bound, a row per kind and
        phase."""

        def us(seconds: float | None) -> str:
            return "-" if seconds is None else f"{seconds * 1e6:.1f}"

        t = self.terms
        lines = [
            f"predicted step on {self.device}: {us(self.step_s)} µs "
            f"(range {us(self.low_s)} to {us(self.high_s)} µs; calibration: {self.source})",
            f"terms (µs): host {us(t.host_s)}, sync {us(t.sync_s)}, memory {us(t.memory_s)}, "
            f"compute {us(t.compute_s)}: {self.bound}",
            f"{'kind':<14}{'phase':<11}{'calls':>6}{'host µs':>10}{'device µs':>11}",
        ]
        for c in self.per_op:
            lines.append(
                f"{c.kind:<14}{c.phase:<11}{c.count:>6}{us(c.host_s):>10}{us(c.device_s):>11}"
            )
        per_step = t.host_s - sum(c.host_s for c in self.per_op)
        lines.append(f"{'per step (modules, optimizer)':<31}{us(per_step):>10}")
        return "\n".join(lines)


#: The sums :func:`price` keeps per ``(kind, phase)``, the fields of :class:`OperatorCost`.
_GROUP_SUMS = ("count", "flops", "bytes", "host_s", "device_s")


def _host(call: OperatorCall, cal: Calibration) -> float:
    if call.phase == "optimizer":  # priced per step and per parameter (see price)
        return 0.0
    # the loss is issued like a forward call
    return cal.host.call("backward" if call.phase == "backward" else "forward", call.kind)


def _device(call: OperatorCall, cal: Calibration) -> tuple[float, bool]:
    """Device seconds of ``call`` and whether it is arithmetic-bound (a product or a conv)."""
    if call.kind == "view":
        return 0.0, False
    if call.kind in ("matmul", "conv") and call.flops:
        name = "conv_backward" if call.kind == "conv" and call.phase == "backward" else call.kind
        compute = cal.shaped_seconds(name, call.dims, call.flops)
        memory = cal.curves["elementwise"].seconds(call.bytes)
        return max(compute, memory, cal.kernel_floor_s), compute >= memory
    memory_curve = cal.curves.get(call.kind, cal.curves["elementwise"])
    if call.kind == "loss":
        memory_curve = cal.curves["reduction"]
    elif call.kind == "pool" and call.phase == "backward":
        memory_curve = cal.curves.get("pool_backward", memory_curve)
    return max(memory_curve.seconds(call.bytes), cal.kernel_floor_s), False


def price(
    ops: OperatorList,
    cal: Calibration,
    *,
    syncs: int = 1,
    provenance_line: str = "",
) -> StepPrediction:
    """Price ``ops`` with ``cal`` (the module's cost model), for a step with ``syncs`` syncs.
    Host costs are scaled by the calibration's ``context``."""
    groups: dict[tuple[str, str], dict[str, float]] = {}
    compute = memory = host = 0.0
    for call in ops.calls:
        h = _host(call, cal)
        d, arithmetic = _device(call, cal)
        compute, memory, host = compute + d * arithmetic, memory + d * (not arithmetic), host + h
        group = groups.setdefault((call.kind, call.phase), dict.fromkeys(_GROUP_SUMS, 0))
        for name, value in zip(_GROUP_SUMS, (1, call.flops, call.bytes, h, d), strict=True):
            group[name] += value
    training = any(c.phase == "backward" for c in ops.calls)
    optimized = any(c.phase == "optimizer" for c in ops.calls)
    host += ops.module_calls * cal.host.module_call
    host += cal.host.backward_call if training else 0.0
    if optimized:  # zero_grad and the update visit each trainable parameter tensor
        host += cal.host.optimizer_fixed + ops.parameters * cal.host.optimizer_per_parameter
    host *= cal.context
    device = compute + memory
    sync = syncs * cal.sync_s
    step = (max(host, device) if cal.overlap else host + device) + sync
    terms = StepTerms(host, sync, memory, compute)
    factor = UNCERTAINTY[cal.source]
    per_op = tuple(OperatorCost(kind=k, phase=p, **g) for (k, p), g in groups.items())
    return StepPrediction(
        device=cal.device,
        step_s=step,
        host_s=host,
        device_s=device,
        sync_s=sync,
        terms=terms,
        bound=name_bound(terms),
        per_op=per_op,
        low_s=step / factor,
        high_s=step * factor,
        source=cal.source,
        provenance=provenance_line or f"{cal.source} calibration of {cal.device}",
        assumptions=cal.assumptions,
        syncs=syncs,
        flops=ops.flops,
        bytes_moved=ops.bytes,
        ops=len(ops.calls),
    )
