"""The GPU that is not there: a step predicted from a recorded results file.

From a recorded results file (:mod:`devicelab.results`), :func:`predict_from_record` predicts
the step on that GPU with :func:`devicelab.roofline.predict_step_s`:
``max(host, device) + syncs x sync_s``, where

- ``host = ops x per_op_s``. ``per_op_s`` is the record's *real* per-operator host cost on the
  GPU path: its measured course step (minus its syncs) divided by that step's operator calls,
  counted here by the same counter as your model's. The record's tiny ``add_`` (its ``launch``
  section) is only a floor: a real step also pays Python, module calls and autograd for each
  operator. ``floor_s`` keeps that launch floor, a lower bound.
- ``device`` is the roofline time of your step's FLOPs and bytes under the record's ceilings
  (``device_term="ceilings"``). A record made before the bench measured ceilings has none;
  then the device term uses the best FLOP/s and bytes/s the record's own sweep *achieved* on
  that GPU (``device_term="achieved"``): rates it is known to reach, so the device time is
  pessimistic (too long), never optimistic. No GPU ceiling is invented.

The prediction is printed as a prediction, with the record's provenance.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

from ..counts import mlp_step_counts
from ..results import provenance, validate_results
from ..roofline import Ceilings, predict_step_s, roofline_time_s
from ..stats import Spread
from .bounds import StepTerms, name_bound

__all__ = ["Prediction", "check_gpu_record", "predict_from_record"]


@dataclass(frozen=True)
class Prediction:
    """A predicted step on a recorded GPU: a prediction, never a measurement.

    Attributes
    ----------
    device_name, provenance:
        The record's GPU, and where, when and how it was recorded.
    step_s, low_s, high_s:
        Predicted seconds per step, and the range the record's course step spread over (its
        IQR over its median, carried over to this step): a :class:`~devicelab.stats.Spread`,
        not a confidence interval (see :attr:`spread`).
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

    @property
    def spread(self) -> Spread:
        """The predicted step and its range, as a :class:`~devicelab.stats.Spread` of kind
        ``"record"``: what :func:`~devicelab.advise.bounds.decide` compares."""
        return Spread(self.step_s, self.low_s, self.high_s, "record")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, marked ``"kind": "prediction"``."""
        return {"kind": "prediction", **asdict(self)}


def check_gpu_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record``, validated against its schema and checked to be a GPU's.

    Raises
    ------
    TypeError
        ``record`` is not a dict.
    ValueError
        An invalid record, or one measured on a CPU.
    """
    if not isinstance(record, dict):
        raise TypeError(
            f"record must be a results dict (devicelab.results.load_results), got "
            f"{type(record).__name__}"
        )
    validate_results(record, source="record")
    if record["device"].split(":")[0] != "cuda":
        raise ValueError(
            f"record is from {record['device']} ({record['device_name']}), not a GPU: "
            "pass a record made with `python -m devicelab bench --device cuda`, or "
            "record=None to predict from the recorded H100"
        )
    return record


def _anchor(record: dict[str, Any]) -> dict[str, float]:
    """The record's course step on its GPU: seconds, IQR and syncs per step."""
    runs = [
        r
        for r in record["measurements"].get("training", {}).get("runs", [])
        if r["device"] == record["device"] and r["record_every"] == 1
    ]
    if not runs or "sync" not in record["measurements"] or "launch" not in record["measurements"]:
        raise ValueError(
            f"the record from {record['device_name']} lacks the course's training "
            "run on its GPU, its sync or its launch section: record all three with "
            "`python -m devicelab bench --device cuda`"
        )
    run = runs[0]
    return {
        "step_s": run["epoch_time_s"],
        "iqr_s": run["epoch_time_iqr_s"],
        "syncs": run["syncs"] / run["epochs"],
    }


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
        raise ValueError(
            f"the record from {record['device_name']} has neither roofline ceilings "
            "nor a utilisation sweep on its GPU, so nothing bounds its device "
            "time: record them with `python -m devicelab bench --device cuda`"
        )
    flops = max(p["flops"] / p["median_s"] for p in points)
    moved = max(
        p.get("bytes_moved")
        or _sweep_bytes(p["hidden"], p["batch"], p.get("model") == "DeepMLP") / p["median_s"]
        for p in points
    )
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
    record = check_gpu_record(record)
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
    step = predict_step_s(
        ops=ops,
        per_op_s=per_op_s,
        flops=flops,
        bytes_moved=bytes_moved,
        ceilings=rates,
        syncs=syncs,
        sync_s=sync_s,
    )
    spread = anchor["iqr_s"] / anchor["step_s"]
    terms = StepTerms(
        ops * per_op_s,
        syncs * sync_s,
        bytes_moved / rates.peak_bytes_per_s,
        flops / rates.peak_flops_per_s,
    )
    return Prediction(
        device_name=record["device_name"],
        provenance=provenance(record),
        step_s=step,
        low_s=step * (1 - spread / 2),
        high_s=step * (1 + spread / 2),
        host_s=terms.host_s,
        device_s=roofline_time_s(flops, bytes_moved, rates),
        device_term=term,
        floor_s=ops * floor_per_op + syncs * sync_s,
        ops=ops,
        per_op_s=per_op_s,
        floor_per_op_s=floor_per_op,
        syncs=syncs,
        sync_s=sync_s,
        anchor={"step_s": anchor["step_s"], "ops": anchor_ops, "syncs": anchor["syncs"]},
        peak_flops_per_s=rates.peak_flops_per_s,
        peak_bytes_per_s=rates.peak_bytes_per_s,
        terms=terms,
        bound=name_bound(terms),
    )
