"""devicelab.distributed: the Hockney fit, the all-reduce sweep, DDP against one process, and
what happens when a worker fails or hangs.

The fit and the refusals run in the fast selection; everything that spawns ranks is slow.
"""

from __future__ import annotations

import concurrent.futures
import os
import time

import numpy as np
import psutil
import pytest
import torch
import torch.distributed as dist

from devicelab.data import load_iris
from devicelab.distributed import (
    HockneyFit,
    WorkerError,
    allreduce_sweep,
    bus_bandwidth,
    check_world,
    compare_data_parallel,
    data_parallel_crossover,
    hockney_fit,
)
from devicelab.distributed.crossover import bracket
from devicelab.hardware import cpu_info
from devicelab.models import MLP
from devicelab.stats import Interval

SIZES = [4, 64, 1024, 16384, 262144, 4 * 2**20, 16 * 2**20]


# Factories the workers import from this module (tests/ is on sys.path, so spawned children
# find it by name, as they would find a reader's own module).
def failing_on_rank_1():
    if dist.get_rank() == 1:
        raise RuntimeError("the factory of rank 1 refuses")
    return MLP()


def hanging_on_rank_0():
    if dist.get_rank() == 0:
        time.sleep(3600)
    return MLP()


def _workers() -> set[int]:
    """This process's spawned workers still alive (the resource tracker is not one)."""
    return {
        child.pid
        for child in psutil.Process().children(recursive=True)
        if any("spawn_main" in part for part in _cmdline(child))
    }


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


# -- the fit, on synthetic data (fast) ----------------------------------------------------------


def test_hockney_fit_recovers_a_known_alpha_and_beta():
    alpha, beta = 150e-6, 1.4e9
    rng = np.random.default_rng(0)
    sizes = np.asarray(SIZES, dtype=float)
    rounds = [(alpha + sizes / beta) * rng.lognormal(0, 0.05, sizes.size) for _ in range(25)]
    fit = hockney_fit(SIZES, rounds)
    assert fit.alpha_s.contains(alpha), fit
    assert fit.beta_bytes_per_s.contains(beta), fit
    assert fit.alpha_s.estimate == pytest.approx(alpha, rel=0.05)
    assert fit.beta_bytes_per_s.estimate == pytest.approx(beta, rel=0.05)
    assert fit.half_bandwidth_bytes == pytest.approx(alpha * beta, rel=0.1)
    assert fit.seconds(0) == pytest.approx(fit.alpha_s.estimate)
    span = fit.seconds_interval(2**20)
    assert span.low <= fit.seconds(2**20) <= span.high


def test_hockney_fit_refuses_what_it_cannot_fit():
    with pytest.raises(ValueError, match="2 distinct sizes"):
        hockney_fit([4, 4], [[1e-4, 1e-4], [1e-4, 1e-4]])
    with pytest.raises(ValueError, match="at least 2 rounds"):
        hockney_fit([4, 64], [[1e-4, 2e-4]])
    with pytest.raises(ValueError, match="positive and finite"):
        hockney_fit([4, 64], [[1e-4, 0.0], [1e-4, 2e-4]])
    with pytest.raises(ValueError, match="does not grow"):
        hockney_fit([4, 64], [[2e-4, 1e-4], [2e-4, 1e-4], [2e-4, 1e-4]])


def test_bus_bandwidth_is_nccl_tests_definition():
    assert bus_bandwidth(1e9, 2) == pytest.approx(1e9)
    assert bus_bandwidth(1e9, 8) == pytest.approx(1.75e9)


def test_the_crossover_bracket():
    batches = [100, 1_000, 10_000, 100_000]
    found = bracket(batches, ["slower", "slower", "unclear", "faster"], [3.0, 2.0, 1.0, 0.5])
    assert (found.low, found.high) == (1_000, 100_000)
    assert found.estimate == pytest.approx(10_000)
    assert "above 1,000" in str(found) and "at most 100,000" in str(found)
    never = bracket(batches, ["slower"] * 4, [3.0, 2.0, 1.5, 1.2])
    assert not never.found and never.low == 100_000 and never.estimate is None
    assert str(never).startswith("not within the sweep")
    at_once = bracket(batches, ["faster"] * 4, [0.5] * 4)
    assert (at_once.low, at_once.high, at_once.estimate) == (None, 100, 100.0)


# -- refusals before any process starts (fast) --------------------------------------------------


