"""The advice: measure a model on each device here, predict the recorded GPU, and decide."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from ..costmodel import StepPrediction, StepTerms
from ..devices import available_devices, is_gpu, resolve_device
from ..explain import StepBreakdown, explain_step, time_step
from ..operators import OperatorList, operator_list
from ..predict import predict_step
from ..stats import Spread
from ..steps import (
    AUTO,
    LossFn,
    OptimizerFactory,
    StepSpec,
    as_tensors,
    prepare_step,
    run_steps,
    step_kind,
)
from ..timing import timed_block
from .bounds import REMEDIES, REMEDIES_PAGE, decide
from .data_parallel import DataParallelAdvice, data_parallel_advice
from .reasons import reasons_for

__all__ = ["Advice", "BatchPoint", "DeviceReport", "advise"]


@dataclass(frozen=True, kw_only=True)
class DeviceReport:
    """One device, measured live (:func:`~devicelab.explain.explain_step`), and predicted.

    ``step_s`` is the whole step's interquartile mean over rounds, ``step_iqr_s`` the rounds'
    interquartile range; ``predicted`` (:func:`devicelab.predict.predict_step`, with the
    ``terms`` and the ``bound`` they name), set beside it, checks the cost model.
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
    predicted: StepPrediction

    @property
    def predicted_over_measured(self) -> float:
        """The prediction over the measured step (1.0 is a perfect prediction)."""
        return self.predicted.step_s / self.step_s

    @property
    def spread(self) -> Spread:
        """The step and its IQR around it (what :func:`~devicelab.advise.decide` compares)."""
        return Spread.around(self.step_s, self.step_iqr_s, "iqr")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**asdict(self), "predicted": self.predicted.to_dict()}


@dataclass(frozen=True, kw_only=True)
class BatchPoint:
    """One batch size on one device: measured (the breakdown's full step, timed the same way:
    :func:`devicelab.explain.time_step`), or predicted for the recorded GPU."""

    batch: int
    device: str
    step_s: float
    step_iqr_s: float | None
    per_sample_s: float
    predicted: bool


@dataclass(frozen=True, kw_only=True)
class Advice:
    """What :func:`advise` found. ``to_dict()`` is what ``python -m devicelab advise --json``
    prints, and validates against ``schema/advice-v2.schema.json``.

    ``bound`` is the bound on the device the verdict picks (the CPU's for ``"either"``);
    ``predicted`` the GPU that is not here, None when a GPU was measured live or no record was
    given; ``batch_test`` the :class:`BatchPoint` s and the winner at each batch.
    """

    model: str
    input_shapes: list[list[int]]
    batch: int
    inference: bool
    verdict: str
    bound: str
    devices: dict[str, DeviceReport]
    predicted: StepPrediction | None
    batch_test: dict[str, Any]
    reasons: list[str]
    remedies: dict[str, Any] = field(default_factory=dict)
    data_parallel: DataParallelAdvice | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the CLI's ``--json`` output."""
        return {
            "schema": "devicelab.advice",
            "schema_version": 2,
            **asdict(self),  # every field, in order; these two keep their own to_dict:
            "devices": {name: d.to_dict() for name, d in self.devices.items()},
            "predicted": None if self.predicted is None else self.predicted.to_dict(),
        }

    def __str__(self) -> str:
        mode = (
            "inference only (no loss, backward or optimizer)"
            if self.inference
            else ("one training step (forward, loss, backward, optimizer)")
        )
        lines = [
            f"{self.model}, inputs {', '.join(map(str, self.input_shapes))}: {mode}",
            f"verdict: {self.verdict.upper()} ({self.bound})",
            "",
        ]
        lines += [f"- {reason}" for reason in self.reasons]
        lines += ["", f"remedies for a {self.bound} step ({self.remedies['page']}):"]
        lines += [f"- {text}" for text in self.remedies["items"]]
        if self.data_parallel is not None:
            lines += ["", self.data_parallel.reason]
        return "\n".join(lines)


def _resize(tensor: torch.Tensor, batch: int) -> torch.Tensor:
    """``tensor`` with ``batch`` rows: its own rows repeated (or cut) along dimension 0."""
    return tensor[torch.arange(batch, device=tensor.device) % tensor.shape[0]]


