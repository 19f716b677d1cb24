"""The named readers of a recorded results file: what the pages quote, from a record of any version."""

from __future__ import annotations

import copy

import pytest

from devicelab.overheads import recorded_utilization_sweep, sweep_step_operators
from devicelab.results import (
    ResultsError,
    load_results,
    recorded_ceilings,
    recorded_course_runs,
    recorded_remedy_epoch_times,
    recorded_results_dir,
    recorded_sync_sweep,
    recorded_transfer,
)
from devicelab.roofline import Ceilings

H100 = recorded_results_dir() / "nvidia-h100-80gb-hbm3.json"


@pytest.fixture(scope="module")
def h100() -> dict:
    return load_results(H100)


def test_course_runs_read_the_device_and_its_host(h100):
    runs = recorded_course_runs(h100)
    assert runs.device_name == h100["device_name"]
    assert runs.device.device == h100["device"] and runs.host is not None
    assert runs.host.device == "cpu" and runs.device.epochs == runs.host.epochs == 20_000
    assert runs.device_over_host == pytest.approx(runs.device.wall_s / runs.host.wall_s)
    assert abs(runs.device.final_loss - runs.host.final_loss) < 1e-3


def test_course_runs_without_a_device_run_is_an_error(h100):
    record = copy.deepcopy(h100)
    record["measurements"]["training"]["runs"] = [
        r for r in record["measurements"]["training"]["runs"] if r["device"] == "cpu"
    ]
    with pytest.raises(ResultsError, match="no run of the course's loop"):
        recorded_course_runs(record)


def test_sync_sweep_of_separate_runs_is_ordered_and_unpaired(h100):
    sweep = recorded_sync_sweep(h100)
    assert sweep.syncs_per_1000 == [1_000, 100, 10, 1, 0]
    assert sweep.record_every == [1, 10, 100, 1_000, None]
    assert not sweep.paired and sweep.cost_per_sync_s is None
    assert all(
        lo <= mid <= hi
        for lo, mid, hi in zip(sweep.low_s, sweep.epoch_s, sweep.high_s, strict=True)
    )


def test_sync_sweep_in_paired_rounds_skips_extras_and_keeps_the_slope(h100):
    record = copy.deepcopy(h100)

    def interval(mid: float) -> dict[str, float]:
        return {"estimate": mid, "low": mid * 0.9, "high": mid * 1.1}

    record["measurements"]["record_frequency"] = {
        "sweep": {
            "block_epochs": 1_000,
            "cost_per_sync_s": interval(2e-6),
            "variants": [
                {
                    "name": "end only",
                    "record_every": None,
                    "syncs_per_block": 0,
                    "epoch_time_s": interval(1e-4),
                },
                {
                    "name": "every 1",
                    "record_every": 1,
                    "syncs_per_block": 1_000,
                    "epoch_time_s": interval(3e-4),
                },
                {
                    "name": "loss log",
                    "record_every": None,
                    "syncs_per_block": None,
                    "epoch_time_s": interval(2e-4),
                },
            ],
        }
    }
    sweep = recorded_sync_sweep(record)
    assert sweep.paired and sweep.syncs_per_1000 == [1_000, 0]
    assert sweep.epoch_s == [3e-4, 1e-4]
    assert sweep.cost_per_sync_s == pytest.approx((2e-6, 1.8e-6, 2.2e-6))


def test_remedy_times_read_both_versions(h100):
    old = recorded_remedy_epoch_times(h100)
    assert old["loss log kept on device"] > 0 and "no per-epoch sync" in old
    record = copy.deepcopy(h100)
    record["measurements"]["remedies"] = {
        "variants": [
            {
                "name": "course loop",
                "final_loss": 0.06,
                "speedup": {},
                "epoch_time_per_model_s": {"estimate": 5e-4, "low": 4e-4, "high": 6e-4},
            }
        ]
    }
    assert recorded_remedy_epoch_times(record) == {"course loop": 5e-4}


def test_missing_sections_are_errors_that_say_what_to_run(h100):
    record = copy.deepcopy(h100)
    del record["measurements"]["record_frequency"], record["measurements"]["remedies"]
    with pytest.raises(ResultsError, match="record_frequency"):
        recorded_sync_sweep(record)
    with pytest.raises(ResultsError, match="remedies"):
        recorded_remedy_epoch_times(record)


def test_transfer_reads_the_points_and_the_link(h100):
    points, generation, width = recorded_transfer(h100)
    assert len(points) == len(h100["measurements"]["transfer"]["points"]) > 0
    assert {p["memory"] for p in points} == {"pageable", "pinned"}
    gpu = h100["hardware"]["gpus"][0]
    assert (generation, width) == (gpu["pcie_max_generation"], gpu["pcie_max_width"])


def test_transfer_without_a_sweep_or_a_gpu_report(h100):
    record = copy.deepcopy(h100)
    record["hardware"]["gpus"] = []
    assert recorded_transfer(record)[1:] == (None, None)
    del record["measurements"]["transfer"]
    assert recorded_transfer(record) is None


def test_ceilings_are_the_record_devices_and_rebuild(h100):
    assert recorded_ceilings(h100) is None  # version 1 predates the roofline section
    record = copy.deepcopy(h100)
    mine = Ceilings(device="cuda:0", peak_flops_per_s=5e13, peak_bytes_per_s=2e12, tf32=True)
    host = Ceilings(device="cpu", peak_flops_per_s=1e11, peak_bytes_per_s=1e10)
    record["measurements"]["roofline"] = {
        "ceilings": {record["device"]: mine.to_dict(), "cpu": host.to_dict()}
    }
    assert Ceilings.from_dict(recorded_ceilings(record)) == mine


def test_recorded_utilization_sweep_counts_like_a_live_sweep(h100):
    points = recorded_utilization_sweep(h100, "width")
    stored = h100["measurements"]["utilization"]["sweeps"][h100["device"]]["width"]
    assert [p.hidden for p in points] == sorted(p["hidden"] for p in stored)
    assert all(p.device == h100["device"] and p.model == "MLP" for p in points)
    first = points[0]
    counts = sweep_step_operators(first.hidden, first.batch)
    assert (first.flops, first.bytes_moved) == (counts.flops, counts.least_bytes)
    host = recorded_utilization_sweep(h100, "batch", "cpu")
    assert host and all(p.device == "cpu" and p.hidden == 10 for p in host)
    assert recorded_utilization_sweep(h100, "deep") == []  # a version 1 record has none


def test_the_mixed_device_error_is_read_verbatim_or_none():
    from devicelab.results import recorded_mixed_device_error

    message = "RuntimeError: Expected all tensors to be on the same device, but got mat1 is on cpu"
    record = {"measurements": {"mixed_device": {"error": message, "why": "nn.Linear"}}}
    assert recorded_mixed_device_error(record) == message
    assert recorded_mixed_device_error({"measurements": {}}) is None
    no_gpu = {"measurements": {"mixed_device": {"error": None, "why": "no GPU"}}}
    assert recorded_mixed_device_error(no_gpu) is None