def test_bad_groups_are_value_errors():
    with pytest.raises(ValueError, match="at least 2"):
        check_world(1, "gloo")
    with pytest.raises(ValueError, match="at least 2"):
        check_world(True, "gloo")
    with pytest.raises(ValueError, match="backend must be one of"):
        check_world(2, "mpi")
    usable = cpu_info().usable_cpus
    with pytest.raises(ValueError, match=f"may use {usable}"):
        check_world(usable + 1, "gloo")
    if torch.cuda.device_count() < 2:
        with pytest.raises(ValueError, match="NCCL"):
            check_world(2, "nccl")
    with pytest.raises(ValueError, match="at least 2"):
        allreduce_sweep([4, 64], world_size=1)
    with pytest.raises(ValueError, match="multiple of 4"):
        allreduce_sweep([4, 6])


def test_factories_a_worker_could_not_import_are_refused():
    x, y = torch.rand(8, 4), torch.randint(0, 3, (8,))
    with pytest.raises(ValueError, match="inside a function"):
        compare_data_parallel(lambda: MLP(), x, targets=y)
    with pytest.raises(ValueError, match="MODULE:CALLABLE"):
        compare_data_parallel("devicelab.models", x, targets=y)
    with pytest.raises(ValueError, match="cannot import"):
        compare_data_parallel("no_such_module_here:MLP", x, targets=y)
    with pytest.raises(ValueError, match="world_size=2 rows"):
        compare_data_parallel("devicelab.models:MLP", x[:1], targets=y[:1])


# -- real ranks (slow) --------------------------------------------------------------------------


@pytest.mark.slow
def test_allreduce_sweep_grows_with_size_and_gives_plausible_alpha_and_beta():
    sweep = allreduce_sweep(SIZES, rounds=12)
    small, large = sweep.points[0], sweep.points[-1]
    assert large.seconds.above(small.seconds.high), (small, large)
    assert 1e-6 < sweep.alpha_s.estimate < 0.05, sweep.alpha_s
    assert 1e7 < sweep.beta_bytes_per_s.estimate < 1e12, sweep.beta_bytes_per_s
    assert sweep.alpha_s.low > 0 and sweep.beta_bytes_per_s.low > 0
    assert large.busbw_bytes_per_s == pytest.approx(large.algbw_bytes_per_s)  # p = 2
    record = sweep.to_dict()
    assert record["fit"]["alpha_s"]["estimate"] == sweep.alpha_s.estimate
    assert len(record["seconds_by_round"]) == 12


