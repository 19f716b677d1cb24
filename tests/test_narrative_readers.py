"""The readers the narrative pages use instead of indexing a record's JSON, and the landing
figure's bar for a step recorded whole (issue 24: the GPU half, honestly)."""

import copy

import matplotlib
import pytest

from devicelab.explain import plot_breakdowns
from devicelab.results import ResultsError, newest_record, recorded_overheads, recorded_sweep

matplotlib.use("agg")


@pytest.fixture
def shipped():
    """The newest shipped GPU record (version 1: no breakdown, no roofline ceilings)."""
    record = newest_record("cuda")
    assert record is not None, "the repository ships a recorded GPU run"
    return copy.deepcopy(record)


def _breakdown_run(device: str) -> dict:
    parts = {"forward": 1e-4, "loss": 2e-5, "backward": 2e-4, "optimizer": 5e-5, "sync": 3e-4}
    measured = 7e-4
    return {
        "device": device,
        "parts": parts,
        "measured_s": measured,
        "measured_iqr_s": 1e-5,
        "ops": 27,
        "kernels": 23 if device != "cpu" else None,
        "device_busy_s": 6e-5 if device != "cpu" else None,
        "floor_s": None,
        "residual_s": measured - sum(parts.values()),
        "residual_share": (measured - sum(parts.values())) / measured,
        "idle_share": 1 - 6e-5 / measured if device != "cpu" else None,
    }


def _as_version_3(record: dict) -> dict:
    """The shipped record doctored into the newer shape: a breakdown and measured ceilings."""
    m = record["measurements"]
    device = record["device"]
    record["schema_version"] = 3
    m["breakdown"] = {"runs": [_breakdown_run("cpu"), _breakdown_run(device)]}
    m["roofline"] = {
        "ceilings": {device: {"device": device, "peak_flops_per_s": 4e13,
                              "peak_bytes_per_s": 2e12, "dtype": "float32", "tf32": False}},
    }  # fmt: skip
    m["utilization"]["crossover_width"] = None  # the GPU never overtook within the sweep
    return record


def test_version_1_record_reads_its_overheads_and_infers_the_peak(shipped):
    m = shipped["measurements"]
    step = recorded_overheads(shipped)
    assert (step.device, step.device_name) == (shipped["device"], shipped["device_name"])
    assert step.breakdown is None  # a version-1 record predates the breakdown
    # the peak is read back from the stored compute time, so the compute time round-trips
    assert step.compute_s == pytest.approx(m["breakdown"]["compute_s"])
    assert step.launch_floor_s == pytest.approx(m["launch"]["floor_s"])
    assert step.sync_s == m["sync"]["median_s"]
    assert step.crossover_batch == m["utilization"]["crossover_batch"]


def test_newer_record_reads_the_breakdown_and_the_ceiling(shipped):
    step = recorded_overheads(_as_version_3(shipped))
    assert step.breakdown is not None and step.breakdown["device"] == step.device
    assert step.peak_flops_per_s == 4e13
    assert step.compute_s == pytest.approx(step.course_flops / 4e13)
    assert step.crossover_width is None
    assert step.crossover_batch is not None


def test_missing_sections_are_none_not_errors(shipped):
    m = shipped["measurements"]
    for section in ("sync", "launch", "utilization", "breakdown"):
        del m[section]
    step = recorded_overheads(shipped)
    assert step.sync_s is None and step.launch_floor_s is None and step.compute_s is None
    assert step.crossover_width is None and step.breakdown is None


def test_sweep_is_size_to_seconds_smallest_first(shipped):
    sweep = shipped["measurements"]["utilization"]["sweeps"]
    batch = recorded_sweep(shipped)
    assert list(batch) == sorted(p["batch"] for p in sweep[shipped["device"]]["batch"])
    width = recorded_sweep(shipped, "width", "cpu")
    assert width[10] == next(p["median_s"] for p in sweep["cpu"]["width"] if p["hidden"] == 10)
    with pytest.raises(ResultsError, match="no 'deep' utilisation sweep"):
        recorded_sweep(shipped, "deep")  # a version-1 record has no hidden-to-hidden sweep


def test_whole_step_bar_is_drawn_with_a_key_saying_its_parts_are_missing():
    ax = plot_breakdowns({"CPU": _breakdown_run("cpu"), "GPU": 8.8e-4, "other": None})
    labels = ax.get_legend_handles_labels()[1]
    assert "parts not recorded (whole step only)" in labels
    assert "whole step, timed on its own" in labels
    widths = [p.get_width() for p in ax.patches]
    assert pytest.approx(880) in widths  # the recorded whole step, in microseconds
    assert any(t.get_text() == "not recorded yet" for t in ax.texts)
