"""Guards shown to fire: each page's hidden assertions on a recorded GPU's numbers stop the page
when the record says otherwise.

Each case copies the shipped H100 record, doctors the one value a sentence rests on so that the
sentence becomes false, and runs that one page against it (``DEVICELAB_RESULTS_DIR``; the docs
build reads the same record undoctored, so the page passing there is the other half of the
proof). The page must stop at that sentence's guard, not at another, and not pass. Slow: each
case runs a page in a fresh process (about 15 s).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from page_runner import ROOT, fired_guard, run_page_with_record, shipped_h100

pytestmark = pytest.mark.slow


def _runs(record: dict, section: str) -> list[dict]:
    return record["measurements"][section]["runs"]


def gpu_as_fast_as_its_host(record: dict) -> None:
    """The GPU's course loop takes half its host CPU's time."""
    gpu, host = _runs(record, "training")
    gpu["epoch_time_s"], gpu["wall_time_s"] = host["epoch_time_s"] / 2, host["wall_time_s"] / 2


def epochs_of_tens_of_microseconds(record: dict) -> None:
    """Both course loops take tens of µs an epoch, not hundreds (the GPU still the slower)."""
    gpu, host = _runs(record, "training")
    gpu["epoch_time_s"], host["epoch_time_s"] = 60e-6, 40e-6


def _record_every(record: dict, every: int | None) -> dict:
    return next(r for r in _runs(record, "record_frequency") if r["record_every"] == every)


def no_sync_is_slower(record: dict) -> None:
    """The loop that never reads the loss takes longer than the one that reads it every epoch."""
    _record_every(record, None)["epoch_time_s"] = 1.1 * _record_every(record, 1)["epoch_time_s"]


def no_sync_saves_most_of_the_epoch(record: dict) -> None:
    """Without per-epoch syncs the epoch keeps only 30% of its time."""
    _record_every(record, None)["epoch_time_s"] = 0.3 * _record_every(record, 1)["epoch_time_s"]


def fewer_syncs_cost_more_at_first(record: dict) -> None:
    """Reading the loss every 10 epochs is slower than every epoch."""
    _record_every(record, 10)["epoch_time_s"] = 1.05 * _record_every(record, 1)["epoch_time_s"]


def _batch_sweep(record: dict, device: str) -> list[dict]:
    return record["measurements"]["utilization"]["sweeps"][device]["batch"]


def gpu_step_grows_with_the_batch(record: dict) -> None:
    """The GPU's step grows in proportion to the batch: no longer overhead-bound."""
    points = _batch_sweep(record, record["device"])
    first = points[0]
    for p in points:
        p["median_s"] = first["median_s"] * p["batch"] / first["batch"]


def host_step_stays_flat(record: dict) -> None:
    """The host CPU's step does not grow with the batch."""
    points = _batch_sweep(record, "cpu")
    for p in points:
        p["median_s"] = points[0]["median_s"]


def loss_log_on_device_is_faster(record: dict) -> None:
    """The on-device loss log beats reading loss.item() every epoch."""
    rows = {r["name"]: r for r in record["measurements"]["remedies"]["results"]}
    course = rows["course loop (item every epoch)"]
    rows["loss log kept on device"]["epoch_time_per_model_s"] = (
        0.8 * course["epoch_time_per_model_s"]
    )


def _copies(record: dict, memory: str) -> list[dict]:
    return [p for p in record["measurements"]["transfer"]["points"] if p["memory"] == memory]


def pinned_copies_are_slower(record: dict) -> None:
    """Pinned copies reach a quarter of their bandwidth: pageable ones are faster."""
    for p in _copies(record, "pinned"):
        p["median_s"] *= 4
        p["bandwidth_gb_s"] /= 4


def every_byte_costs_from_the_first(record: dict) -> None:
    """A pinned host->device copy's time grows with its bytes from 4 B on: no flat start."""
    copies = [p for p in _copies(record, "pinned") if p["direction"] == "host->device"]
    least = min(p["median_s"] for p in copies)
    for p in copies:
        p["median_s"] = least * p["size_bytes"] / 4


def launches_outlast_the_epoch(record: dict) -> None:
    """Each launch costs 1 ms: the launch floor is longer than the whole recorded epoch."""
    launch = record["measurements"]["launch"]
    launch["per_op"]["queued"]["median_s"] = 1e-3
    launch["floor_s"] = 1e-3 * launch["launches_per_step"]


def course_step_three_times_slower(record: dict) -> None:
    """The GPU's course loop took three times as long: the prediction lands at a third."""
    gpu = next(r for r in _runs(record, "training") if r["device"] != "cpu")
    gpu["epoch_time_s"], gpu["wall_time_s"] = 3 * gpu["epoch_time_s"], 3 * gpu["wall_time_s"]


