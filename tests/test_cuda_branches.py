"""The CUDA-only branches of devicelab, taken on the CUDA stand-in (tests/cuda_standin.py).

The stand-in keeps every tensor on the CPU, so these tests check that each GPU branch runs to
the end and returns what its callers expect, never what a GPU costs.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from devicelab import devices, hardware, overheads, profiling, roofline, training
from devicelab.results import load_results

ROOT = Path(__file__).resolve().parents[1]


# -- the stand-in itself ---------------------------------------------------------------------
def test_the_stand_in_reports_one_gpu_and_keeps_its_tensors_on_the_cpu(cuda_standin):
    assert torch.cuda.is_available() and torch.cuda.device_count() == 1
    x = torch.ones(3, device="cuda")
    host = torch.ones(3)
    moved = host.to("cuda")
    assert x.device == torch.device("cuda", 0) and x.is_cuda and (x + 1).is_cuda
    assert host.device.type == "cpu" and moved is not host and moved.device.type == "cuda"
    model = nn.Linear(3, 2).to("cuda")
    assert model.weight.device.type == "cuda" and model(x).device.type == "cuda"
    assert copy.deepcopy(model).weight.device.type == "cuda"
    assert moved.cpu().device.type == "cpu" and torch.ones(2).pin_memory().is_pinned()
    with pytest.raises(TypeError, match="numpy"):
        x.numpy()


def test_a_stand_in_cuda_graph_replays_what_it_captured(cuda_standin):
    w = torch.zeros(2, device="cuda")
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        w.add_(1.0)
        doubled = w * 2
    assert w.tolist() == [0.0, 0.0]  # nothing runs during a capture
    graph.replay()
    graph.replay()
    assert w.tolist() == [2.0, 2.0] and doubled.tolist() == [4.0, 4.0]


def test_stand_in_events_time_on_the_host_clock(cuda_standin):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    end.record()
    torch.cuda.synchronize()
    assert start.elapsed_time(end) >= 0


def test_uninstall_restores_torch(cuda_standin):
    x = torch.ones(1, device="cuda")
    cuda_standin.uninstall()
    assert not torch.cuda.is_available() and x.device.type == "cpu"
    cuda_standin.install()


# -- the package's GPU branches ----------------------------------------------------------------
def test_devices_and_hardware_see_the_gpu(cuda_standin):
    assert devices.resolve_device("auto") == torch.device("cuda", 0)
    assert "cuda:0" in devices.available_devices()
    devices.synchronize(torch.device("cuda", 0))
    gpu = hardware.gpu_info()[0]
    assert gpu.name == cuda_standin.DEVICE_NAME and gpu.compute_capability == (9, 0)
    with pytest.raises(devices.DeviceNotAvailableError):
        devices.resolve_device("cuda:1")


@pytest.mark.slow  # 9-14 s alone on a busy 2-core machine
def test_live_gpu_training_runs_the_course_loop(cuda_standin):
    result = training.course_run("cuda", epochs=20)
    assert result.device == "cuda:0" and result.epochs == 20 and result.final_loss > 0


def test_transfer_sweep_on_a_gpu_times_both_directions_and_both_memories(cuda_standin):
    points = overheads.transfer_sweep((4, 4096), "cuda", min_run_time=0.001)
    kinds = {(p.direction, p.memory) for p in points}
    assert kinds == {
        (d, m) for d in ("host->device", "device->host") for m in ("pageable", "pinned")
    }


@pytest.mark.slow  # 9-14 s alone on a busy 2-core machine
def test_profiling_a_gpu_step_counts_kernels(cuda_standin):
    x = torch.ones(4, device="cuda")
    profile = profiling.profile_steps(lambda: (x * 2).sum().item(), torch.device("cuda"), steps=1)
    assert profile.kernels == 0 and profile.device_busy_s == 0  # no kernel events on a CPU
    ops = overheads.count_step_ops(torch.device("cuda", 0))
    assert ops.kernels == 0 and ops.operator_calls > 0


def test_gpu_ceilings_say_whether_tf32_was_on(cuda_standin):
    ceilings = roofline.measure_ceilings("cuda", matmul_n=64, copy_bytes=2**16, min_run_time=0.001)
    assert ceilings.device == "cuda:0" and ceilings.tf32 == roofline.tf32_enabled()
    assert ceilings.peak_flops_per_s > 0


@pytest.mark.slow
def test_the_cuda_graph_remedy_matches_the_course_loop(cuda_standin):
    from devicelab.data import load_iris
    from devicelab.models import initial_weights
    from devicelab.remedies import compare_remedies

    result = compare_remedies(load_iris(), initial_weights(), device="cuda", rounds=2)
    names = list(result.models) + list(result.skipped)
    assert any("CUDA graph" in n for n in result.models), names  # it ran, not skipped
    assert any("torch.compile" in n for n in names), names


@pytest.mark.slow
def test_gpu_calibration_and_predict_step_on_the_gpu(cuda_standin):
    from devicelab.calibration import calibrate
    from devicelab.predict import predict_step

    cal = calibrate("cuda", num_threads=1, quick=True, max_age_s=0)
    assert cal.overlap and cal.device == "cuda:0" and min(cal.host.to_dict().values()) >= 0
    model, x, y = nn.Linear(4, 3), torch.randn(8, 4), torch.randint(0, 3, (8,))
    assert predict_step(model, x, targets=y, device="cuda").step_s > 0


@pytest.mark.slow
def test_the_first_step_on_a_gpu(cuda_standin):
    from devicelab.first_step import measure_first_step

    result = measure_first_step("cuda", compile=False).to_dict()
    assert result["device"] == "cuda:0" and result["first_s"] > 0


@pytest.mark.slow
def test_advise_with_a_gpu_measures_it(cuda_standin):
    from devicelab.advise import advise

    model, x, y = nn.Linear(16, 4), torch.randn(32, 16), torch.randint(0, 4, (32,))
    advice = advise(model, x, targets=y, devices=["cpu", "cuda"])
    assert any(name.startswith("cuda") for name in advice.devices)


@pytest.mark.slow
def test_bench_on_a_gpu_writes_a_valid_v3_record_and_advise_check_fills_it(tmp_path, cuda_standin):
    import cuda_standin as standin

    out = tmp_path / "gpu.json"
    env = standin.site_env()
    # The sections whose CUDA branches no other stand-in test takes (training, the sweeps and the
    # remedies are covered above and by test_cuda_pages's record; all of them together take
    # more than ten minutes of CPU under the stand-in).
    sections = ["sync", "transfer", "launch", "roofline", "breakdown", "calibration", "first_step"]
    command = [sys.executable, "-m", "devicelab", "bench", "--device", "cuda", "--quick"]
    done = subprocess.run(
        [*command, "--only", *sections, "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = load_results(out)
    assert record["schema_version"] == 3 and record["device"] == "cuda:0"
    assert record["device_name"] == standin.DEVICE_NAME and "partial" not in record
    m = record["measurements"]
    assert {"breakdown", "roofline", "calibration", "first_step"} <= set(m)
    assert "cuda:0" in m["roofline"]["ceilings"] and "cuda:0" in m["calibration"]
    check = subprocess.run(
        [sys.executable, "results/advise_check.py", str(out), "--quick", "--models", "iris_mlp"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert check.returncode == 0, check.stderr[-3000:]
    models = load_results(out)["measurements"]["advice"]["models"]
    assert models and all(entry["measured_step_s"] for entry in models)
