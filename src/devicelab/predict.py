"""Predict a training step without timing it (:func:`predict_step`), with a calibration measured
here, read from a recorded GPU, or built from a datasheet; and check a prediction here.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .calibration import calibrate
from .costmodel import Calibration, Curve, HostCosts, StepPrediction, price
from .devices import resolve_device
from .operators import operator_list
from .results import load_results, newest_record, provenance, validate_results
from .steps import AUTO, LossFn, OptimizerFactory, as_tensors, step_kind

__all__ = [
    "CALIBRATION_MAX_AGE_S",
    "SETTLED_BAND",
    "PredictionCheck",
    "check_prediction",
    "device_calibration",
    "predict_step",
]

#: The share of a datasheet's float32 peak that a large matrix product reaches: a float32
#: 8,192-cubed matmul on an H100 80GB HBM3 with TF32 off reached 51.6 TFLOP/s of its 66.9.
DEFAULT_COMPUTE_SHARE = 0.77
#: The share of a datasheet's bandwidth that a large device copy reaches (assumed).
DEFAULT_BANDWIDTH_SHARE = 0.8
#: The launch cost of one kernel when no recorded GPU gives one: about 5-10 us (d2l.ai,
#: "Computational performance"); the low end.
DEFAULT_LAUNCH_S = 5e-6
#: A sync when no recorded GPU gives one: a PCIe round trip, about 10 us.
DEFAULT_SYNC_S = 10e-6


def _launch_and_sync(record: dict[str, Any] | None, cpu: Calibration) -> tuple[float, float, str]:
    """The launch cost added to each operator on a GPU, and a sync, with where they come from."""
    if record is None:
        note = (
            f"launch {DEFAULT_LAUNCH_S * 1e6:.0f} µs per kernel and sync "
            f"{DEFAULT_SYNC_S * 1e6:.0f} µs assumed (no recorded GPU)"
        )
        return DEFAULT_LAUNCH_S, DEFAULT_SYNC_S, note
    m = record["measurements"]
    queued = m["launch"]["per_op"]["queued"]["median_s"]
    launch = max(queued - cpu.host.tiny_op, 0.0)
    note = (
        f"launch {launch * 1e6:.1f} µs per kernel (the recorded {record['device_name']}'s "
        f"tiny operator, {queued * 1e6:.1f} µs, less this CPU's, "
        f"{cpu.host.tiny_op * 1e6:.1f} µs) and sync {m['sync']['median_s'] * 1e6:.1f} µs "
        "from its record"
    )
    return launch, m["sync"]["median_s"], note


def _recorded_host(record: dict[str, Any], cpu: Calibration) -> tuple[HostCosts, str]:
    """The recorded GPU's host side: this CPU's host costs, scaled by the recorded host's time to
    issue one tiny operator to its GPU over this CPU's time to run one (measured alike, so this
    machine's speed cancels; the record's CPU step is no measure of it: that host issues a CUDA
    operator several times slower than it runs a CPU one)."""
    queued = record["measurements"]["launch"]["per_op"]["queued"]["median_s"]
    scale = queued / cpu.host.tiny_op
    return cpu.host.scaled(scale), (
        f"host: the recorded machine's, as this CPU's host costs scaled by {scale:.2f}: its "
        f"host issued a tiny operator to its GPU in {queued * 1e6:.1f} µs, this CPU runs one "
        f"in {cpu.host.tiny_op * 1e6:.1f} µs"
    )


def _gpu_calibration(
    spec, record: dict[str, Any] | None, cpu: Calibration, *, recorded_host: bool = False
) -> Calibration:
    """A GPU's calibration from its datasheet, with a recorded GPU's launch and sync costs; its
    host is this CPU's plus a launch per kernel, or with ``recorded_host`` the recorded
    machine's own (:func:`_recorded_host`)."""
    launch, sync, launch_note = _launch_and_sync(record, cpu)
    flops = spec.peak_flops_per_s * DEFAULT_COMPUTE_SHARE
    bandwidth = spec.peak_bytes_per_s * DEFAULT_BANDWIDTH_SHARE
    compute = Curve("matmul", "flops", ((1e12, 1e12 / flops),))
    memory = Curve("elementwise", "bytes", ((1e9, 1e9 / bandwidth),))
    if recorded_host:
        host, host_note = _recorded_host(record, cpu)
        host_note += f"; sync {sync * 1e6:.1f} µs from the record"
    else:
        host = cpu.host.plus_launch(launch)
        host_note = (
            f"host: this machine's CPU issues the operators, as measured here, plus {launch_note}"
        )
    assumptions = (
        f"compute: {DEFAULT_COMPUTE_SHARE:.0%} of the datasheet's {spec.fp32_tflops} TFLOP/s "
        "float32 peak (a measured 8,192-cubed matmul on an H100; no recorded GPU has ceilings "
        "yet), for every matrix product and convolution, whatever its size",
        f"memory: {DEFAULT_BANDWIDTH_SHARE:.0%} of the datasheet's "
        f"{spec.memory_bandwidth_gb_s:,.0f} GB/s (assumed)",
        host_note,
        "the host queues while the GPU computes (full overlap)",
    )
    return Calibration(
        device=spec.name,
        threads=cpu.threads,
        host=host,
        context=cpu.context,
        curves=dict.fromkeys(("matmul", "conv", "conv_backward"), compute)
        | dict.fromkeys(("elementwise", "reduction", "pool"), memory),
        sync_s=sync,
        overlap=True,
        source="datasheet",
        assumptions=assumptions,
    )