def gpu_loss_differs(record: dict) -> None:
    """The GPU's course loop ended at a loss 0.01 higher than its host's: not the same
    computation."""
    gpu = next(r for r in _runs(record, "training") if r["device"] != "cpu")
    gpu["final_loss"] += 0.01


def pinned_copies_beat_the_link(record: dict) -> None:
    """Pinned copies run ten times as fast: beyond the PCIe link's theoretical bandwidth."""
    for p in _copies(record, "pinned"):
        p["median_s"] /= 10
        p["bandwidth_gb_s"] *= 10


def _epoch_at(record: dict, every: int | None, seconds: float) -> None:
    _record_every(record, every)["epoch_time_s"] = seconds


def largest_drop_not_the_last(record: dict) -> None:
    """Reading the loss every 1,000 epochs costs 700 µs an epoch: the largest drop is the step
    from every 100 to every 1,000 epochs, not the last one (the curve still falls at every
    step)."""
    _epoch_at(record, 1000, 700e-6)


def syncs_explain_every_drop(record: dict) -> None:
    """Each epoch costs 600 µs plus 284 µs per sync: every drop is what its syncs cost, the
    largest (the first) no more than that."""
    for r in _runs(record, "record_frequency"):
        syncs = 1_000 // r["record_every"] if r["record_every"] else 0
        r["epoch_time_s"] = 600e-6 + 284e-6 * syncs / 1_000


def loss_log_gap_under_a_launch(record: dict) -> None:
    """The on-device loss log is slower than reading loss.item() by half a launch only."""
    rows = {r["name"]: r for r in record["measurements"]["remedies"]["results"]}
    launch = record["measurements"]["launch"]["per_op"]["queued"]["median_s"]
    course = rows["course loop (item every epoch)"]["epoch_time_per_model_s"]
    rows["loss log kept on device"]["epoch_time_per_model_s"] = course + launch / 2


def gpu_step_triples_by_width_1000(record: dict) -> None:
    """The GPU's step at width 1,000 takes three times its step at the course's width 10."""
    points = record["measurements"]["utilization"]["sweeps"][record["device"]]["width"]
    narrow = next(p for p in points if p["hidden"] == 10)
    for p in points:
        if p["hidden"] == 1_000:
            p["median_s"] = 3 * narrow["median_s"]


def arithmetic_of_two_microseconds(record: dict) -> None:
    """The recorded GPU's arithmetic for one epoch takes 2 µs: its peak is 2,000 times lower."""
    record["measurements"]["breakdown"]["compute_s"] = 2e-6


def gpu_step_of_fifty_nanoseconds(record: dict) -> None:
    """The recorded breakdown measured the GPU's whole step at 50 ns, 50 times its 1 ns of
    arithmetic: compute is 2% of the step, not a sliver."""
    record["measurements"]["breakdown"]["runs"] = [
        {"device": record["device"], "measured_s": 50e-9}
    ]


def no_drift_between_runs(record: dict) -> None:
    """The record-frequency run with no sync took exactly as long an epoch as the remedies'
    no-sync run: no drift between the two runs, smaller than every effect."""
    rows = {r["name"]: r for r in record["measurements"]["remedies"]["results"]}
    seconds = rows["no per-epoch sync"]["epoch_time_per_model_s"]
    _record_every(record, None)["epoch_time_s"] = seconds


def frequencies_timed_in_paired_rounds(record: dict) -> None:
    """The same epoch times, recorded as a later version records them: paired rounds with
    intervals (``sweep``), not runs one after the other."""
    measured = record["measurements"]["record_frequency"]
    variants = [
        {
            "record_every": r["record_every"],
            "syncs_per_block": 1_000 // r["record_every"] if r["record_every"] else 0,
            "epoch_time_s": {
                "estimate": r["epoch_time_s"],
                "low": 0.99 * r["epoch_time_s"],
                "high": 1.01 * r["epoch_time_s"],
            },
        }
        for r in measured["runs"]
    ]
    cost = {"estimate": 80e-6, "low": 70e-6, "high": 90e-6}
    measured["sweep"] = {"block_epochs": 1_000, "variants": variants, "cost_per_sync_s": cost}