@dataclass(frozen=True, kw_only=True)
class _Workload:
    """The reader's model and example, and how to build its step at any batch on any device."""

    model: nn.Module
    inputs: tuple[torch.Tensor, ...]
    targets: torch.Tensor | None
    loss_fn: LossFn | None
    optimizer: OptimizerFactory | None
    quick_calibration: bool = False

    def resized(self, batch: int):
        """The inputs and the targets (None without), resized to ``batch``."""
        xs = tuple(_resize(t, batch) for t in self.inputs)
        return xs, None if self.targets is None else _resize(self.targets, batch)

    def placed(self, device: torch.device, batch: int):
        """A copy of the model, the inputs and the targets, resized to ``batch``, on ``device``."""
        xs, y = self.resized(batch)
        y = y.to(device) if self.loss_fn is not None else None
        return copy.deepcopy(self.model).to(device), tuple(x.to(device) for x in xs), y

    def spec(self, device: torch.device, batch: int) -> StepSpec:
        """The full step (loss, backward, optimizer, a sync every step) at ``batch``."""
        model, xs, y = self.placed(device, batch)
        return prepare_step(
            model,
            xs,
            targets=y,
            loss_fn=self.loss_fn,
            optimizer=self.optimizer,
            device=device,
            sync=True,
        )

    def counts(self, batch: int) -> OperatorList:
        """The step's operators, FLOPs and least bytes at ``batch`` (shapes only, on ``meta``)."""
        xs, y = self.resized(batch)
        return operator_list(
            self.model, xs, targets=y, loss_fn=self.loss_fn, optimizer=self.optimizer
        )


def _warm_step_s(spec: StepSpec) -> float:
    """Seconds of one warm step: the first pays lazy initialisation, so up to two more are
    timed and the fastest kept. Plans the measurement; a step that raises is named."""
    try:
        seconds = timed_block(lambda: run_steps(spec, 1, 1), spec.device)
    except Exception as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in spec.inputs)
        raise RuntimeError(
            f"{type(spec.model).__name__} raised on inputs of shape {shapes}: "
            f"{type(error).__name__}: {error}"
        ) from error
    for _ in range(2 if seconds < 0.2 else 0):
        seconds = min(seconds, timed_block(lambda: run_steps(spec, 1, 1), spec.device))
    return seconds


def _plan(seconds_per_step: float) -> dict[str, int]:
    """Steps per block and rounds: a block of about 20 ms, fewer rounds for slow steps, so a
    page advising on four models stays within the docs budget."""
    steps = max(1, min(40, round(0.02 / max(seconds_per_step, 1e-9))))
    rounds = 7 if seconds_per_step < 0.01 else 3
    return {"steps": steps, "rounds": rounds, "warmup": 1 if seconds_per_step > 0.05 else 3}


def _checked_devices(devices: str | Sequence[str]) -> list[torch.device]:
    wanted = (
        available_devices()[:2]
        if devices == "available"
        else list([devices] if isinstance(devices, str) else devices)
    )
    if not wanted:
        raise ValueError("devices is empty: name at least one, e.g. ['cpu']")
    return [resolve_device(d) for d in wanted]  # unknown or absent devices raise here


def _check_workload(work: _Workload, resolved: list[torch.device], batch_sizes) -> None:
    if next(itertools.chain(work.model.parameters(), work.model.buffers()), None) is None:
        name = type(work.model).__name__
        raise ValueError(
            f"{name} is empty: it has no parameters or buffers, so there is no model to advise on"
        )
    if work.loss_fn is not None and work.targets is None:
        raise ValueError(
            "targets are required to compute a loss; pass targets=..., or "
            "loss_fn=None to advise on inference only"
        )
    allowed = {torch.device("cpu"), *resolved}
    placed = {f"inputs[{i}]": t for i, t in enumerate(work.inputs)}
    if work.loss_fn is not None:
        placed["targets"] = work.targets
    placed |= {f"parameter {n!r}": p for n, p in work.model.named_parameters()}
    for what, tensor in placed.items():
        if tensor.device not in allowed:
            raise ValueError(
                f"{what} is on {tensor.device}, but devices="
                f"{[str(d) for d in resolved]}: put it on the CPU or on one of "
                "those devices"
            )
    if batch_sizes is not None:
        bad = [b for b in batch_sizes if isinstance(b, bool) or not isinstance(b, int) or b < 1]
        if bad or not batch_sizes:
            raise ValueError(f"batch sizes must be integers of at least 1, got {list(batch_sizes)}")
    if work.inputs[0].dim() == 0 or work.inputs[0].shape[0] < 1:
        raise ValueError(
            f"inputs need a batch dimension of at least 1 row, got shape "
            f"{tuple(work.inputs[0].shape)}"
        )