def device_calibration(
    device: str | torch.device | dict[str, Any] | Path | Calibration | None,
    *,
    quick: bool = False,
) -> Calibration:
    """The calibration that prices a step on ``device``.

    Parameters
    ----------
    device:
        A device here (measured, :func:`~devicelab.calibration.calibrate`); a results record
        (a dict, or a ``.json`` path: its recorded calibration, else its GPU's datasheet with
        its sync cost and its own host, this CPU's scaled by the record's cost of issuing a
        tiny operator); a GPU name from the datasheet table (:func:`devicelab.gpus.datasheet`),
        as that GPU in a machine with this CPU, with the newest recorded GPU's launch and sync
        costs; or a :class:`~devicelab.costmodel.Calibration`, returned as it is.
    quick:
        Measure here with :func:`~devicelab.calibration.calibrate`'s ``quick`` sweeps.

    Raises
    ------
    ValueError
        An unknown GPU name (the message lists the known ones), or an invalid record.
    """
    if isinstance(device, Calibration):
        return device
    if isinstance(device, dict) or (
        isinstance(device, (str, Path)) and str(device).endswith(".json")
    ):
        if isinstance(device, dict):
            record = validate_results(device, source="record")
        else:
            record = load_results(device)
        if not record["device"].startswith("cuda"):
            raise ValueError(
                f"the record is from {record['device']} ({record['device_name']}), not a GPU: "
                "pass a record made with `python -m devicelab bench --device cuda`, or a GPU "
                "name from devicelab.gpus.known_gpus()"
            )
        recorded = record["measurements"].get("calibration", {}).get(record["device"])
        if recorded is not None:
            return replace(Calibration.from_dict(recorded), source="record")
        from .gpus import datasheet

        # one host thread issues a GPU's operators
        cpu = calibrate("cpu", num_threads=1, quick=quick)
        return replace(
            _gpu_calibration(datasheet(record["device_name"]), record, cpu, recorded_host=True),
            device=record["device_name"],  # the recorded GPU, not its datasheet's model name
            source="record",
        )
    if isinstance(device, torch.device) or device is None or _is_device_name(str(device)):
        where = resolve_device(device)
        # one thread issues a GPU's operators: its host side is this CPU's at one thread
        return calibrate(where, num_threads=None if where.type == "cpu" else 1, quick=quick)
    from .gpus import datasheet

    cpu = calibrate("cpu", num_threads=1, quick=quick)  # one host thread issues its operators
    return _gpu_calibration(datasheet(str(device)), newest_record("cuda"), cpu)


def _is_device_name(text: str) -> bool:
    head = text.strip().lower().split(":")[0]
    return head in ("auto", "cpu", "cuda", "mps")


