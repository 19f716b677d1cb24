"""CPU or GPU for *your* model: measure it here, explain it, and predict a recorded GPU.

:func:`advise` takes any ``nn.Module`` and example inputs and answers the site's question for
that model. It reuses the site's pieces rather than timing anything new:

- each device present is measured with :func:`devicelab.explain.explain_step` (warm-up,
  synchronisation, repeats, median and IQR; the breakdown, operator calls, kernels and
  device-busy time);
- FLOPs come from :class:`~torch.utils.flop_counter.FlopCounterMode` and bytes from the
  minimum-bytes model (:mod:`devicelab.roofline`), counted on the ``meta`` device;
- the device's own costs (roofline ceilings, the cost of one tiny operator, of one sync) are
  measured once per process (:func:`device_costs`).

Which overhead decides: the bound
    A step's time has four candidate terms: the host issuing its operators (operator calls x
    the measured cost of one tiny operator), the syncs (syncs x the measured cost of one), and
    the two roofline times (bytes / bandwidth, FLOPs / peak FLOP/s). The largest names the
    bound (:func:`name_bound`): launch/dispatch-, sync-, memory- or compute-bound. It comes
    from measured costs and counted work, never from the number of parameters.

The GPU that is not there: the prediction
    From a recorded results file (:mod:`devicelab.results`), :func:`predict_from_record`
    predicts the step on that GPU with :func:`devicelab.roofline.predict_step_s`:
    ``max(host, device) + syncs x sync_s``, where

    - ``host = ops x per_op_s``. ``per_op_s`` is the record's *real* per-operator host cost on
      the GPU path: its measured course step (minus its syncs) divided by that step's operator
      calls, counted here by the same counter as your model's. The record's tiny ``add_``
      (its ``launch`` section) is only a floor: on the recorded H100 it predicts a third of the
      course step the same record measured, because a real step also pays Python, module
      calls and autograd for each operator. ``floor_s`` keeps that launch floor, a lower bound.
    - ``device`` is the roofline time of your step's FLOPs and bytes under the record's
      ceilings (``device_term="ceilings"``). A record made before the bench measured ceilings
      has none; then the device term uses the best FLOP/s and bytes/s the record's own sweep
      *achieved* on that GPU (``device_term="achieved"``): rates it is known to reach, so the
      device time is pessimistic (too long), never optimistic. No GPU ceiling is invented.

    The prediction is printed as a prediction, with the record's provenance.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .devices import available_devices, resolve_device
from .explain import LossFn, OptimizerFactory, StepBreakdown, explain_step, sgd_lr_0_01
from .overheads import launch_cost, sync_cost
from .results import provenance, validate_results
from .roofline import (
    Ceilings,
    count_step_bytes,
    measure_ceilings,
    mlp_step_counts,
    predict_step_s,
    roofline_time_s,
    training_step_flops,
)
from .timing import measure

__all__ = [
    "BOUNDS",
    "REMEDIES",
    "REMEDIES_PAGE",
    "VERDICTS",
    "Advice",
    "BatchPoint",
    "DeviceCosts",
    "DeviceReport",
    "Prediction",
    "StepTerms",
    "advice_schema",
    "advise",
    "advise_command",
    "decide",
    "device_costs",
    "load_factory",
    "name_bound",
    "predict_from_record",
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
_TERM_BOUND = {"host_s": BOUNDS[0], "sync_s": BOUNDS[1], "memory_s": BOUNDS[2],
               "compute_s": BOUNDS[3]}  # fmt: skip


# -- the device's own costs, measured once per process -----------------------------------------
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


# -- the bound ---------------------------------------------------------------------------------
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


# -- the verdict -------------------------------------------------------------------------------
def decide(cpu: tuple[float, float], gpu: tuple[float, float]) -> str:
    """``"cpu"`` or ``"gpu"`` for the faster, ``"either"`` when their intervals overlap.

    Each argument is ``(low, high)`` seconds per step: a measured median +- half its IQR, or a
    prediction's interval.

    Raises
    ------
    ValueError
        An interval with low > high.
    """
    for name, (low, high) in (("cpu", cpu), ("gpu", gpu)):
        if not low <= high:
            raise ValueError(f"{name} interval must have low <= high, got ({low}, {high})")
    if cpu[1] < gpu[0]:
        return "cpu"
    if gpu[1] < cpu[0]:
        return "gpu"
    return "either"


def _interval(step_s: float, iqr_s: float) -> tuple[float, float]:
    return step_s - iqr_s / 2, step_s + iqr_s / 2


# -- the prediction ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """A predicted step on a recorded GPU: a prediction, never a measurement.

    Attributes
    ----------
    device_name, provenance:
        The record's GPU, and where, when and how it was recorded.
    step_s, low_s, high_s:
        Predicted seconds per step, and the interval from the record's spread on its course
        step (its IQR over its median).
    host_s, device_s:
        ``ops x per_op_s``, and the roofline time of the step's FLOPs and bytes.
    device_term:
        ``"ceilings"`` (the record's measured ceilings) or ``"achieved"`` (the best rates its
        sweep reached, pessimistic; see the module's docstring).
    floor_s:
        ``ops x`` the record's tiny-operator cost ``+ syncs x sync_s``: the launch floor, a
        lower bound for any step with these operators.
    ops, per_op_s, floor_per_op_s, syncs, sync_s:
        The terms, as used.
    anchor:
        The record's course step behind ``per_op_s``: ``step_s``, ``ops`` (counted here),
        ``syncs``.
    peak_flops_per_s, peak_bytes_per_s:
        The rates behind ``device_s``.
    terms, bound:
        The four terms and the bound they name.
    """

    device_name: str
    provenance: str
    step_s: float
    low_s: float
    high_s: float
    host_s: float
    device_s: float
    device_term: str
    floor_s: float
    ops: int
    per_op_s: float
    floor_per_op_s: float
    syncs: int
    sync_s: float
    anchor: dict[str, float]
    peak_flops_per_s: float
    peak_bytes_per_s: float
    terms: StepTerms
    bound: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, marked ``"kind": "prediction"``."""
        return {"kind": "prediction", **asdict(self)}


def _gpu_record(record: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise TypeError(f"record must be a results dict (devicelab.results.load_results), got "
                        f"{type(record).__name__}")  # fmt: skip
    validate_results(record, source="record")
    if record["device"].split(":")[0] != "cuda":
        raise ValueError(f"record is from {record['device']} ({record['device_name']}), not a GPU: "
                         "pass a record made with `python -m devicelab bench --device cuda`, or "
                         "record=None to predict from the recorded H100")  # fmt: skip
    return record


def _anchor(record: dict[str, Any]) -> dict[str, float]:
    """The record's course step on its GPU: seconds, IQR and syncs per step."""
    runs = [r for r in record["measurements"].get("training", {}).get("runs", [])
            if r["device"] == record["device"] and r["record_every"] == 1]  # fmt: skip
    if not runs or "sync" not in record["measurements"] or "launch" not in record["measurements"]:
        raise ValueError(f"the record from {record['device_name']} lacks the course's training "
                         "run on its GPU, its sync or its launch section: record all three with "
                         "`python -m devicelab bench --device cuda`")  # fmt: skip
    run = runs[0]
    return {"step_s": run["epoch_time_s"], "iqr_s": run["epoch_time_iqr_s"],
            "syncs": run["syncs"] / run["epochs"]}  # fmt: skip


@functools.cache
def _sweep_bytes(hidden: int, batch: int, deep: bool) -> int:
    return mlp_step_counts(hidden, batch, deep=deep).bytes_moved


def _device_rates(record: dict[str, Any]) -> tuple[Ceilings, str]:
    """The record's ceilings for its GPU, or else the best rates its sweep achieved there."""
    recorded = record["measurements"].get("roofline", {}).get("ceilings", {})
    if record["device"] in recorded:
        return Ceilings.from_dict(recorded[record["device"]]), "ceilings"
    sweeps = record["measurements"].get("utilization", {}).get("sweeps", {})
    points = [p for axis in sweeps.get(record["device"], {}).values() for p in axis]
    if not points:
        raise ValueError(f"the record from {record['device_name']} has neither roofline ceilings "
                         "nor a utilisation sweep on its GPU, so nothing bounds its device "
                         "time: record them with `python -m devicelab bench --device cuda`")  # fmt: skip
    flops = max(p["flops"] / p["median_s"] for p in points)
    moved = max(p.get("bytes_moved") or _sweep_bytes(p["hidden"], p["batch"],
                                                     p.get("model") == "DeepMLP")  # fmt: skip
                / p["median_s"] for p in points)  # fmt: skip
    return Ceilings(record["device"], flops, moved), "achieved"


def predict_from_record(
    record: dict[str, Any],
    *,
    ops: int,
    flops: float,
    bytes_moved: float,
    syncs: int,
    anchor_ops: int,
) -> Prediction:
    """Predict one step on the record's GPU (see the module's docstring for the model).

    Parameters
    ----------
    record:
        A validated GPU results record.
    ops:
        The step's top-level operator calls (:attr:`StepBreakdown.ops`).
    flops, bytes_moved:
        The step's FLOPs and minimum bytes.
    syncs:
        Syncs per step (1: ``loss.item()`` or a wait every step).
    anchor_ops:
        Operator calls of the course's step, counted by the same counter as ``ops``.

    Raises
    ------
    ValueError
        Not a GPU record, a record missing what the prediction needs, or a negative count.
    TypeError
        ``record`` is not a dict.
    """
    record = _gpu_record(record)
    for name, value in (("ops", ops), ("syncs", syncs), ("anchor_ops", anchor_ops)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if anchor_ops == 0:
        raise ValueError("anchor_ops must be positive: the course's step has operators")
    anchor = _anchor(record)
    m = record["measurements"]
    sync_s = m["sync"]["median_s"]
    floor_per_op = m["launch"]["per_op"]["queued"]["median_s"]
    per_op_s = max(anchor["step_s"] - anchor["syncs"] * sync_s, 0.0) / anchor_ops
    rates, term = _device_rates(record)
    step = predict_step_s(ops=ops, per_op_s=per_op_s, flops=flops, bytes_moved=bytes_moved,
                          ceilings=rates, syncs=syncs, sync_s=sync_s)  # fmt: skip
    spread = anchor["iqr_s"] / anchor["step_s"]
    terms = StepTerms(ops * per_op_s, syncs * sync_s, bytes_moved / rates.peak_bytes_per_s,
                      flops / rates.peak_flops_per_s)  # fmt: skip
    return Prediction(
        device_name=record["device_name"], provenance=provenance(record), step_s=step,
        low_s=step * (1 - spread / 2), high_s=step * (1 + spread / 2), host_s=terms.host_s,
        device_s=roofline_time_s(flops, bytes_moved, rates), device_term=term,
        floor_s=ops * floor_per_op + syncs * sync_s, ops=ops, per_op_s=per_op_s,
        floor_per_op_s=floor_per_op, syncs=syncs, sync_s=sync_s,
        anchor={"step_s": anchor["step_s"], "ops": anchor_ops, "syncs": anchor["syncs"]},
        peak_flops_per_s=rates.peak_flops_per_s, peak_bytes_per_s=rates.peak_bytes_per_s,
        terms=terms, bound=name_bound(terms),
    )  # fmt: skip


# -- the advice --------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceReport:
    """One device, measured live.

    Attributes
    ----------
    device:
        Where it ran.
    step_s, step_iqr_s:
        The whole step's median and IQR (from :func:`~devicelab.explain.explain_step`).
    ops, kernels:
        Operator calls and GPU kernels per step (kernels None on a CPU).
    flops, bytes_moved:
        FLOPs (FlopCounterMode) and minimum bytes per step.
    breakdown:
        :meth:`StepBreakdown.to_dict` of the step.
    busy_share:
        Share of the step the GPU was busy; None on a CPU.
    terms, bound:
        The four terms from this device's measured costs, and the bound they name.
    """

    device: str
    step_s: float
    step_iqr_s: float
    ops: int
    kernels: int | None
    flops: int
    bytes_moved: int
    breakdown: dict[str, Any]
    busy_share: float | None
    terms: StepTerms
    bound: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class BatchPoint:
    """One batch size on one device: measured, or predicted for the recorded GPU."""

    batch: int
    device: str
    step_s: float
    step_iqr_s: float | None
    per_sample_s: float
    predicted: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Advice:
    """What :func:`advise` found. ``to_dict()`` is what ``python -m devicelab advise --json``
    prints, and validates against ``schema/advice-v1.schema.json``.

    Attributes
    ----------
    model, input_shapes, batch, inference:
        What was advised on (``inference``: no loss, no backward, no optimizer).
    verdict:
        ``"cpu"`` or ``"gpu"``, or ``"either"`` when their intervals overlap.
    bound:
        The bound on the device the verdict picks (the CPU's for ``"either"``).
    devices:
        Device name to its :class:`DeviceReport`, for every device measured live.
    predicted:
        The recorded GPU's :class:`Prediction`; None when a GPU was measured live or no record
        was given.
    batch_test:
        :class:`BatchPoint` s at each batch size, on every device (predicted ones marked), and
        the winner at each batch.
    reasons:
        Sentences, each with the number it rests on.
    remedies:
        What helps at this bound, and the page that measures it (:data:`REMEDIES_PAGE`).
    """

    model: str
    input_shapes: list[list[int]]
    batch: int
    inference: bool
    verdict: str
    bound: str
    devices: dict[str, DeviceReport]
    predicted: Prediction | None
    batch_test: dict[str, Any]
    reasons: list[str]
    remedies: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the CLI's ``--json`` output."""
        return {
            "schema": "devicelab.advice", "schema_version": 1, "model": self.model,
            "input_shapes": self.input_shapes, "batch": self.batch, "inference": self.inference,
            "verdict": self.verdict, "bound": self.bound,
            "devices": {name: d.to_dict() for name, d in self.devices.items()},
            "predicted": None if self.predicted is None else self.predicted.to_dict(),
            "batch_test": self.batch_test, "reasons": self.reasons, "remedies": self.remedies,
        }  # fmt: skip

    def __str__(self) -> str:
        mode = "inference only (no loss, backward or optimizer)" if self.inference else (
            "one training step (forward, loss, backward, optimizer)")  # fmt: skip
        lines = [f"{self.model}, inputs {', '.join(map(str, self.input_shapes))}: {mode}",
                 f"verdict: {self.verdict.upper()} ({self.bound})", ""]  # fmt: skip
        lines += [f"- {reason}" for reason in self.reasons]
        lines += ["", f"remedies for a {self.bound} step ({self.remedies['page']}):"]
        lines += [f"- {text}" for text in self.remedies["items"]]
        return "\n".join(lines)


def _us(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:,.2f} ms"
    return f"{seconds * 1e6:,.1f} us"


def _tensors(value: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    values = (value,) if isinstance(value, torch.Tensor) else tuple(value)
    if not values or not all(isinstance(v, torch.Tensor) for v in values):
        raise TypeError("example_inputs must be a tensor or a non-empty sequence of tensors, "
                        f"got {type(value).__name__}")  # fmt: skip
    return values


def _resize(tensor: torch.Tensor, batch: int) -> torch.Tensor:
    """``tensor`` with ``batch`` rows: its own rows repeated (or cut) along dimension 0."""
    return tensor[torch.arange(batch, device=tensor.device) % tensor.shape[0]]


def _counts(model, inputs, targets, loss_fn) -> tuple[int, int]:
    """FLOPs and minimum bytes of one step, counted on the meta device (shapes only)."""
    meta = copy.deepcopy(model).to("meta")
    x = inputs[0].to("meta") if len(inputs) == 1 else None
    if x is None:  # roofline's counters take one input tensor
        raise ValueError("FLOP and byte counts need a model with one input tensor")
    y = targets.to("meta") if targets is not None else None
    flops = training_step_flops(meta, x, y, loss_fn=loss_fn)
    return flops, count_step_bytes(meta, x, y, loss_fn=loss_fn).total


@functools.cache
def _course_ops() -> int:
    """Operator calls of the course's step (4-10-3 MLP, 120 rows), counted like any model's."""
    from .models import MLP

    torch.manual_seed(0)
    x, y = torch.rand(120, 4), torch.randint(0, 3, (120,))
    return explain_step(MLP(), x, y, steps=1, rounds=1, warmup=1).ops


def _plan(seconds_per_step: float) -> dict[str, int]:
    """Steps per block and rounds for explain_step: a block of about 20 ms, fewer rounds for
    slow steps, so a page advising on four models stays within the docs budget."""
    steps = max(1, min(40, round(0.02 / max(seconds_per_step, 1e-9))))
    rounds = 7 if seconds_per_step < 0.01 else 3
    return {"steps": steps, "rounds": rounds, "warmup": 1 if seconds_per_step > 0.05 else 3}


def advise(
    model: nn.Module,
    example_inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor | None = None,
    loss_fn: LossFn | None = F.cross_entropy,
    optimizer: OptimizerFactory | None = sgd_lr_0_01,
    devices: str | Sequence[str] = "available",
    batch_sizes: Sequence[int] | None = None,
    record: dict[str, Any] | None = None,
) -> Advice:
    """Measure ``model`` on each device, name its bound, predict the recorded GPU, and advise.

    The defaults follow :func:`~devicelab.explain.explain_step`: a training step with
    cross-entropy and SGD (lr 0.01). ``loss_fn=None`` advises on inference (the forward pass
    only); ``optimizer=None`` leaves the optimizer out. The model is copied to each device, so
    ``model`` itself is neither moved nor trained.

    Parameters
    ----------
    model:
        Any module with parameters.
    example_inputs:
        A tensor (or sequence of tensors, passed as ``model(*inputs)``) with the batch along
        dimension 0, on the CPU or on one of ``devices``.
    targets:
        What ``loss_fn`` compares the output with; required unless ``loss_fn`` is None.
    loss_fn, optimizer:
        As in :func:`~devicelab.explain.explain_step`.
    devices:
        ``"available"`` (this machine's CPU and first GPU, if any) or a list of device names.
    batch_sizes:
        Batch sizes for the batch test; rows of the example inputs are repeated to fill them.
        None: the example's batch, twice it, and four times it if that is cheap (a step under
        50 ms at twice the batch).
    record:
        A GPU results record to predict from; None uses the newest recorded GPU shipped with
        devicelab. Ignored (no prediction) when a GPU is measured live.

    Raises
    ------
    TypeError
        ``model`` is not a module, or the inputs are not tensors.
    ValueError
        An empty model (no parameters or buffers), inputs on a device other than the CPU or
        those asked for, a batch size below 1, an unknown device, a record that is not a GPU
        record, or targets missing for a loss.
    RuntimeError
        The model raised on the inputs; the message names the model and the input shapes.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    name = type(model).__name__
    if not any(True for _ in model.parameters()) and not any(True for _ in model.buffers()):
        raise ValueError(f"{name} is empty: it has no parameters or buffers, so there is no "
                         "model to advise on")  # fmt: skip
    inputs = _tensors(example_inputs)
    targets_needed = loss_fn is not None
    if targets_needed and targets is None:
        raise ValueError("targets are required to compute a loss; pass targets=..., or "
                         "loss_fn=None to advise on inference only")  # fmt: skip
    wanted = available_devices()[:2] if devices == "available" else list(
        [devices] if isinstance(devices, str) else devices)  # fmt: skip
    if not wanted:
        raise ValueError("devices is empty: name at least one, e.g. ['cpu']")
    resolved = [resolve_device(d) for d in wanted]  # unknown or absent devices raise here
    allowed = {torch.device("cpu"), *resolved}
    placed = {f"example_inputs[{i}]": t for i, t in enumerate(inputs)}
    if targets_needed:
        placed["targets"] = targets
    placed |= {f"parameter {n!r}": p for n, p in model.named_parameters()}
    for what, tensor in placed.items():
        if tensor.device not in allowed:
            raise ValueError(f"{what} is on {tensor.device}, but devices={wanted}: put it on the "
                             "CPU or on one of those devices")  # fmt: skip
    batch = inputs[0].shape[0] if inputs[0].dim() else 0
    if batch_sizes is not None:
        bad = [b for b in batch_sizes if isinstance(b, bool) or not isinstance(b, int) or b < 1]
        if bad or not batch_sizes:
            raise ValueError(f"batch sizes must be integers of at least 1, got {list(batch_sizes)}")
    if batch < 1:
        raise ValueError(f"example_inputs need a batch dimension of at least 1 row, got shape "
                         f"{tuple(inputs[0].shape)}")  # fmt: skip
    gpu_live = any(d.type == "cuda" for d in resolved)
    if record is None and not gpu_live:
        from .results import recorded_results

        record = next(iter(recorded_results("cuda")), None)
    elif record is not None:
        record = _gpu_record(record)
    shapes = [list(t.shape) for t in inputs]
    syncs = 1

    def on(device: torch.device, b: int) -> tuple[nn.Module, tuple, torch.Tensor | None]:
        copied = copy.deepcopy(model).to(device)
        xs = tuple(_resize(t, b).to(device) for t in inputs)
        y = _resize(targets, b).to(device) if targets_needed else None
        return copied, xs, y

    def one_step(m, xs, y) -> Callable[[], None]:
        def step() -> None:
            out = m(*xs)
            if targets_needed:
                loss_fn(out, y).backward()
                m.zero_grad(set_to_none=True)

        return step

    # A first step, checked: a model that raises is named with its input shapes.
    cpu = torch.device("cpu")
    m, xs, y = on(cpu, batch)
    step = one_step(m, xs, y)
    try:
        start = time.perf_counter()
        step()
        first_s = time.perf_counter() - start
    except Exception as error:
        raise RuntimeError(f"{name} raised on inputs of shape "
                           f"{', '.join(str(tuple(s)) for s in shapes)}: "
                           f"{type(error).__name__}: {error}") from error  # fmt: skip
    # The first step pays lazy initialisation; plan the measurement from warm steps.
    for _ in range(2 if first_s < 0.2 else 0):
        start = time.perf_counter()
        step()
        first_s = min(first_s, time.perf_counter() - start)
    flops, moved = _counts(model, xs, y, loss_fn)

    reports: dict[str, DeviceReport] = {}
    for device in resolved:
        m, xs, y = on(device, batch)
        plan = _plan(first_s)
        b: StepBreakdown = explain_step(m, xs, y, loss_fn=loss_fn, optimizer=optimizer,
                                        device=device, **plan)  # fmt: skip
        costs = device_costs(device)
        memory_s, compute_s = (moved / costs.ceilings.peak_bytes_per_s,
                               flops / costs.ceilings.peak_flops_per_s)  # fmt: skip
        if b.device_busy_s is not None:  # a live GPU: its busy time is the device term
            if compute_s >= memory_s:
                compute_s = max(compute_s, b.device_busy_s)
            else:
                memory_s = max(memory_s, b.device_busy_s)
        terms = StepTerms(b.ops * costs.per_op_s, syncs * costs.sync_s, memory_s, compute_s)
        busy = None if b.device_busy_s is None else b.device_busy_s / b.measured_s
        reports[str(device)] = DeviceReport(str(device), b.measured_s, b.measured_iqr_s, b.ops,
                                            b.kernels, flops, moved, b.to_dict(), busy, terms,
                                            name_bound(terms))  # fmt: skip

    here = reports[str(resolved[0])]
    predicted = None
    if record is not None and not gpu_live:
        predicted = predict_from_record(record, ops=here.ops, flops=flops, bytes_moved=moved,
                                        syncs=syncs, anchor_ops=_course_ops())  # fmt: skip

    batch_test = _batch_test(model, batch, batch_sizes, resolved, reports, predicted, on,
                             one_step, loss_fn, record)  # fmt: skip
    verdict, bound = _verdict(reports, predicted)
    reasons = _reasons(reports, predicted, verdict, batch_test, loss_fn is None)
    return Advice(name, shapes, batch, loss_fn is None, verdict, bound, reports, predicted,
                  batch_test, reasons,
                  {"bound": bound, "page": REMEDIES_PAGE, "items": REMEDIES[bound]})  # fmt: skip


def _verdict(reports: dict[str, DeviceReport], predicted: Prediction | None) -> tuple[str, str]:
    cpu = reports.get("cpu")
    gpu = next((r for name, r in reports.items() if name.startswith("cuda")), None)
    if cpu is None or (gpu is None and predicted is None):
        only = next(iter(reports.values()))
        return ("gpu" if only.device.startswith("cuda") else "cpu"), only.bound
    if gpu is not None:
        verdict = decide(_interval(cpu.step_s, cpu.step_iqr_s),
                         _interval(gpu.step_s, gpu.step_iqr_s))  # fmt: skip
        return verdict, (gpu.bound if verdict == "gpu" else cpu.bound)
    verdict = decide(_interval(cpu.step_s, cpu.step_iqr_s), (predicted.low_s, predicted.high_s))
    return verdict, (predicted.bound if verdict == "gpu" else cpu.bound)


def _batch_test(model, batch, batch_sizes, resolved, reports, predicted, on, one_step, loss_fn,
                record):  # fmt: skip
    """Time per step and per sample at each batch size on each device; who wins at each."""
    sizes = list(batch_sizes) if batch_sizes is not None else [batch, 2 * batch]
    points: list[BatchPoint] = []
    for device in resolved:
        timed: dict[int, float] = {}
        for b in list(sizes):
            if b == batch:
                r = reports[str(device)]
                step, iqr = r.step_s, r.step_iqr_s
            else:
                m, xs, y = on(device, b)
                t = measure(one_step(m, xs, y), min_run_time=0.05, warmup=1)
                step, iqr = t.median_s, t.iqr_s
            timed[b] = step
            points.append(BatchPoint(b, str(device), step, iqr, step / b, False))
        if batch_sizes is None and timed.get(2 * batch, 1.0) < 0.05 and 4 * batch not in sizes:
            sizes.append(4 * batch)  # cheap: twice the batch took under 50 ms here
            m, xs, y = on(device, 4 * batch)
            t = measure(one_step(m, xs, y), min_run_time=0.05, warmup=1)
            points.append(BatchPoint(4 * batch, str(device), t.median_s, t.iqr_s,
                                     t.median_s / (4 * batch), False))  # fmt: skip
    if predicted is not None:
        _, xs, y = on(torch.device("cpu"), batch)
        for b in sorted(set(sizes)):
            bx = tuple(_resize(t, b) for t in xs)
            by = _resize(y, b) if y is not None else None
            flops, moved = _counts(model, bx, by, loss_fn)
            p = predict_from_record(record, ops=predicted.ops, flops=flops, bytes_moved=moved,
                                    syncs=predicted.syncs, anchor_ops=predicted.anchor["ops"])  # fmt: skip
            points.append(BatchPoint(b, predicted.device_name, p.step_s, None, p.step_s / b, True))
    winners = {}
    for b in sorted({p.batch for p in points}):
        at = [p for p in points if p.batch == b]
        if len(at) > 1:
            winners[str(b)] = min(at, key=lambda p: p.step_s).device
    return {"batches": sorted({p.batch for p in points}), "points": [p.to_dict() for p in points],
            "winner": winners}  # fmt: skip


def _reasons(reports, predicted, verdict, batch_test, inference) -> list[str]:
    reasons = []
    if inference:
        reasons.append("Inference only: the forward pass, with no loss, backward or optimizer "
                       f"({next(iter(reports.values())).ops} operator calls a step).")  # fmt: skip
    for r in reports.values():
        t = r.terms
        known = {k: v for k, v in t.to_dict().items() if v is not None}
        largest = max(known, key=known.__getitem__)
        reasons.append(
            f"Measured on {r.device}: {_us(r.step_s)} a step (IQR {_us(r.step_iqr_s)}), "
            f"{r.ops} operator calls, {r.flops / 1e9:.3g} GFLOP, {r.bytes_moved / 1e6:.3g} MB "
            f"moved at least.")  # fmt: skip
        reasons.append(
            f"{r.device} is {r.bound}: its largest term is {_us(known[largest])} "
            f"(operators {_us(t.host_s)}, syncs {_us(t.sync_s)}, memory {_us(t.memory_s)}, "
            f"compute {_us(t.compute_s)}), {sum(known.values()) / r.step_s:.0%} of the "
            "measured step.")  # fmt: skip
        if r.busy_share is not None:
            reasons.append(f"The GPU was busy {r.busy_share:.0%} of the step.")
    if predicted is not None:
        p = predicted
        rates = ("its measured ceilings" if p.device_term == "ceilings" else
                 f"the best rates its recorded sweep achieved ({p.peak_flops_per_s / 1e12:.2g} "
                 f"TFLOP/s, {p.peak_bytes_per_s / 1e9:.3g} GB/s; no ceilings were recorded, so "
                 "this device time is pessimistic)")  # fmt: skip
        reasons.append(
            f"Predicted, not measured, for the {p.device_name}: {p.ops} operator calls at "
            f"{_us(p.per_op_s)} each (the record's course step, {_us(p.anchor['step_s'])} over "
            f"{p.anchor['ops']} operators) give {_us(p.host_s)} of host time; the device needs "
            f"{_us(p.device_s)} at {rates}; so about {_us(p.step_s)} a step "
            f"({_us(p.low_s)} to {_us(p.high_s)}). Its launch floor alone, at the record's "
            f"{_us(p.floor_per_op_s)} per tiny operator, is {_us(p.floor_s)}.")  # fmt: skip
    cpu = reports.get("cpu")
    other = next((r.step_s for n, r in reports.items() if n.startswith("cuda")), None)
    other_name = "the GPU here" if other is not None else (
        f"the recorded {predicted.device_name}" if predicted else None)  # fmt: skip
    if other is None and predicted is not None:
        other = predicted.step_s
    if cpu is not None and other is not None:
        ratio = other / cpu.step_s
        head = {"cpu": "Stay on the CPU", "gpu": "Use the GPU",
                "either": "Either device will do"}[verdict]  # fmt: skip
        reasons.append(f"{head}: {other_name} takes {_us(other)} a step, {ratio:.2g}x the "
                       f"CPU's {_us(cpu.step_s)}.")  # fmt: skip
    for b, device in batch_test["winner"].items():
        at = {p["device"]: p for p in batch_test["points"] if str(p["batch"]) == b}
        per = ", ".join(f"{d} {_us(p['per_sample_s'])}{' (predicted)' if p['predicted'] else ''}"
                        for d, p in at.items())  # fmt: skip
        reasons.append(f"At batch {int(b):,}, {device} is faster; time per sample: {per}.")
    by_device: dict[str, list[dict]] = {}
    for p in batch_test["points"]:
        by_device.setdefault(p["device"], []).append(p)
    for device, points in by_device.items():
        first, last = points[0], points[-1]
        if last["batch"] != first["batch"]:
            reasons.append(f"On {device}, {last['batch'] / first['batch']:g}x the batch makes the "
                           f"time per sample {last['per_sample_s'] / first['per_sample_s']:.2f}x "
                           f"({'predicted' if first['predicted'] else 'measured'}): "
                           + f"{first['batch'] / last['batch']:g}x would be pure overhead, 1x "
                           "pure work.")  # fmt: skip
    return reasons


# -- the command line --------------------------------------------------------------------------
def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{what} must be comma-separated integers like 64,3,32,32, "
                         f"got {text!r}") from None  # fmt: skip
    if not values or any(v < 1 for v in values):
        raise ValueError(f"{what} must be positive integers like 64,3,32,32, got {text!r}")
    return values


def load_factory(spec: str) -> Callable[[], nn.Module]:
    """Import ``MODULE:CALLABLE`` (e.g. ``devicelab.zoo:lenet5``) and return the callable.

    Raises
    ------
    ValueError
        ``spec`` is not of that form, or the module or callable does not exist.
    """
    import importlib

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"expected MODULE:CALLABLE such as devicelab.zoo:lenet5, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(
            f"cannot import {module_name!r} ({error}); is it on PYTHONPATH?"
        ) from error
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"{module_name} has no callable {attr!r}")
    return factory


def advise_command(
    spec: str,
    input_shapes: Sequence[str],
    *,
    classes: int | None = None,
    batch: str | None = None,
    record: str | None = None,
    inference: bool = False,
    seed: int = 0,
) -> Advice:
    """What ``python -m devicelab advise`` runs: build the model from ``MODULE:CALLABLE``,
    random float32 inputs of each shape and random class targets, then :func:`advise`.

    Raises
    ------
    ValueError
        A malformed spec or shape, a factory that does not return a module, ``classes`` < 1,
        or anything :func:`advise` refuses.
    """
    factory = load_factory(spec)
    model = factory()
    if not isinstance(model, nn.Module):
        raise ValueError(f"{spec} returned {type(model).__name__}, not a torch.nn.Module")
    generator = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(*_ints(shape, "--input-shape"), generator=generator)
              for shape in input_shapes]  # fmt: skip
    targets = None
    if not inference:
        if classes is None:
            with torch.no_grad():
                try:
                    classes = model(*inputs).shape[-1]
                except Exception as error:
                    raise RuntimeError(f"{type(model).__name__} raised on inputs of shape "
                                       f"{', '.join(input_shapes)}: {error}") from error  # fmt: skip
        if classes < 1:
            raise ValueError(f"--classes must be at least 1, got {classes}")
        targets = torch.randint(0, classes, (inputs[0].shape[0],), generator=generator)
    loaded = None
    if record is not None:
        from .results import load_results

        loaded = load_results(record)
    return advise(model, inputs, targets=targets, loss_fn=None if inference else F.cross_entropy,
                  batch_sizes=_ints(batch, "--batch") if batch else None, record=loaded)  # fmt: skip


def advice_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :meth:`Advice.to_dict`, the CLI's ``--json``."""
    import json
    from importlib import resources

    text = resources.files("devicelab").joinpath("schema/advice-v1.schema.json").read_text()
    return json.loads(text)
