"""The advice in sentences: each reason states the number it rests on."""

from __future__ import annotations

from typing import Any

__all__ = ["format_step", "reasons_for"]


def format_step(seconds: float) -> str:
    """Seconds per step in ms or us, as the reasons print them."""
    if seconds >= 1e-3:
        return f"{seconds * 1e3:,.2f} ms"
    return f"{seconds * 1e6:,.1f} us"


_us = format_step


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
        t = r.terms
        known = {k: v for k, v in t.to_dict().items() if v is not None}
        largest = max(known, key=known.__getitem__)
        reasons.append(
            f"Measured on {r.device}: {_us(r.step_s)} a step (IQR {_us(r.step_iqr_s)}), "
            f"{r.ops} operator calls, {r.flops / 1e9:.3g} GFLOP, {r.bytes_moved / 1e6:.3g} MB "
            f"moved at least."
        )
        reasons.append(
            f"{r.device} is {r.bound}: its largest term is {_us(known[largest])} "
            f"(operators {_us(t.host_s)}, syncs {_us(t.sync_s)}, memory {_us(t.memory_s)}, "
            f"compute {_us(t.compute_s)}), {sum(known.values()) / r.step_s:.0%} of the "
            "measured step."
        )
        if r.busy_share is not None:
            reasons.append(f"The GPU was busy {r.busy_share:.0%} of the step.")
    if predicted is not None:
        p = predicted
        rates = (
            "its measured ceilings"
            if p.device_term == "ceilings"
            else f"the best rates its recorded sweep achieved ({p.peak_flops_per_s / 1e12:.2g} "
            f"TFLOP/s, {p.peak_bytes_per_s / 1e9:.3g} GB/s; no ceilings were recorded, so "
            "this device time is pessimistic)"
        )
        reasons.append(
            f"Predicted, not measured, for the {p.device_name}: {p.ops} operator calls at "
            f"{_us(p.per_op_s)} each (the record's course step, {_us(p.anchor['step_s'])} over "
            f"{p.anchor['ops']} operators) give {_us(p.host_s)} of host time; the device needs "
            f"{_us(p.device_s)} at {rates}; so about {_us(p.step_s)} a step "
            f"({_us(p.low_s)} to {_us(p.high_s)}). Its launch floor alone, at the record's "
            f"{_us(p.floor_per_op_s)} per tiny operator, is {_us(p.floor_s)}."
        )
    cpu = reports.get("cpu")
    other = next((r.step_s for n, r in reports.items() if n.startswith("cuda")), None)
    other_name = (
        "the GPU here"
        if other is not None
        else (f"the recorded {predicted.device_name}" if predicted else None)
    )
    if other is None and predicted is not None:
        other = predicted.step_s
    if cpu is not None and other is not None:
        ratio = other / cpu.step_s
        head = {"cpu": "Stay on the CPU", "gpu": "Use the GPU", "either": "Either device will do"}[
            verdict
        ]
        reasons.append(
            f"{head}: {other_name} takes {_us(other)} a step, {ratio:.2g}x the "
            f"CPU's {_us(cpu.step_s)}."
        )
    for b, device in batch_test["winner"].items():
        at = {p["device"]: p for p in batch_test["points"] if str(p["batch"]) == b}
        per = ", ".join(
            f"{d} {_us(p['per_sample_s'])}{' (predicted)' if p['predicted'] else ''}"
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


def _batch_sentence(device: str, first: dict[str, Any], last: dict[str, Any]) -> str:
    """What ``last["batch"] / first["batch"]`` times the batch did to the time per sample.

    Both points time the same full step the same way, so a step that took no longer at the
    larger batch is reported as such (pure overhead, within noise), never as a time per sample
    below the pure-overhead ratio, which the same work cannot reach.
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
