"""Paired comparisons and the slope estimator, on synthetic timings (a fake clock)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from devicelab.data import load_iris
from devicelab.models import initial_weights
from devicelab.remedies import compare_remedies, record_frequency_sweep
from devicelab.stats import (
    Interval,
    bootstrap_median,
    compare_samples,
    round_orders,
    slope_interval,
)
from devicelab.timing import compare, torch_threads


class FakeMachine:
    """A clock that advances only when a variant "runs": each run takes its base time, times
    a slowdown that can drift with the machine's time, times seeded noise."""

    def __init__(self, *, drift_per_s: float = 0.0, noise: float = 0.0, seed: int = 1):
        self.now = 0.0
        self.drift_per_s = drift_per_s
        self.noise = noise
        self.rng = np.random.default_rng(seed)

    def clock(self) -> float:
        return self.now

    def work(self, seconds: float):
        def run() -> None:
            slowdown = 1 + self.drift_per_s * self.now
            self.now += seconds * slowdown * (1 + self.noise * self.rng.standard_normal())

        return run


# -- compare -----------------------------------------------------------------------------------
def test_compare_recovers_a_known_ratio():
    machine = FakeMachine(noise=0.02)
    variants = {"a": machine.work(1.0), "b": machine.work(2.5), "c": machine.work(0.5)}
    result = compare(variants, baseline="a", rounds=15, clock=machine.clock)
    assert result.ratios["b"].contains(2.5) and result.ratios["c"].contains(0.5)
    assert result.ratios["b"].estimate == pytest.approx(2.5, rel=0.03)
    assert result.speedups["c"].estimate == pytest.approx(2.0, rel=0.03)
    assert result.ratios["a"] == Interval(1.0, 1.0, 1.0, 0.95)
    assert result.medians["b"] == pytest.approx(2.5, rel=0.03)
    assert result.intervals["b"].contains(result.medians["b"])
    assert result.rounds == 15 and all(len(v) == 15 for v in result.samples.values())


def test_pure_noise_gives_an_interval_containing_one():
    machine = FakeMachine(noise=0.1, seed=7)
    variants = {"a": machine.work(1.0), "b": machine.work(1.0)}
    result = compare(variants, baseline="a", rounds=12, clock=machine.clock)
    assert result.ratios["b"].contains(1.0), result.ratios["b"]
    assert result.ratios["b"].high - result.ratios["b"].low > 0.01  # noise makes it wide


def test_drift_biases_back_to_back_blocks_but_not_paired_rounds():
    # The machine slows by 5% per second of work: like a VM whose neighbours wake up.
    # Two identical variants: the true ratio is 1.
    paired = FakeMachine(drift_per_s=0.05)
    result = compare({"a": paired.work(1.0), "b": paired.work(1.0)}, baseline="a", rounds=10,
                     warmup=0, clock=paired.clock)  # fmt: skip
    assert result.ratios["b"].contains(1.0)
    assert result.ratios["b"].estimate == pytest.approx(1.0, abs=0.06)

    # The same work, timed as two blocks one after the other: all of a, then all of b.
    blocks = FakeMachine(drift_per_s=0.05)
    samples = {}
    for name in ("a", "b"):
        run, times = blocks.work(1.0), []
        for _ in range(10):
            start = blocks.clock()
            run()
            times.append(blocks.clock() - start)
        samples[name] = times
    back_to_back = compare_samples(samples, baseline="a")
    assert back_to_back.ratios["b"].above(1.3), back_to_back.ratios["b"]  # b looks slower


def test_every_variant_goes_first_and_runs_equally_often():
    machine = FakeMachine()
    calls = {"a": 0, "b": 0, "c": 0}

    def counted(name):
        run = machine.work(1.0)

        def unit():
            calls[name] += 1
            run()

        return unit

    result = compare({n: counted(n) for n in calls}, baseline="a", rounds=6, warmup=2,
                     clock=machine.clock)  # fmt: skip
    assert calls == {"a": 2 + 6, "b": 2 + 6, "c": 2 + 6}
    assert sorted(order[0] for order in result.orders) == ["a", "a", "b", "b", "c", "c"]
    assert all(sorted(order) == ["a", "b", "c"] for order in result.orders)
    assert result.medians["a"] == pytest.approx(1.0)


def test_round_orders_are_seeded():
    names = ["a", "b", "c"]
    assert round_orders(names, 4, seed=3) == round_orders(names, 4, seed=3)
    # the seed matters: not one fixed order whatever it is
    assert len({str(round_orders(names, 4, seed=seed)) for seed in range(6)}) > 1
    orders = round_orders(names, 6, seed=3)
    assert [order[0] for order in orders] == ["a", "b", "c", "a", "b", "c"]  # first in turn
    assert all(sorted(order) == names for order in orders)


