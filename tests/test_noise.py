"""The noise meter: its readings, their drift summary, the build's log and its Sphinx hooks."""

from __future__ import annotations

import json
import time

import pytest
import torch

from devicelab.noise import (
    NOISE_LOG_ENV,
    NoiseReading,
    append_reading,
    build_drift,
    drift,
    measure_noise,
    read_log,
)


def reading(step_us: float, label: str = "r") -> NoiseReading:
    return NoiseReading(
        label=label,
        step_s=step_us * 1e-6,
        iqr_s=1e-6,
        samples=5,
        steps=20,
        threads=1,
        taken_at="2026-11-27T10:00:00+00:00",
    )


def test_a_reading_times_the_workload_on_one_thread_and_leaves_no_trace():
    torch.manual_seed(123)
    rng_before, threads_before = torch.get_rng_state(), torch.get_num_threads()
    r = measure_noise("probe")
    assert (r.label, r.steps, r.samples, r.threads) == ("probe", 20, 5, 1)
    assert r.step_s > 0 and r.iqr_s >= 0  # no bound on elapsed time in the fast selection
    assert torch.equal(torch.get_rng_state(), rng_before)  # the caller's random stream
    assert torch.get_num_threads() == threads_before


@pytest.mark.slow  # wall-clock
def test_a_default_reading_costs_well_under_a_second():
    """About a quarter of a second alone; under 2 s beside a competing CPU-bound process."""
    measure_noise()  # first call pays one-time imports (the optimizer's lazy ones)
    start = time.perf_counter()
    measure_noise()
    assert time.perf_counter() - start < 2.0


def test_drift_of_a_slowing_series():
    d = drift([reading(500), reading(750), reading(600)])
    assert d.max_over_min == pytest.approx(1.5)
    assert d.first_to_last == pytest.approx(0.2)
    sentence = d.sentence()
    assert "drifted by 1.50x during this build" in sentence
    assert "3 readings" in sentence and "from 500 µs to 750 µs per step" in sentence
    assert "20% slower than the first" in sentence
    summary = d.to_dict()
    assert summary["max_over_min"] == pytest.approx(1.5) and len(summary["readings"]) == 3


def test_drift_of_a_speeding_series_and_of_one_reading():
    assert "25% faster than the first" in drift([reading(800), reading(600)]).sentence()
    assert "last was within 1% of the first" in drift([reading(800), reading(802)]).sentence()
    one = drift([reading(500)])
    assert one.max_over_min == 1.0 and "drift is unknown" in one.sentence()
    with pytest.raises(ValueError, match="no noise readings"):
        drift([])


def test_the_log_keeps_readings_in_order(tmp_path):
    log = tmp_path / "sub" / "noise.json"
    assert read_log(log) == []
    append_reading(log, reading(500, "first"))
    append_reading(log, reading(600, "second"))
    assert [r.label for r in read_log(log)] == ["first", "second"]
    assert read_log(log)[1] == reading(600, "second")


def test_a_foreign_file_is_not_a_log(tmp_path):
    log = tmp_path / "noise.json"
    log.write_text("[1, 2]")
    with pytest.raises(ValueError, match="is not a noise log"):
        read_log(log)
    log.write_text(json.dumps({"readings": [{"label": "x"}]}))
    with pytest.raises(ValueError, match="needs exactly the fields"):
        read_log(log)


def test_a_page_in_the_build_adds_its_reading_to_the_log(tmp_path, monkeypatch):
    log = tmp_path / "noise.json"
    append_reading(log, reading(500, "build started"))
    monkeypatch.setenv(NOISE_LOG_ENV, str(log))
    sentence = build_drift("index page").sentence()
    assert [r.label for r in read_log(log)] == ["build started", "index page"]
    assert sentence.startswith("This machine drifted by") and "2 readings" in sentence
    assert "2 readings" in build_drift(None).sentence()  # reads the log, adds nothing
    assert len(read_log(log)) == 2


def test_a_page_outside_the_build_measures_now(monkeypatch):
    monkeypatch.delenv(NOISE_LOG_ENV, raising=False)
    assert [r.label for r in build_drift().readings] == ["now", "now, again"]


def test_sphinx_gallery_hook_reads_only_after_an_example(tmp_path, monkeypatch):
    from noise_log import reading_after_example

    log = tmp_path / "noise.json"
    monkeypatch.setenv(NOISE_LOG_ENV, str(log))
    reading_after_example({}, "plot_remedies.py", when="before")
    assert read_log(log) == []
    reading_after_example({}, "plot_remedies.py", when="after")
    assert [r.label for r in read_log(log)] == ["after plot_remedies"]


@pytest.mark.slow
def test_the_docs_build_logs_readings_and_pages_print_the_drift(tmp_path):
    from sphinx_project import GOOD_PAGE, build, make_project

    page = GOOD_PAGE + (
        "\n```{code-cell} python3\nfrom devicelab.noise import build_drift\n"
        "print(build_drift('page').sentence())\n```\n"
    )
    result = build(make_project(tmp_path, page=page))
    assert result.returncode == 0, result.stdout + result.stderr
    labels = [r.label for r in read_log(tmp_path / "build" / "noise.json")]
    assert labels == ["build started", "after plot_call_method", "page", "build finished"]
    html = (tmp_path / "build" / "html" / "page.html").read_text()
    assert "This machine drifted by" in html and "3 readings" in html
