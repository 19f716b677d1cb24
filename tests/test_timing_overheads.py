"""The timing layer, the three overheads, the breakdown and the remedies, on the CPU."""

from __future__ import annotations

import time

import pytest
import torch
import torch.utils.benchmark as benchmark

from devicelab.data import load_iris
from devicelab.devices import DeviceNotAvailableError
from devicelab.models import initial_weights
from devicelab.overheads import (
    count_step_ops,
    launch_cost,
    pcie_bandwidth_gb_s,
    sync_cost,
    transfer_sweep,
    utilization_sweep,
)
from devicelab.remedies import REMEDIES, remedy, train_remedy
from devicelab.roofline import crossover
from devicelab.stats import median_iqr
from devicelab.timing import measure


# -- timing --------------------------------------------------------------------------------------
@pytest.mark.slow  # wall-clock: a sleep's length
def test_measure_reports_median_spread_and_samples():
    t = measure(lambda: time.sleep(0.002), label="sleep", min_run_time=0.05, warmup=1)
    # a sleep lasts at least what was asked; a loaded machine may stretch it, so the upper
    # bound only catches a wrong unit or a per-block (not per-call) time
    assert 0.002 <= t.median_s < 0.05
    assert t.iqr_s >= 0 and t.samples >= 2 and t.calls_per_sample >= 1
    # blocked_autorange times until min_run_time is spent: the samples cover at least that
    assert t.samples * t.calls_per_sample * t.median_s >= 0.05 * 0.5
    assert t.label == "sleep" and t.threads == torch.get_num_threads()
    assert "sleep" in str(t)


@pytest.mark.parametrize("warmup", [0, 3])
def test_measure_warms_up_before_timing(monkeypatch, warmup):
    calls = []
    before_timer = []
    autorange = benchmark.Timer.blocked_autorange

    def counting_autorange(self, *args, **kwargs):
        before_timer.append(len(calls))  # calls made before the first timed one
        return autorange(self, *args, **kwargs)

    monkeypatch.setattr(benchmark.Timer, "blocked_autorange", counting_autorange)
    measure(lambda: calls.append(1), warmup=warmup, min_run_time=0.01)
    assert before_timer == [warmup]  # exactly `warmup` untimed calls, then one timed run
    assert len(calls) > warmup


def test_measure_uses_the_requested_threads():
    seen = []
    measure(
        lambda: seen.append(torch.get_num_threads()), num_threads=1, min_run_time=0.01, warmup=0
    )
    assert set(seen) == {1}


@pytest.mark.parametrize(("kwargs", "match"), [({"min_run_time": 0}, "min_run_time"),
                                               ({"warmup": -1}, "warmup")])  # fmt: skip
def test_measure_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        measure(lambda: None, **kwargs)


def test_median_iqr():
    assert median_iqr([5.0]) == (5.0, 0.0)
    assert median_iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == (3.0, 2.0)
    with pytest.raises(ValueError, match="no samples"):
        median_iqr([])


# -- transfer and sync ---------------------------------------------------------------------------
def test_transfer_sweep_on_cpu_is_a_host_copy():
    points = transfer_sweep([4, 4096, 1 << 20], "cpu", min_run_time=0.01)
    assert [p.size_bytes for p in points] == [4, 4096, 1 << 20]
    assert {(p.direction, p.memory) for p in points} == {("host->host", "pageable")}
    assert all(p.median_s > 0 and p.bandwidth_gb_s > 0 for p in points)
    assert points[-1].to_dict()["bandwidth_gb_s"] == pytest.approx(points[-1].bandwidth_gb_s)


@pytest.mark.parametrize(("sizes", "match"), [([], "empty"), ([4, -8], "positive"),
                                              ([0], "positive"), ([1.5], "positive")])  # fmt: skip
def test_transfer_sweep_bad_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        transfer_sweep(sizes, "cpu")