def _report(
    work: _Workload, device: torch.device, batch: int, counts: OperatorList, warm_s: float
) -> DeviceReport:
    """Measure the step on ``device``, predict it from the device's calibration, and name its
    bound from the prediction's terms."""
    model, xs, y = work.placed(device, batch)
    b: StepBreakdown = explain_step(
        model,
        xs,
        targets=y,
        loss_fn=work.loss_fn,
        optimizer=work.optimizer,
        device=device,
        **_plan(warm_s),
    )
    predicted = _predict(work, batch, device)
    busy = None if b.device_busy_s is None else b.device_busy_s / b.measured_s
    return DeviceReport(
        device=str(device),
        step_s=b.measured_s,
        step_iqr_s=b.measured_iqr_s,
        ops=b.ops,
        kernels=b.kernels,
        flops=counts.flops,
        bytes_moved=counts.least_bytes,
        breakdown=b.to_dict(),
        busy_share=busy,
        terms=predicted.terms,
        bound=predicted.bound,
        predicted=predicted,
    )


def _predict(work: _Workload, batch: int, device) -> StepPrediction:
    xs, y = work.resized(batch)
    return predict_step(
        work.model,
        xs,
        targets=y,
        loss_fn=work.loss_fn,
        optimizer=work.optimizer,
        device=device,
        quick_calibration=work.quick_calibration,
    )


def _gpu_to_predict(gpu, resolved: list[torch.device]):
    """The GPU to predict: ``gpu``, else the newest recorded GPU; None when one is measured here."""
    if any(d.type == "cuda" for d in resolved):
        return None  # a GPU measured live: nothing to predict
    if gpu is not None:
        return gpu
    from ..results import newest_record

    newest = newest_record("cuda")
    return None if newest is None else {k: v for k, v in newest.items() if k != "_path"}