@pytest.mark.slow
def test_the_sweep_measures_the_bytes_and_agrees_with_an_independent_script():
    """The communication page's sweep (4 B to 16 MiB, 20 rounds) on this machine: no size is
    more than 1.5x slower than the next larger one, and the smallest lands within 2x of a plain
    torch.distributed script that times single all-reduces after a barrier and reports the
    slower rank (tests/data/peer_allreduce.py).

    A 4-byte all-reduce between two single-threaded ranks on a 2-vCPU machine is timed by the
    scheduler's wake-ups: back-to-back runs of either measurement alone differ up to 2.5x
    (236-738 us on the CI machine). So the test takes up to three fresh (sweep, script)
    pairs, run one after the other, and passes on the first pair that agrees; a sweep that
    adds its own overhead would miss on every pair."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    sizes = [4 * 16**k for k in range(6)] + [16 * 2**20]
    script = Path(__file__).parent / "data" / "peer_allreduce.py"
    pairs = []
    for _ in range(3):
        sweep = allreduce_sweep(sizes, world_size=2, rounds=20)
        medians = [p.seconds.estimate for p in sweep.points]
        done = subprocess.run(
            [sys.executable, str(script), str(sizes[0])],
            capture_output=True, text=True, check=True, timeout=180,
        )  # fmt: skip
        peer = json.loads(done.stdout)[str(sizes[0])]
        worst = max(a / b for a, b in zip(medians, medians[1:], strict=False))
        pairs.append((worst, medians[0] / peer, dict(zip(sizes, medians, strict=True)), peer))
        if worst < 1.5 and 0.5 <= medians[0] / peer <= 2:
            return
    pytest.fail(f"no pair agreed (worst step, smallest/peer, sweep, peer): {pairs}")


@pytest.mark.slow
def test_ddp_is_slower_than_one_process_on_the_course_mlp():
    data = load_iris()
    result = compare_data_parallel(
        "devicelab.models:MLP", data.X_train, targets=data.y_train, steps=12, rounds=9
    )
    # The least block of each: a busy machine only ever adds time, so the least is a variant's
    # undisturbed time. (Beside one other busy process on 2 cores, the 2-thread "one process"
    # stalls at every operator for its descheduled second thread: blocks of 0.7 and 9.1 ms in
    # one run, whose ratio interval then straddled 1. The page, built on a quiet machine,
    # prints and guards the interval.)
    samples = result.comparison.samples
    assert min(samples["DDP"]) > min(samples["one process"]), samples
    assert result.gradient_bytes == sum(p.numel() * 4 for p in MLP().parameters())
    assert result.buckets == 1 and result.buckets_per_tensor == 4
    assert result.threads == {"one process": 2, "each rank": 1}
    assert set(result.remedies) == {"gradient accumulation", "larger buckets", "one process"}
    assert result.to_dict()["ratio"]["estimate"] == result.ratio.estimate


@pytest.mark.slow
def test_a_failing_factory_is_reported_within_90_s_naming_the_rank():
    before = _workers()
    started = time.monotonic()
    with pytest.raises(WorkerError, match="rank 1 of 2 failed") as caught:
        compare_data_parallel(
            failing_on_rank_1, torch.rand(8, 4), targets=torch.randint(0, 3, (8,)), timeout_s=80
        )
    assert time.monotonic() - started < 90
    assert "the factory of rank 1 refuses" in str(caught.value)
    assert caught.value.ranks == (1,) and not caught.value.timed_out
    assert isinstance(caught.value, RuntimeError)
    assert _workers() == before, "a worker was left behind after a failure"


@pytest.mark.slow
def test_a_hung_worker_is_killed_at_the_timeout():
    before = _workers()
    started = time.monotonic()
    with pytest.raises(WorkerError, match="did not finish within timeout_s=20 s and were killed"):
        compare_data_parallel(
            hanging_on_rank_0, torch.rand(8, 4), targets=torch.randint(0, 3, (8,)), timeout_s=20
        )
    assert time.monotonic() - started < 40
    assert _workers() == before, "a worker was left behind after a timeout"


@pytest.mark.slow
def test_two_runs_at_once_pick_their_own_ports():
    before = _workers()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(allreduce_sweep, [4, 16 * 2**20], rounds=3) for _ in range(2)]
        sweeps = [run.result(timeout=120) for run in runs]
    assert all(len(s.points) == 2 for s in sweeps)
    assert _workers() == before
    assert os.getpid() == psutil.Process().pid  # the parent is still this process


@pytest.mark.slow
def test_the_crossover_predicts_from_the_fit_and_the_share():
    fit = HockneyFit(Interval(2e-4, 1e-4, 3e-4), Interval(1e9, 5e8, 2e9))
    data = load_iris()
    found = data_parallel_crossover(
        "devicelab.models:MLP",
        data.X_train,
        targets=data.y_train,
        batches=[120, 1200],
        costs=fit,
        rounds=3,
    )
    assert [p.batch for p in found.points] == [120, 1200]
    for point in found.points:
        grads = fit.seconds(found.gradient_bytes)
        assert point.predicted_ddp_s.estimate == pytest.approx(point.share_s.estimate + grads)
        assert point.measured in ("slower", "faster", "unclear")
    assert found.to_dict()["points"][0]["batch"] == 120


# -- advise's data-parallel line ----------------------------------------------------------------


def _batch_test(*points):
    rows = [{"batch": b, "device": "cpu", "step_s": s, "predicted": False} for b, s in points]
    return {"points": rows}


def test_the_predicted_crossover_batch_by_hand():
    from devicelab.distributed import predicted_crossover_batch

    # 10 us of compute a row, a 100 us all-reduce: two ranks save 5 us a row, so from 20 rows
    assert predicted_crossover_batch(1e-5, 1e-4, 2) == 20
    # four ranks save 7.5 us a row: 13 rows save 97.5 us (DDP slower), 14 rows 105 us (faster)
    assert predicted_crossover_batch(1e-5, 1e-4, 4) == 14
    assert predicted_crossover_batch(0.0, 1e-4, 2) is None  # no compute to share
    assert predicted_crossover_batch(1e-5, 0.0, 2) == 1
    for bad in ((1e-5, 1e-4, 1), (1e-5, -1.0, 2)):
        with pytest.raises(ValueError, match="world_size must be at least 2"):
            predicted_crossover_batch(*bad)


def test_the_data_parallel_line_by_hand():
    from devicelab.advise.data_parallel import data_parallel_advice

    fit = HockneyFit(Interval(2e-4, 2e-4, 2e-4), Interval(1e9, 1e9, 1e9))
    model = MLP()  # 83 parameters: 332 bytes of gradients
    line = data_parallel_advice(model, 100, _batch_test((100, 1.0e-3), (200, 1.5e-3)), costs=fit)
    talk = 2e-4 + 332 / 1e9
    assert line.gradient_bytes == 332 and line.allreduce_s == pytest.approx(talk)
    assert line.per_sample_s == pytest.approx(5e-6) and line.fixed_s == pytest.approx(5e-4)
    assert line.ddp_step_s == pytest.approx(5e-4 + 5e-6 * 50 + talk)
    assert line.speeds_up is True  # half the batch saves 250 us, more than the 200 us talk
    assert line.from_batch == int(np.ceil(talk / (5e-6 * 0.5)))
    assert "would speed up MLP at batch 100" in line.reason
    slow = data_parallel_advice(model, 40, _batch_test((40, 7e-4), (80, 9e-4)), costs=fit)
    assert slow.speeds_up is False and "would not speed up MLP at batch 40" in slow.reason
    assert f"from a batch of about {slow.from_batch:,}" in slow.reason
    flat = data_parallel_advice(model, 40, _batch_test((40, 7e-4), (80, 6e-4)), costs=fit)
    assert flat.speeds_up is False and flat.from_batch is None and "at any batch" in flat.reason


def test_the_data_parallel_line_takes_the_costs_from_the_environment(monkeypatch):
    from devicelab.advise.data_parallel import COSTS_VARIABLE, data_parallel_advice

    monkeypatch.setenv(COSTS_VARIABLE, "1e-4,2e9")
    line = data_parallel_advice(MLP(), 100, _batch_test((100, 1e-3), (200, 2e-3)))
    assert line.alpha_s == 1e-4 and line.beta_bytes_per_s == 2e9
    assert line.source == f"given by {COSTS_VARIABLE}"
    monkeypatch.setenv(COSTS_VARIABLE, "fast")
    broken = data_parallel_advice(MLP(), 100, _batch_test((100, 1e-3), (200, 2e-3)))
    assert broken.speeds_up is None and "not estimated" in broken.reason
    assert COSTS_VARIABLE in broken.reason
    gpu_only = {"points": [{"batch": 8, "device": "cuda:0", "step_s": 1e-3, "predicted": False}]}
    assert data_parallel_advice(MLP(), 8, gpu_only) is None


@pytest.mark.slow
def test_advise_measures_alpha_and_beta_once_for_its_data_parallel_line():
    from devicelab.advise import advise
    from devicelab.advise.data_parallel import allreduce_costs

    data = load_iris()
    allreduce_costs.cache_clear()
    first = advise(MLP(), data.X_train, targets=data.y_train, devices=["cpu"])
    line = first.data_parallel
    assert line.source.startswith("measured here once") and line.alpha_s > 0
    assert line.speeds_up is not None and any(c.isdigit() for c in line.reason)
    assert line.reason in str(first)
    assert first.to_dict()["data_parallel"]["reason"] == line.reason
    assert allreduce_costs.cache_info().misses == 1
    advise(MLP(), data.X_train, targets=data.y_train, devices=["cpu"])
    assert allreduce_costs.cache_info().misses == 1, "alpha and beta are measured once"


@pytest.mark.slow
def test_bench_records_the_sweep_and_the_comparison():
    from devicelab.bench import run_bench, summary_table

    record = run_bench("cpu", quick=True, sections=("distributed",), command="pytest")
    section = record["measurements"]["distributed"]  # validated against results-v3 already
    (run,) = section["runs"]
    assert run["backend"] == "gloo" and run["world_size"] == 2
    assert len(run["sweep"]["points"]) == 3 and run["comparison"]["batch"] == 120
    if torch.cuda.device_count() < 2:
        assert section["skipped"] == {} or "nccl" in section["skipped"]
    assert "All-reduce between 2 gloo processes: alpha" in summary_table(record)