def test_transfer_sweep_unknown_or_missing_device(monkeypatch):
    with pytest.raises(ValueError, match="valid forms"):
        transfer_sweep([4], "gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceNotAvailableError):
        transfer_sweep([4], "cuda")


@pytest.mark.slow  # wall-clock
def test_sync_cost_on_cpu_is_sub_microsecond_scale():
    t = sync_cost("cpu", min_run_time=0.02)
    assert 0 < t.median_s < 1e-4


def test_pcie_bandwidth():
    assert pcie_bandwidth_gb_s(5, 16) == pytest.approx(63.0, rel=0.01)
    assert pcie_bandwidth_gb_s(3, 16) == pytest.approx(15.76, rel=0.01)
    with pytest.raises(ValueError, match="generation"):
        pcie_bandwidth_gb_s(9, 16)
    with pytest.raises(ValueError, match="width"):
        pcie_bandwidth_gb_s(4, 0)


# -- launch --------------------------------------------------------------------------------------
@pytest.mark.slow  # wall-clock
def test_launch_cost_on_cpu():
    cost = launch_cost("cpu", min_run_time=0.02)
    assert 0 < cost.queued.median_s < 1e-3
    assert cost.to_dict()["device"] == "cpu"


def test_profiler_counts_one_course_step_on_cpu():
    ops = count_step_ops("cpu")
    assert ops.kernels == 0  # no GPU kernels on the CPU
    assert ops.operators["aten::linear"] == 2  # fc1 and fc2
    assert ops.operators["aten::relu"] == 1
    assert ops.operators["aten::cross_entropy_loss"] == 1
    assert ops.operator_calls == sum(ops.operators.values())
    assert ops.aten_calls > ops.operator_calls  # operators call other operators
    wider = count_step_ops("cpu", hidden=50)
    assert wider.operator_calls == ops.operator_calls  # width changes sizes, not the op count


# -- utilisation ---------------------------------------------------------------------------------
def test_utilization_sweep_points_and_flops():
    points = utilization_sweep("cpu", hiddens=[10, 20], batches=[8, 16], min_run_time=0.01)
    assert [(p.hidden, p.batch) for p in points] == [(10, 8), (10, 16), (20, 8), (20, 16)]
    # forward 2*8*(4*10 + 10*3); backward: fc2's two gradients and fc1's weight gradient
    assert points[0].flops == 2 * 8 * (4 * 10 + 10 * 3) + 2 * (2 * 8 * 10 * 3) + 2 * 8 * 4 * 10
    assert all(p.flops_per_s == pytest.approx(p.flops / p.median_s) for p in points)


@pytest.mark.parametrize(("hiddens", "batches"), [([], [8]), ([10], []), ([-1], [8]), ([10], [0])])
def test_utilization_sweep_bad_input(hiddens, batches):
    with pytest.raises(ValueError):
        utilization_sweep("cpu", hiddens=hiddens, batches=batches)


def test_crossover():
    sizes = [1, 10, 100, 1000]
    assert crossover(sizes, [1, 2, 4, 8], [5, 5, 3, 3]) == 100
    assert crossover(sizes, [1, 1, 1, 1], [2, 2, 2, 2]) is None
    # a lucky win that does not last is not a crossover
    assert crossover(sizes, [1, 1, 1, 1], [2, 0.5, 2, 0.5]) == 1000
    assert crossover([100, 1], [4, 1], [3, 5]) == 100  # order-independent
    with pytest.raises(ValueError):
        crossover([1, 2], [1], [1, 2])
    with pytest.raises(ValueError):
        crossover([], [], [])


# -- remedies ------------------------------------------------------------------------------------
EPOCHS = 200


@pytest.fixture(scope="module")
def iris():
    return load_iris()


@pytest.fixture(scope="module")
def reference(iris):
    return train_remedy("course loop", iris, initial_weights(0), epochs=EPOCHS)


@pytest.mark.parametrize(
    "name",
    ["no per-epoch sync", "loss log on device", "hand-written gradients", "batched models",
     "NumPy", "one thread"],
)  # fmt: skip
def test_every_variant_reaches_the_course_loss(iris, reference, name):
    result = train_remedy(name, iris, initial_weights(0), epochs=EPOCHS)
    assert result.final_loss == pytest.approx(reference.final_loss, abs=1e-5)
    assert result.epochs == EPOCHS and result.epoch_time_s > 0


def test_the_registry_names_each_remedy_once_and_refuses_an_unknown_one():
    assert list(REMEDIES)[0] == "course loop"  # the baseline comes first
    assert {r.name for r in REMEDIES.values()} == set(REMEDIES)
    with pytest.raises(ValueError, match="unknown remedy 'warp drive'; known: course loop"):
        remedy("warp drive")


@pytest.mark.slow
def test_compiled_variant_reaches_the_course_loss(iris, reference):
    before = torch.get_num_threads()
    result = train_remedy("torch.compile", iris, initial_weights(0), epochs=EPOCHS)
    assert result.final_loss == pytest.approx(reference.final_loss, abs=1e-5)
    assert result.setup_s > 0  # compilation is reported, not hidden in the epoch time
    assert torch.get_num_threads() == before  # it compiles and runs at 1 thread, then restores


def test_batched_models_reports_per_model_time(iris):
    result = train_remedy("batched models", iris, initial_weights(0), models=4, epochs=50)
    assert result.models == 4
    assert result.epoch_time_per_model_s == pytest.approx(result.epoch_time_s / 4)


def test_fewer_threads_restores_the_thread_count(iris):
    before = torch.get_num_threads()
    train_remedy("one thread", iris, initial_weights(0), epochs=20)
    assert torch.get_num_threads() == before


def test_cuda_graph_needs_cuda(iris):
    with pytest.raises(ValueError, match="CUDA"):
        train_remedy("CUDA graph", iris, initial_weights(0), epochs=20, device="cpu")


@pytest.mark.parametrize("epochs", [0, -1])
def test_remedies_reject_bad_epochs(iris, epochs):
    with pytest.raises(ValueError, match="epochs"):
        train_remedy("hand-written gradients", iris, initial_weights(0), epochs=epochs)


def test_compiled_needs_whole_chunks(iris):
    with pytest.raises(ValueError, match="multiple"):
        train_remedy("torch.compile", iris, initial_weights(0), epochs=30, unroll=20)
