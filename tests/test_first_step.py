"""The first step against warm ones: its record, its skips, the fresh processes, the bench."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devicelab import first_step
from devicelab.bench import run_bench, summary_table
from devicelab.first_step import FirstStep, first_batch_s, measure_first_step
from devicelab.results import validate_results
from devicelab.steps import PHASES

CALLS = ["first tensor", "allocator", "matmul", "convolution", "course step"]


@pytest.fixture(scope="module")
def here() -> FirstStep:
    """Measured in this process (already warm: the structure is what is tested here)."""
    return measure_first_step(
        "cpu", steps=12, warmup_steps=2, repeats=2, compile=False, threads=1, fresh=False
    )


def test_the_record_has_every_step_phase_and_first_call(here):
    assert len(here.step_times_s) == 12 and all(t > 0 for t in here.step_times_s)
    assert list(here.first_phases_s) == list(PHASES) == list(here.warm_phases_s)
    assert [c.name for c in here.calls] == CALLS
    assert here.skipped == {"torch.compile": "not requested"}
    assert here.threads == 1 and here.device == "cpu"
    assert all(c.what == first_step.WHAT[c.name]["cpu"] for c in here.calls)


def test_the_headline_of_planted_step_times():
    """A 500 ms first step against warm steps of 9, 10 and 11 ms (after two warm-up steps)."""
    planted = FirstStep(
        device="cpu",
        torch="2.13.0",
        threads=1,
        to_device_s=0.0,
        step_times_s=[0.5, 0.02, 0.011, 0.009, 0.010],
        first_phases_s={},
        warm_phases_s={},
        warmup_steps=2,
        calls=[],
        skipped={},
    )
    assert planted.warm_s == pytest.approx(0.010)
    assert planted.ratio == pytest.approx(50.0)
    assert planted.extra_s == pytest.approx(0.490)


def test_to_dict_round_trips_and_prints_a_table(here):
    data = json.loads(json.dumps(here.to_dict()))
    assert FirstStep.from_dict(data) == here
    assert {"first_s", "second_s", "warm_s", "ratio"} <= set(data)
    table = here.table()
    assert all(name in table for name in CALLS) and "skipped: not requested" in table
    with pytest.raises(KeyError, match="not requested"):
        here.call("torch.compile")


def test_a_missing_compiler_skips_the_compiled_call_with_the_doctors_reason(monkeypatch):
    monkeypatch.setattr(first_step, "compile_unavailable", lambda device: "no compiler: fix it")
    result = measure_first_step("cpu", steps=3, warmup_steps=1, repeats=1, fresh=False)
    assert result.skipped == {"torch.compile": "no compiler: fix it"}
    assert "torch.compile" not in [c.name for c in result.calls]


@pytest.mark.parametrize(
    "kwargs", [{"steps": 2, "warmup_steps": 2}, {"warmup_steps": 0}, {"repeats": 0}]
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="need steps > warmup_steps"):
        measure_first_step("cpu", fresh=False, **kwargs)


def test_a_dataloader_without_workers_returns_its_first_batch():
    assert first_batch_s(0, repeats=1) > 0  # a time, with no bound on it in the fast selection
    with pytest.raises(ValueError):
        first_batch_s(-1)


def test_the_schema_takes_a_first_step_section(here):
    record = {
        "schema": "devicelab.results",
        "schema_version": 3,
        "created": "2026-12-01T00:00:00+00:00",
        "command": "pytest",
        "devicelab_version": "0.1.0",
        "software": {"python": "3.11", "torch": "2.13.0"},
        "hardware": {
            "cpu": {"vendor": "x", "microarchitecture": "x", "generation": "x"},
            "gpus": [],
        },
        "device": "cpu",
        "quick": True,
        "measurements": {"first_step": {"runs": [here.to_dict()]}},
    }
    validate_results(record)
    broken = json.loads(json.dumps(record))
    del broken["measurements"]["first_step"]["runs"][0]["step_times_s"]
    with pytest.raises(ValueError, match="step_times_s"):
        validate_results(broken)


@pytest.mark.slow
def test_in_a_fresh_process_the_first_step_is_the_slow_one():
    result = measure_first_step("cpu", steps=30, compile=False, threads=1)
    assert result.first_s > result.warm_s, result.step_times_s[:5]
    assert result.call("matmul").first_s > result.call("matmul").warm_s


@pytest.mark.slow
def test_the_fresh_process_prints_one_json_line():
    done = subprocess.run(
        [sys.executable, "-m", "devicelab.first_step", "course", "--steps", "3", "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["step_times_s"]) == 3 and data["threads"] == 1


@pytest.mark.slow
def test_bench_records_the_first_step_and_quick_skips_the_compiled_call():
    record = run_bench("cpu", quick=True, sections=("first_step",), command="pytest")
    (run,) = record["measurements"]["first_step"]["runs"]
    assert run["device"] == "cpu" and run["threads"] == 1
    assert "bench --quick" in run["skipped"]["torch.compile"]
    assert "First step on cpu (a fresh process)" in summary_table(record)
