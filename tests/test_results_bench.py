"""Recorded results: schema, validation, atomic save, the shipped records; bench and its CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from devicelab.bench import SECTIONS, run_bench, summary_table
from devicelab.results import (
    ResultsError,
    find_results,
    load_results,
    provenance,
    recorded_results,
    recorded_results_dir,
    results_schema,
    save_results,
    validate_results,
)


@pytest.fixture(scope="module")
def record():
    return run_bench("cpu", quick=True, sections=("sync", "launch"), command="pytest")


def test_bench_record_is_valid_and_has_provenance(record):
    assert validate_results(record) is record
    assert record["schema_version"] == 3 and record["device"] == "cpu"
    assert record["command"] == "pytest" and record["quick"] is True
    assert record["hardware"]["cpu"]["generation"]
    assert record["software"]["torch"]
    assert set(record["measurements"]) == {"sync", "launch", "noise"}


def test_round_trip(tmp_path, record):
    path = save_results(record, tmp_path / "sub" / "cpu.json")
    assert load_results(path) == record
    assert find_results(tmp_path / "sub")[0]["_path"] == str(path)


def test_corrupt_json_is_rejected_with_the_path(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "devicelab.results", ')
    with pytest.raises(ResultsError, match=r"bad\.json: corrupt results file, not valid JSON"):
        load_results(bad)


def test_missing_file(tmp_path):
    with pytest.raises(ResultsError, match="cannot read"):
        load_results(tmp_path / "nope.json")


def test_not_a_results_file(tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ResultsError, match="not a devicelab results file"):
        load_results(other)


def test_future_version_is_rejected(record):
    future = copy.deepcopy(record) | {"schema_version": 4}
    with pytest.raises(ResultsError, match="version 3.*Upgrade devicelab"):
        validate_results(future)


@pytest.mark.parametrize("version", [0, "2", True, None])
def test_unknown_version_is_rejected(record, version):
    with pytest.raises(ResultsError, match="invalid at schema_version"):
        validate_results(copy.deepcopy(record) | {"schema_version": version})


def test_version_1_files_are_still_read():
    """The recorded H100 run predates v2: it validates against the v1 schema, not v2's."""
    v1 = [r for r in recorded_results("cuda") if r["schema_version"] == 1]
    assert v1, "the shipped H100 record is a v1 file"
    old = {k: v for k, v in v1[0].items() if k != "_path"}
    assert validate_results(old) is old
    assert "other_s" in old["measurements"]["breakdown"]  # v1's breakdown shape
    with pytest.raises(ResultsError, match="measurements/breakdown"):
        validate_results(copy.deepcopy(old) | {"schema_version": 2})


def test_version_2_breakdown_is_the_measured_parts(record):
    step = {"device": "cpu", "parts": {"forward": 1e-5, "sync": 0.0}, "measured_s": 2e-5,
            "measured_iqr_s": 1e-6, "ops": 12, "kernels": None, "device_busy_s": None,
            "floor_s": None, "residual_s": 1e-5, "residual_share": 0.5, "idle_share": None,
            "rounds": 3, "steps_per_block": 5, "parts_sum_s": 1e-5}  # fmt: skip
    good = copy.deepcopy(record)
    good["measurements"]["breakdown"] = {"runs": [step]}
    assert validate_results(good) is good
    bad = copy.deepcopy(good)
    bad["measurements"]["breakdown"]["runs"][0]["parts"]["other"] = 1e-6
    with pytest.raises(ResultsError, match="measurements/breakdown/runs/0/parts"):
        validate_results(bad)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [(lambda r: r.pop("created"), r"\(top level\)"),
     (lambda r: r["software"].pop("torch"), "software"),
     (lambda r: r["measurements"]["sync"].pop("median_s"), "measurements/sync"),
     (lambda r: r.update(quick="yes"), "quick")],
)  # fmt: skip
def test_malformed_records_name_the_field(record, mutate, where):
    broken = copy.deepcopy(record)
    mutate(broken)
    with pytest.raises(ResultsError, match=f"invalid at {where}"):
        validate_results(broken)


def test_save_writes_nothing_for_an_invalid_record(tmp_path, record):
    broken = copy.deepcopy(record)
    broken.pop("hardware")
    with pytest.raises(ResultsError):
        save_results(broken, tmp_path / "out.json")
    assert list(tmp_path.iterdir()) == []