def predict_step(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor | None = None,
    loss_fn: LossFn | None | str = AUTO,
    optimizer: OptimizerFactory | None | str = AUTO,
    device: str | torch.device | dict[str, Any] | Path | Calibration | None = "cpu",
    syncs: int = 1,
    quick_calibration: bool = False,
) -> StepPrediction:
    """Predict one step (:func:`devicelab.steps.train_step`) of ``model`` on ``device`` without
    timing it: its operator list priced by :mod:`devicelab.costmodel`.

    Parameters
    ----------
    model, inputs, targets, loss_fn, optimizer:
        As in :func:`devicelab.explain.explain_step`; ``"auto"`` trains with cross-entropy
        and SGD given ``targets``, and predicts inference without them
        (:func:`devicelab.steps.step_kind`). ``model`` is neither moved nor run.
    device:
        Anything :func:`device_calibration` accepts.
    syncs:
        Syncs per step (1: ``loss.item()`` every step).
    quick_calibration:
        Calibrate with :func:`~devicelab.calibration.calibrate`'s ``quick`` sweeps: for dry
        runs and tests (a CPU standing in for a GPU); large operators are priced less exactly.

    Raises
    ------
    TypeError
        ``model`` is not a module, or the inputs are not tensors.
    ValueError
        An unknown device or GPU name, no targets for a loss, or a negative ``syncs``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(syncs, bool) or not isinstance(syncs, int) or syncs < 0:
        raise ValueError(f"syncs must be a non-negative integer, got {syncs!r}")
    loss_fn, optimizer = step_kind(targets, loss_fn, optimizer)
    ops = operator_list(model, inputs, targets=targets, loss_fn=loss_fn, optimizer=optimizer)
    cal = device_calibration(device, quick=quick_calibration)
    return price(ops, cal, syncs=syncs, provenance_line=_provenance(device, cal))


def _provenance(device, cal: Calibration) -> str:
    if cal.source == "measured":
        return f"calibrated on this machine's {cal.device} at {cal.threads} thread(s)"
    if isinstance(device, dict):
        return f"{cal.source}: {provenance(device)}"
    return f"{cal.source}: {cal.device}"


#: A check whose ratio is within this band is done; outside it, :func:`check_prediction`
#: repeats it.
SETTLED_BAND = (0.75, 1.25)
#: A check's first attempt reuses this process's calibration only when it is younger than
#: this (:func:`check_prediction`).
CALIBRATION_MAX_AGE_S = 60.0


@dataclass(frozen=True)
class PredictionCheck:
    """A prediction (:func:`predict_step`) set beside the step it predicts, measured on the same
    device (:func:`devicelab.explain.explain_step`), each the least over ``attempts``."""

    predicted: StepPrediction
    measured_s: float
    attempts: int = 1

    @property
    def ratio(self) -> float:
        """Predicted over measured (1.0 is a perfect prediction)."""
        return self.predicted.step_s / self.measured_s


def check_prediction(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor | None = None,
    loss_fn: LossFn | None = F.cross_entropy,
    device: str | torch.device | None = "cpu",
    max_attempts: int = 3,
) -> PredictionCheck:
    """Predict the step on ``device`` (a device here), then measure it, the least of two
    :func:`devicelab.explain.explain_step` runs of a copy of ``model`` moved there, both at one
    thread (the site's CPU figures are): the cost model's check.

    A neighbour's load only ever adds time, so while the ratio is outside :data:`SETTLED_BAND`
    the check is made again with a fresh calibration, up to ``max_attempts`` times, each side
    keeping its least (never the best ratio). Drift over minutes a least-of cannot undo, so the
    first attempt reuses this process's calibration only within :data:`CALIBRATION_MAX_AGE_S`.

    Raises
    ------
    ValueError
        ``max_attempts`` is not a positive integer.
    """
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"max_attempts must be a positive integer, got {max_attempts!r}")
    where = resolve_device(device)
    inputs = as_tensors("inputs", inputs)
    predictions: list[StepPrediction] = []
    measured: list[float] = []
    for attempt in range(max_attempts):
        age = CALIBRATION_MAX_AGE_S if attempt == 0 else 0.0  # a repeat measures again
        cal = calibrate(device, num_threads=1, max_age_s=age)
        predictions.append(
            predict_step(model, inputs, targets=targets, loss_fn=loss_fn, device=cal)
        )
        predicted = min(predictions, key=lambda p: p.step_s)
        plan = (model, inputs, targets, loss_fn, where, predicted.step_s)
        measured.append(min(_measure(*plan) for _ in range(2)))
        check = PredictionCheck(predicted, min(measured), attempt + 1)
        if SETTLED_BAND[0] <= check.ratio <= SETTLED_BAND[1]:
            break
    return check


def _measure(model, inputs, targets, loss_fn, device, predicted_s: float) -> float:
    """One :func:`~devicelab.explain.explain_step` of a copy of ``model`` moved to ``device``,
    with blocks of about 20 ms."""
    from .explain import explain_step

    steps = max(1, min(40, round(0.02 / max(predicted_s, 1e-9))))
    return explain_step(
        copy.deepcopy(model).to(device),
        tuple(t.to(device) for t in inputs),
        targets=None if targets is None else targets.to(device),
        loss_fn=loss_fn,
        device=device,
        steps=steps,
        rounds=7 if predicted_s < 0.01 else 3,
        warmup=2,
        num_threads=1,
    ).measured_s