# (page, the guard's assertion as it appears in the page, how the record contradicts it)
CASES: list[tuple[str, str, Callable[[dict], None]]] = [
    ("docs/why_gpu_slower.md", "assert runs.device.epoch_s > runs.host.epoch_s", gpu_as_fast_as_its_host),
    ("docs/why_gpu_slower.md", "assert min(runs.device.epoch_s, runs.host.epoch_s) >= 100e-6", epochs_of_tens_of_microseconds),
    ("docs/why_gpu_slower.md", "assert per_epoch[None] < per_epoch[1]", no_sync_is_slower),
    ("docs/why_gpu_slower.md", "assert per_epoch[None] > 0.5 * per_epoch[1]", no_sync_saves_most_of_the_epoch),
    ("docs/why_gpu_slower.md", "assert ratio < 2", gpu_step_grows_with_the_batch),
    ("docs/why_gpu_slower.md", "assert cpu_batch[large] / cpu_batch[small] > max(ratio, 1)", host_step_stays_flat),
    ("examples/training/plot_record_frequency.py", "assert min(drops) > 0", fewer_syncs_cost_more_at_first),
    ("examples/training/plot_record_frequency.py", "assert us[-1] / us[0] > 0.5", no_sync_saves_most_of_the_epoch),
    ("examples/training/plot_record_frequency.py", "assert log_s > item_s", loss_log_on_device_is_faster),
    ("examples/training/plot_cpu_vs_gpu.py", "assert recorded.device_over_host > 1", gpu_as_fast_as_its_host),
    ("examples/overheads/plot_transfer_cost.py", 'assert best["pinned"] > best["pageable"]', pinned_copies_are_slower),
    ("examples/overheads/plot_transfer_cost.py", "assert edge >= 1024", every_byte_costs_from_the_first),
    ("examples/overheads/plot_launch_overhead.py", "assert 0 < floor < epoch", launches_outlast_the_epoch),
    ("examples/your_model/plot_advise.py", "assert 0.5 <= ratio <= 2, (ratio, iris)", course_step_three_times_slower),
    ("docs/index.md", "assert runs.host is not None and runs.device_over_host > 1", gpu_as_fast_as_its_host),
    ("examples/training/plot_cpu_vs_gpu.py", "assert abs(gpu_run.final_loss - cpu_loss) < 1e-3", gpu_loss_differs),
    ("examples/overheads/plot_transfer_cost.py", 'assert best["pinned"] <= theory * 1.05', pinned_copies_beat_the_link),
    ("examples/training/plot_record_frequency.py", "assert big == len(drops) - 1", largest_drop_not_the_last),
    ("examples/training/plot_record_frequency.py", "assert drops[big] > 10 * first_cost * removed[big]", syncs_explain_every_drop),
    ("examples/training/plot_record_frequency.py", "assert log_s - item_s > step.launch_s", loss_log_gap_under_a_launch),
    ("examples/overheads/plot_utilization.py", "assert max(flat) / min(flat) < 2", gpu_step_triples_by_width_1000),
    ("docs/why_gpu_slower.md", 'assert flops / gpu.peak_flops_per_s < 1e-6', arithmetic_of_two_microseconds),
    ("docs/why_gpu_slower.md", "assert cpu_share < 0.25 and gpu_compute / gpu_step_s < 0.01", gpu_step_of_fifty_nanoseconds),
    ("examples/overheads/plot_remedies.py", "assert drift > min(abs(math.log(r.speedup)) for r in gpu_rows[1:])", no_drift_between_runs),
    ("examples/training/plot_record_frequency.py", "assert not gpu.paired", frequencies_timed_in_paired_rounds),
]  # fmt: skip


#: Plants that only shorten a live measurement a page makes before its recorded guards, one
#: that the guard does not read (what the reader sees is unchanged in the docs build).
SHORTENED: dict[str, str] = {
    # The landing page trains the course for 20,000 epochs on this CPU before it reads the
    # record (minutes on a busy machine); its recorded guard needs only that the run exists.
    "docs/index.md": """
import devicelab.training as m
real = m.course_run
m.course_run = lambda device="cpu", **kwargs: real(device, **{**kwargs, "epochs": 200})
""",
}


@pytest.mark.parametrize(
    ("page", "guard", "doctor"),
    CASES,
    ids=[f"{p.split('/')[-1]}:{d.__name__}" for p, _, d in CASES],
)
def test_the_guard_fires_when_the_record_contradicts_its_sentence(page, guard, doctor, tmp_path):
    source = (ROOT / page).read_text(encoding="utf-8")
    assert guard in source, f"{page} no longer has the guard {guard!r}: update this case"
    record = shipped_h100()
    doctor(record)
    done = run_page_with_record(page, record, tmp_path, plant=SHORTENED.get(page))
    fired = fired_guard(done)
    assert fired is not None and fired.startswith(guard), (
        f"{page} with the record doctored by {doctor.__name__} ({doctor.__doc__.strip()}) "
        f"should stop at `{guard}`; it stopped at {fired!r} (exit {done.returncode}):\n"
        f"{done.stdout[-1500:]}\n{done.stderr[-2500:]}"
    )
