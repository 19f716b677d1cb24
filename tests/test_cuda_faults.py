"""The faults the CUDA stand-in (tests/cuda_standin.py) found, each with the test that failed
before its fix (issue 29), and the two inconsistencies."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from devicelab import bench, calibration, predict
from devicelab.__main__ import main
from devicelab.advise import cli as advise_cli
from devicelab.doctor import checks, findings
from devicelab.results import load_results


@pytest.fixture
def cpu_calibration(monkeypatch):
    """predict's calibration of any device is this CPU's quick one (seconds, once a process):
    these tests are about where things run, not what a GPU costs."""
    real = calibration.calibrate
    asked = []

    def calibrate(device="cpu", *, num_threads=None, quick=False, max_age_s=None):
        asked.append((str(device), num_threads))
        return real("cpu", num_threads=1, quick=True)

    monkeypatch.setattr(predict, "calibrate", calibrate)
    return asked


class _Asked(Exception):
    """Raised by a calibrate that only notes what it was asked for."""


@pytest.fixture
def calibrations_asked(monkeypatch):
    """The calibrations predict asks for, as (device, threads); none is measured."""
    asked = []

    def calibrate(device="cpu", *, num_threads=None, quick=False, max_age_s=None):
        asked.append((str(device), num_threads))
        raise _Asked

    monkeypatch.setattr(predict, "calibrate", calibrate)
    return asked


# -- fault 3: check_prediction moves what it measures to the device it measures on -------------
@pytest.mark.slow  # a real quick CPU calibration: 30 s alone on a busy 2-core machine
def test_check_prediction_on_a_gpu_takes_a_model_on_the_cpu(cuda_standin, cpu_calibration):
    torch.manual_seed(0)
    model, x, y = nn.Linear(4, 3), torch.randn(8, 4), torch.randint(0, 3, (8,))
    check = predict.check_prediction(model, x, targets=y, device="cuda", max_attempts=1)
    assert check.measured_s > 0 and check.predicted.step_s > 0
    assert model.weight.device.type == "cpu" and x.device.type == "cpu"  # the caller's stay


# -- fault 4: the doctor runs a tiny compiled function on the GPU ------------------------------
def _broken_compile(fn=None, **kwargs):
    def compiled(*args, **kw):
        raise RuntimeError("Failed to find C compiler. Please specify via CC environment variable")

    return compiled


def test_triton_without_a_c_compiler_is_not_a_usable_compile(cuda_standin, monkeypatch):
    monkeypatch.setattr(checks, "_triton_version", lambda: "3.5.0")
    monkeypatch.setattr(torch, "compile", _broken_compile)
    checks.gpu_compile_error.cache_clear()
    try:
        with cuda_standin.doctor_compile_check():
            reason = checks.compile_unavailable("cuda")
        problems = findings.tool_findings(
            checks.Compiler("gcc", "/usr/bin/gcc", True, ""),
            {"cuda_available": True, "hip_version": None},
            "3.5.0",
            {"usable_cpus": 2, "torch_threads": 2},
            gpu_compile=checks.gpu_compile_error(),
        )
    finally:
        checks.gpu_compile_error.cache_clear()
    assert reason is not None and "Failed to find C compiler" in reason and "Fix:" in reason
    assert any("torch.compile fails on the GPU" in p.what for p in problems)


def test_a_compiled_function_that_runs_on_the_gpu_is_usable(cuda_standin, monkeypatch):
    monkeypatch.setattr(checks, "_triton_version", lambda: "3.5.0")
    monkeypatch.setattr(torch, "compile", lambda fn=None, **kwargs: fn)
    checks.gpu_compile_error.cache_clear()
    try:
        with cuda_standin.doctor_compile_check():
            assert checks.compile_unavailable("cuda") is None
    finally:
        checks.gpu_compile_error.cache_clear()


# -- fault 5: bench keeps what it measured, marked partial, and every host cost is >= 0 --------
def test_a_negative_backward_call_reading_is_clamped():
    timings = calibration._HostTimings.__new__(calibration._HostTimings)
    timings.ops = {"matmul": (1, 2)}
    timings.least = {
        "backward_base": 1.0e-6,  # less than the sum alone: noise between two least times
        "sum_base": 1.5e-6,
        "forward:matmul": 2e-6,
        "both:matmul": 9e-6,
        "summed:matmul": 3e-6,
        "tiny_op": 1e-6,
        "module_call": 2e-6,
        "update:10": 30e-6,
        "grads:10": 10e-6,
        "update:2": 12e-6,
        "grads:2": 4e-6,
    }
    costs = timings.costs()
    assert all(v >= 0 for v in costs.to_dict().values()), costs
    assert costs.backward_call == 0.0
    # by hand: updating 10 tensors costs 20 µs, 2 tensors 8 µs: 1.5 µs per tensor, 5 µs fixed
    assert costs.optimizer_per_parameter == pytest.approx(1.5e-6)
    assert costs.optimizer_fixed == pytest.approx(5e-6)


def _sync_section(run):
    return {"median_s": 1e-5, "iqr_s": 1e-7}


def _invalid_section(run):
    return {"median_s": 1e-5}  # iqr_s missing: breaks the schema


def _failing_section(run):
    raise RuntimeError("CUDA error: an illegal memory access was encountered")


@pytest.mark.parametrize("second", [_invalid_section, _failing_section])
def test_bench_writes_what_it_has_marked_partial(tmp_path, monkeypatch, capsys, second):
    from devicelab import noise

    reading = noise.NoiseReading(
        label="bench", step_s=1e-3, iqr_s=1e-5, samples=5, steps=10, threads=1, taken_at=0.0
    )
    monkeypatch.setattr(bench, "measure_noise", lambda label: reading)
    runners = {"sync": _sync_section, "launch": second, "transfer": _sync_section}
    monkeypatch.setattr(bench, "SECTION_RUNNERS", runners)
    monkeypatch.setattr(bench, "SECTIONS", tuple(runners))
    out = tmp_path / "gpu.json"
    code = main(["bench", "--device", "cpu", "--out", str(out)])
    assert code != 0
    assert "launch" in capsys.readouterr().err
    record = load_results(out)
    assert record["partial"]["section"] == "launch"
    assert "sync" in record["measurements"] and "launch" not in record["measurements"]
    assert "transfer" not in record["measurements"]  # it stops at the failure


# -- inconsistency: predict_step's live GPU host side is one thread ----------------------------
def test_predict_step_calibrates_a_live_gpu_at_one_thread(cuda_standin, calibrations_asked):
    model, x, y = nn.Linear(4, 3), torch.randn(8, 4), torch.randint(0, 3, (8,))
    with pytest.raises(_Asked):
        predict.predict_step(model, x, targets=y, device="cuda")
    assert calibrations_asked == [("cuda:0", 1)]


# -- inconsistency: advise's --gpu and --record with a GPU present -----------------------------
def test_advise_help_says_gpu_and_record_are_ignored_with_a_gpu(capsys):
    with pytest.raises(SystemExit):
        main(["advise", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert text.count("ignored when a CUDA GPU is present") == 2


def test_advise_says_so_when_it_ignores_gpu(cuda_standin, monkeypatch, capsys):
    monkeypatch.setattr(advise_cli, "advise", lambda *args, **kwargs: "advice")
    advise_cli.advise_command("devicelab.zoo:lenet5", ["2,1,28,28"], gpu="H100 SXM")
    assert "--gpu is ignored" in capsys.readouterr().err


@pytest.mark.slow
def test_the_stand_in_reaches_a_child_process(cuda_standin):
    code = "import torch; print(torch.cuda.is_available(), torch.ones(1, device='cuda').device)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "cuda:0"], done.stderr