def test_find_results_refuses_a_corrupt_file_in_the_folder(tmp_path, record):
    save_results(record, tmp_path / "good.json")
    (tmp_path / "broken.json").write_text("[")
    with pytest.raises(ResultsError, match="broken.json"):
        find_results(tmp_path)


def test_schema_is_a_json_schema():
    schema = results_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert "measurements" in schema["required"]


def test_shipped_gpu_records_are_valid_and_labelled():
    assert recorded_results_dir().name in ("results", "recorded")
    records = recorded_results("cuda")
    assert records, "the repository ships at least one recorded GPU run"
    for r in records:
        assert r["quick"] is False
        assert r["hardware"]["gpus"], "a GPU record names its GPU"
        line = provenance(r)
        assert r["device_name"] in line and r["created"][:10] in line and r["command"] in line
    assert recorded_results("mps") == []


def test_bench_rejects_unknown_sections_and_devices():
    with pytest.raises(ValueError, match="unknown: nope"):
        run_bench("cpu", sections=("nope",))
    with pytest.raises(ValueError, match="non-empty"):
        run_bench("cpu", sections=())
    with pytest.raises(ValueError, match="valid forms"):
        run_bench("gpu")


def test_summary_table_mentions_what_was_measured(record):
    text = summary_table(record)
    assert "One scalar .item()" in text and "operator calls" in text


@pytest.mark.slow
def test_bench_quick_cli_writes_a_valid_file(tmp_path):
    out = tmp_path / "quick.json"
    run = subprocess.run([sys.executable, "-m", "devicelab", "bench", "--quick", "--device", "cpu",
                          "--out", str(out)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "[bench] training" in run.stderr  # progress
    assert "Remedies" in run.stdout and f"wrote {out}" in run.stdout
    saved = load_results(out)
    assert set(saved["measurements"]) == {*SECTIONS, "noise"}
    assert saved["schema_version"] == 3
    (cpu_step,) = saved["measurements"]["breakdown"]["runs"]
    assert cpu_step["floor_s"] < cpu_step["measured_s"]  # the numba floor is under the step
    assert set(saved["measurements"]["roofline"]["ceilings"]) == {"cpu"}
    assert {"width", "batch", "deep"} <= set(saved["measurements"]["utilization"]["sweeps"]["cpu"])
    assert saved["command"].startswith("python -m devicelab bench --quick")


@pytest.mark.slow
def test_bench_cli_bad_device_is_a_clear_error():
    run = subprocess.run([sys.executable, "-m", "devicelab", "bench", "--device", "tpu"],
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 2
    assert "error: unknown device 'tpu'" in run.stderr


def test_validate_cli_accepts_the_shipped_records_and_names_a_broken_one(tmp_path):
    shipped = sorted(str(p) for p in recorded_results_dir().glob("*.json"))
    ok = subprocess.run([sys.executable, "-m", "devicelab", "validate", *shipped],
                        capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("ok  ") == len(shipped)
    broken = tmp_path / "mine.json"
    broken.write_text(json.dumps({"schema": "devicelab.results", "schema_version": 2}))
    bad = subprocess.run([sys.executable, "-m", "devicelab", "validate", str(broken)],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2
    assert "mine.json: invalid at (top level)" in bad.stderr


def test_the_mixed_device_section_says_why_a_cpu_run_has_no_error():
    record = run_bench("cpu", quick=True, sections=("mixed_device",))
    section = record["measurements"]["mixed_device"]
    assert section["error"] is None and "no GPU" in section["why"]


def test_the_mixed_device_section_keeps_the_error_torch_raised(monkeypatch):
    # A real GPU raises on the first layer; stand in for it with an nn.Linear that raises the
    # CUDA message, and check the record keeps it verbatim and still validates.
    import torch

    message = "Expected all tensors to be on the same device, but got mat1 is on cpu"

    def refuse(self, inputs):
        raise RuntimeError(message)

    monkeypatch.setattr(torch.nn.Linear, "forward", refuse)
    monkeypatch.setattr(torch.nn.Linear, "to", lambda self, device: self)
    from devicelab import bench

    run = bench._Run.__new__(bench._Run)
    object.__setattr__(run, "device", torch.device("meta"))
    assert bench.SECTION_RUNNERS["mixed_device"](run) == {
        "error": f"RuntimeError: {message}",
        "why": "nn.Linear on the GPU, input on the CPU",
    }