def test_compare_runs_at_the_requested_threads_and_restores_them():
    before = torch.get_num_threads()
    seen = []
    result = compare({"a": lambda: seen.append(torch.get_num_threads()), "b": lambda: None},
                     baseline="a", rounds=2, num_threads=1)  # fmt: skip
    assert set(seen) == {1} and result.threads == 1
    assert torch.get_num_threads() == before


def test_comparison_serialises_and_prints():
    result = compare_samples({"base": [1.0, 1.2, 1.1], "fast": [0.5, 0.6, 0.55]}, baseline="base")
    d = result.to_dict()
    assert d["ratios"]["fast"]["estimate"] == pytest.approx(0.5)
    assert d["medians"] == {"base": 1.1, "fast": 0.55} and d["rounds"] == 3
    assert "fast" in str(result) and "x0.5" in str(result)


@pytest.mark.parametrize(
    ("variants", "kwargs", "match"),
    [
        ({"a": lambda: None, "b": lambda: None}, {"baseline": "z"}, "baseline 'z'"),
        ({"a": lambda: None}, {"baseline": "a"}, "at least 2 variants"),
        ({"a": lambda: None, "b": lambda: None}, {"baseline": "a", "rounds": 1}, "rounds"),
        ({"a": lambda: None, "b": lambda: None}, {"baseline": "a", "confidence": 1.0}, "between"),
        ({"a": lambda: None, "b": lambda: None}, {"baseline": "a", "confidence": 0}, "between"),
        ({"a": lambda: None, "b": lambda: None}, {"baseline": "a", "warmup": -1}, "warmup"),
    ],
)
def test_compare_rejects_bad_input_before_running_anything(variants, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare(variants, **kwargs)


def test_compare_rejects_a_variant_that_is_not_callable():
    with pytest.raises(TypeError, match="callable"):
        compare({"a": lambda: None, "b": 3}, baseline="a", rounds=2)


def test_compare_samples_rejects_unpaired_or_impossible_times():
    with pytest.raises(ValueError, match="one time per round"):
        compare_samples({"a": [1.0, 1.0], "b": [1.0]}, baseline="a")
    with pytest.raises(ValueError, match="positive and finite"):
        compare_samples({"a": [1.0, 1.0], "b": [1.0, 0.0]}, baseline="a")


# -- intervals and the slope -------------------------------------------------------------------
def test_bootstrap_median_is_reproducible_and_covers_the_median():
    values = [3.0, 1.0, 2.0, 5.0, 4.0]
    first = bootstrap_median(values)
    assert first == bootstrap_median(values)
    assert first.estimate == 3.0 and first.low >= 1.0 and first.high <= 5.0
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_median([1.0])


def test_bootstrap_interval_covers_the_true_median_and_narrows_with_more_rounds():
    # draws around a known median of 10: the interval must contain it, and shrink with data
    rng = np.random.default_rng(42)
    few, many = 10 + rng.standard_normal(20), 10 + rng.standard_normal(500)
    wide, narrow = bootstrap_median(few), bootstrap_median(many)
    assert wide.contains(10.0) and narrow.contains(10.0)
    assert (wide.high - wide.low) > 3 * (narrow.high - narrow.low)  # ~sqrt(500 / 20) = 5
    # a 95% interval covers the true median in most of 100 independent samples, not all or none
    covered = sum(
        bootstrap_median(10 + np.random.default_rng(seed).standard_normal(30)).contains(10.0)
        for seed in range(100)
    )
    assert 85 <= covered <= 100
    half = bootstrap_median(few, confidence=0.5)  # a lower confidence: a narrower interval
    assert half.contains(half.estimate) and half.high - half.low < wide.high - wide.low


def test_interval_helpers():
    interval = Interval(2.0, 1.0, 3.0)
    assert interval.contains(1.0) and not interval.contains(3.5)
    assert interval.above(0.5) and interval.below(4.0) and not interval.above(1.5)
    assert interval.scaled(-1) == Interval(-2.0, -3.0, -1.0)
    with pytest.raises(ValueError, match="low <= high"):
        Interval(1.0, 2.0, 0.0)


SYNCS_PER_EPOCH = [1.0, 0.1, 0.01, 0.001, 0.0]


def _sweep(cost_per_sync: float, *, noise: float, rounds: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    round_speed = 1 + 0.3 * rng.random(rounds)  # whole rounds run slow or fast: drift
    x = np.asarray(SYNCS_PER_EPOCH)
    epoch = 500e-6 + cost_per_sync * x
    return round_speed[:, None] * epoch * (1 + noise * rng.standard_normal((rounds, x.size)))


def test_slope_recovers_a_known_cost_per_sync():
    slope = slope_interval(SYNCS_PER_EPOCH, _sweep(200e-6, noise=0.01))
    assert slope.above(0) and slope.contains(slope.estimate)
    assert slope.estimate == pytest.approx(200e-6 * 1.15, rel=0.2)  # times the mean speed


def test_slope_of_pure_noise_contains_zero():
    slope = slope_interval(SYNCS_PER_EPOCH, _sweep(0.0, noise=0.05, seed=3))
    assert slope.contains(0.0), slope


def test_slope_rejects_bad_input():
    with pytest.raises(ValueError, match="2 distinct"):
        slope_interval([1.0, 1.0], [[1.0, 2.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="shape"):
        slope_interval([1.0, 0.0], [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="rounds"):
        slope_interval([1.0, 0.0], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="between"):
        slope_interval([1.0, 0.0], [[1.0, 2.0], [1.0, 2.0]], confidence=1.5)


# -- the training sweeps built on compare ------------------------------------------------------
@pytest.fixture(scope="module")
def iris():
    return load_iris()


def test_record_frequency_sweep_pairs_frequencies_and_trains_them_alike(iris):
    sweep = record_frequency_sweep(iris, initial_weights(0), every=(1, 10, None),
                                   block_epochs=20, rounds=2)  # fmt: skip
    assert sweep.syncs_per_block == {"every 1": 20, "every 10": 2, "end only": 0}
    assert sweep.epochs == 60 and sweep.comparison.baseline == "every 1"
    assert len(set(sweep.final_losses.values())) == 1  # same epochs, same maths
    # the cost of a sync is the slope of the paired block times against syncs per block
    per_round = [[sweep.comparison.samples[name][r] for name in sweep.syncs_per_block]
                 for r in range(sweep.comparison.rounds)]  # fmt: skip
    assert sweep.cost_per_sync == slope_interval(list(sweep.syncs_per_block.values()), per_round)
    assert sweep.to_dict()["variants"][1]["syncs_per_block"] == 2


def test_record_frequency_sweep_rejects_blocks_that_split_a_frequency(iris):
    with pytest.raises(ValueError, match="multiple of every record frequency"):
        record_frequency_sweep(iris, initial_weights(0), every=(1, 1000), block_epochs=500)


@pytest.mark.slow
def test_compare_remedies_same_epochs_same_losses(iris):
    result = compare_remedies(iris, initial_weights(0), block_epochs=10, rounds=2, unroll=5,
                              models=2)  # fmt: skip
    losses = result.final_losses.values()
    assert max(losses) - min(losses) < 1e-4 and result.epochs == 30
    assert result.speedup(result.baseline).estimate == 1.0
    assert result.models["2 models batched"] == 2 and "CUDA graph" in result.skipped
    with pytest.raises(ValueError, match="multiple of unroll"):
        compare_remedies(iris, initial_weights(0), block_epochs=12, unroll=5)


def test_torch_threads_sets_the_count_and_restores_it_even_on_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"), torch_threads(1) as threads:
        assert threads == 1 and torch.get_num_threads() == 1
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with torch_threads(None) as threads:
        assert threads == before


def test_recorded_remedies_reads_both_record_versions():
    from devicelab.remedies import recorded_remedies, remedy_table
    from devicelab.results import ResultsError

    old = {
        "measurements": {
            "remedies": {
                "results": [
                    {
                        "name": "course loop (item every epoch)",
                        "models": 1,
                        "epoch_time_per_model_s": 1e-3,
                        "speedup": 1.0,
                        "setup_s": 0.0,
                        "final_loss": 0.5,
                    }
                ],
                "skipped": {"NumPy": "CPU only"},
            }
        }
    }
    rows, skipped = recorded_remedies(old)
    assert rows[0].speedup_interval is None and skipped == {"NumPy": "CPU only"}
    paired = {
        "measurements": {
            "remedies": {
                "variants": [
                    {
                        "name": "32 models batched",
                        "models": 32,
                        "setup_s": 0.0,
                        "final_loss": 0.5,
                        "epoch_time_per_model_s": {"estimate": 2e-5, "low": 1e-5, "high": 3e-5},
                        "speedup": {"estimate": 20.0, "low": 15.0, "high": 25.0},
                    }
                ],
                "skipped": {},
            }
        }
    }
    (row,), _ = recorded_remedies(paired)
    assert row.models == 32 and row.epoch_time_interval_s == (1e-5, 3e-5)
    assert row.speedup_interval == (15.0, 25.0)
    assert "µs/epoch/model" in remedy_table([row], "GPU") and "20.00x" in remedy_table([row], "")
    with pytest.raises(ResultsError, match="no remedies"):
        recorded_remedies({"device_name": "X", "measurements": {}})


@pytest.mark.slow
def test_remedy_comparison_rows_match_its_intervals(iris):
    result = compare_remedies(iris, initial_weights(0), block_epochs=10, rounds=2, unroll=5,
                              models=2)  # fmt: skip
    rows = {r.name: r for r in result.rows()}
    assert list(rows) == list(result.comparison.samples)
    batched = rows["2 models batched"]
    assert batched.speedup == result.speedup("2 models batched").estimate
    assert (
        batched.epoch_time_interval_s[0] <= batched.epoch_time_s <= batched.epoch_time_interval_s[1]
    )
