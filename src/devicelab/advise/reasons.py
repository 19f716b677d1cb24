"""The advice in sentences: each reason states the number it rests on."""

from __future__ import annotations

from typing import Any

from ..devices import is_gpu

__all__ = ["format_step", "reasons_for"]


def format_step(seconds: float) -> str:
    """Seconds per step in ms or µs, as the reasons print them."""
    if seconds >= 1e-3:
        return f"{seconds * 1e3:,.2f} ms"
    return f"{seconds * 1e6:,.1f} µs"


def reasons_for(
    reports: dict[str, Any],
    predicted: Any,
    verdict: str,
    batch_test: dict[str, Any],
    inference: bool,
) -> list[str]:
    """The advice's reasons, one sentence each, each with the number it rests on."""
    reasons = []
    if inference:
        reasons.append(
            "Inference only: the forward pass, with no loss, backward or optimizer "
            f"({next(iter(reports.values())).ops} operator calls a step)."
        )
    for r in reports.values():
        reasons += _device_sentences(r)
    if predicted is not None:
        reasons.append(_prediction_sentence(predicted))
    reasons += _verdict_sentences(reports, predicted, verdict)
    for b, device in batch_test["winner"].items():
        at = {p["device"]: p for p in batch_test["points"] if str(p["batch"]) == b}
        per = ", ".join(
            f"{d} {format_step(p['per_sample_s'])}{' (predicted)' if p['predicted'] else ''}"
            for d, p in at.items()
        )
        reasons.append(f"At batch {int(b):,}, {device} is faster; time per sample: {per}.")
    by_device: dict[str, list[dict]] = {}
    for p in batch_test["points"]:
        by_device.setdefault(p["device"], []).append(p)
    for device, points in by_device.items():
        if points[-1]["batch"] != points[0]["batch"]:
            reasons.append(_batch_sentence(device, points[0], points[-1]))
    return reasons


def _device_sentences(r: Any) -> list[str]:
    """What was measured on one device, and what its prediction said beside it."""
    p, t = r.predicted, r.predicted.terms
    terms = (
        f"operators {format_step(t.host_s)}, syncs {format_step(t.sync_s)}, memory {format_step(t.memory_s)}, "
        f"compute {format_step(t.compute_s)}"
    )
    sentences = [
        f"Measured on {r.device}: {format_step(r.step_s)} a step (IQR {format_step(r.step_iqr_s)}), "
        f"{r.ops} operator calls, {r.flops / 1e9:.3g} GFLOP, {r.bytes_moved / 1e6:.3g} MB "
        "moved at least.",
        f"Predicted for {r.device} from its calibration, without timing the step: "
        f"{format_step(p.step_s)} ({r.predicted_over_measured:.2f}x the measured step; {terms}),"
        f" so {r.device} is {r.bound}.",
    ]
    if r.busy_share is not None:
        sentences.append(f"The GPU was busy {r.busy_share:.0%} of the step.")
    return sentences


def _prediction_sentence(p: Any) -> str:
    """The GPU that is not here, predicted, with where its figures come from."""
    overlap = "overlapping" if p.host_s and p.device_s else "and"
    return (
        f"Predicted, not measured, for the {p.device} ({p.source}): the host issues "
        f"{p.ops} operator calls in {format_step(p.host_s)}, {overlap} {format_step(p.device_s)} of device "
        f"time, plus {format_step(p.sync_s)} of sync: about {format_step(p.step_s)} a step "
        f"({format_step(p.low_s)} to {format_step(p.high_s)}), {p.bound}. Assumed: "
        + "; ".join(p.assumptions or ("nothing beyond the record",))
        + "."
    )


def _verdict_sentences(reports: dict[str, Any], predicted: Any, verdict: str) -> list[str]:
    cpu = reports.get("cpu")
    gpu_here = next((r.step_s for n, r in reports.items() if is_gpu(n)), None)
    if cpu is None or (gpu_here is None and predicted is None):
        return []  # nothing to compare
    if gpu_here is not None:
        other, other_name = gpu_here, "the GPU here"
    else:
        other, other_name = predicted.step_s, f"the {predicted.device} (predicted)"
    head = {"cpu": "Stay on the CPU", "gpu": "Use the GPU", "either": "Either device will do"}
    sentence = (
        f"{head[verdict]}: {other_name} takes {format_step(other)} a step, "
        f"{other / cpu.step_s:.2g}x the CPU's {format_step(cpu.step_s)}"
    )
    if verdict == "either" and gpu_here is None:
        sentence += ", and the prediction's range covers both devices, so the numbers do not decide"
    return [sentence + "."]


def _batch_sentence(device: str, first: dict[str, Any], last: dict[str, Any]) -> str:
    """What ``last["batch"] / first["batch"]`` times the batch did to the time per sample.

    A step that took no longer at the larger batch is reported as such (pure overhead), never as
    a time per sample below the pure-overhead ratio, which the same work cannot reach.
    """
    scale = last["batch"] / first["batch"]
    how = "predicted" if first["predicted"] else "measured"
    growth = last["step_s"] / first["step_s"]
    if growth <= 1.0:
        noise = "" if first["predicted"] else ", within noise"
        return (
            f"On {device}, {scale:g}x the batch took no longer a step ({growth:.2f}x the time, "
            f"{how}{noise}): pure overhead, so the time per sample fell to {1 / scale:.2g}x."
        )
    return (
        f"On {device}, {scale:g}x the batch makes the time per sample "
        f"{last['per_sample_s'] / first['per_sample_s']:.2f}x ({how}): {1 / scale:.2g}x would "
        "be pure overhead, 1x pure work."
    )