def advise(
    model: nn.Module,
    inputs: torch.Tensor | Sequence[torch.Tensor],
    *,
    targets: torch.Tensor | None = None,
    loss_fn: LossFn | None | str = AUTO,
    optimizer: OptimizerFactory | None | str = AUTO,
    devices: str | Sequence[str] = "available",
    batch_sizes: Sequence[int] | None = None,
    gpu: str | dict[str, Any] | None = None,
    quick_calibration: bool = False,
) -> Advice:
    """Measure ``model`` on each device, name its bound, predict the recorded GPU, and advise.

    Each device present is measured with :func:`devicelab.explain.explain_step`; FLOPs and bytes
    come from :func:`devicelab.operators.operator_list`; the predictions from
    :func:`devicelab.predict.predict_step`. The model is copied to each device, so ``model``
    itself is neither moved nor trained.

    Parameters
    ----------
    inputs:
        A tensor (or sequence of tensors, passed as ``model(*inputs)``) with the batch along
        dimension 0, on the CPU or on one of ``devices``.
    loss_fn, optimizer, quick_calibration:
        As in :func:`~devicelab.explain.explain_step` and :func:`devicelab.predict.predict_step`.
    devices:
        ``"available"`` (this machine's CPU and first GPU, if any) or a list of device names.
    batch_sizes:
        For the batch test; None: the example's, twice it, and four times it if cheap.
    gpu:
        The GPU to predict when none is measured live: a datasheet name (:mod:`devicelab.gpus`),
        a results record or its path. None: the newest record shipped with devicelab.

    Raises
    ------
    TypeError
        ``model`` is not a module, or the inputs are not tensors.
    ValueError
        An empty model, inputs on a device other than the CPU or those asked for, a batch size
        below 1, an unknown device, a record that is not a GPU record, or no targets for a loss.
    RuntimeError
        The model raised on the inputs; the message names the model and the input shapes.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    loss_fn, optimizer = step_kind(targets, loss_fn, optimizer)
    work = _Workload(
        model=model,
        inputs=as_tensors("inputs", inputs),
        targets=targets,
        loss_fn=loss_fn,
        optimizer=optimizer,
        quick_calibration=quick_calibration,
    )
    resolved = _checked_devices(devices)
    _check_workload(work, resolved, batch_sizes)
    target = _gpu_to_predict(gpu, resolved)
    batch = work.inputs[0].shape[0]
    warm_s = _warm_step_s(work.spec(torch.device("cpu"), batch))
    counts = work.counts(batch)
    reports = {str(d): _report(work, d, batch, counts, warm_s) for d in resolved}
    predicted = None if target is None else _predict(work, batch, target)
    batch_test = _batch_test(work, batch, batch_sizes, resolved, reports, target, warm_s)
    verdict, bound = _verdict(reports, predicted)
    return Advice(
        model=type(model).__name__,
        input_shapes=[list(t.shape) for t in work.inputs],
        batch=batch,
        inference=loss_fn is None,
        verdict=verdict,
        bound=bound,
        devices=reports,
        predicted=predicted,
        batch_test=batch_test,
        reasons=reasons_for(reports, predicted, verdict, batch_test, loss_fn is None),
        remedies={"bound": bound, "page": REMEDIES_PAGE, "items": REMEDIES[bound]},
        data_parallel=None if loss_fn is None else data_parallel_advice(model, batch, batch_test),
    )


def _verdict(reports: dict[str, DeviceReport], predicted: StepPrediction | None) -> tuple[str, str]:
    cpu = reports.get("cpu")
    gpu = next((r for name, r in reports.items() if is_gpu(name)), None)  # Apple's MPS too
    if cpu is None or (gpu is None and predicted is None):
        only = next(iter(reports.values()))
        return ("gpu" if is_gpu(only.device) else "cpu"), only.bound
    other = gpu if gpu is not None else predicted  # a GPU measured here, else the prediction
    verdict = decide(cpu.spread, other.spread)
    return verdict, (other.bound if verdict == "gpu" else cpu.bound)


def _point(b: int, device: str, step_s: float, iqr_s: float | None, predicted: bool) -> BatchPoint:
    """A :class:`BatchPoint`, its time per sample worked out."""
    return BatchPoint(
        batch=b,
        device=device,
        step_s=step_s,
        step_iqr_s=iqr_s,
        per_sample_s=step_s / b,
        predicted=predicted,
    )


def _measured_point(
    work: _Workload, device: torch.device, b: int, batch: int, warm_s: float
) -> BatchPoint:
    """The full step at batch ``b``, timed as the breakdown times it."""
    plan = _plan(warm_s * b / batch)  # a step at most ``b / batch`` times the example's
    t = time_step(work.spec(device, b), **plan)
    return _point(b, str(device), t.mean_s, t.iqr_s, False)


def _batch_test(work, batch, batch_sizes, resolved, reports, target, warm_s) -> dict[str, Any]:
    """Time per step and per sample at each batch size on each device; who wins at each."""
    sizes = list(batch_sizes) if batch_sizes is not None else [batch, 2 * batch]
    points: list[BatchPoint] = []
    for device in resolved:
        for b in list(sizes):
            if b == batch:
                r = reports[str(device)]
                points.append(_point(b, str(device), r.step_s, r.step_iqr_s, False))
            else:
                points.append(_measured_point(work, device, b, batch, warm_s))
        twice = next((p for p in points if p.device == str(device) and p.batch == 2 * batch), None)
        if batch_sizes is None and twice and twice.step_s < 0.05 and 4 * batch not in sizes:
            points.append(_measured_point(work, device, 4 * batch, batch, warm_s))  # cheap here
            sizes.append(4 * batch)
    if target is not None:
        for b in sorted(set(sizes)):
            p = _predict(work, b, target)
            points.append(_point(b, p.device, p.step_s, None, True))
    winners = {}
    for b in sorted({p.batch for p in points}):
        at = [p for p in points if p.batch == b]
        if len(at) > 1:
            winners[str(b)] = min(at, key=lambda p: p.step_s).device
    return {
        "batches": sorted({p.batch for p in points}),
        "points": [asdict(p) for p in points],
        "winner": winners,
    }
