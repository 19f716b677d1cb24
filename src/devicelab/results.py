"""Recorded results: the JSON files that carry GPU figures to a site built without a GPU.

A results file is what ``python -m devicelab bench --out FILE`` wrote on one machine, in a
versioned JSON Schema (``schema/results-v3.schema.json``). Every known version is still read; a
page that needs a field only a newer version has must say that it is not recorded yet.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

__all__ = [
    "READABLE_VERSIONS",
    "RecordedCourseRuns",
    "RecordedOverheads",
    "RecordedRun",
    "RecordedSyncSweep",
    "SCHEMA_VERSION",
    "ResultsError",
    "find_results",
    "load_results",
    "newest_record",
    "provenance",
    "recorded_ceilings",
    "record_frequency_epoch_times",
    "recorded_course_runs",
    "recorded_mixed_device_error",
    "recorded_overheads",
    "recorded_remedy_epoch_times",
    "recorded_results",
    "recorded_results_dir",
    "recorded_sweep",
    "recorded_sync_sweep",
    "recorded_transfer",
    "results_schema",
    "save_results",
    "validate_results",
    "write_atomically",
]

#: The version of the results files this package writes.
SCHEMA_VERSION = 3
#: The versions of the results files this package reads.
READABLE_VERSIONS = (1, 2, 3)


class ResultsError(ValueError):
    """A results file is missing, unreadable, malformed, or from a newer devicelab."""


@cache
def results_schema(version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that a results file of ``version`` must satisfy.

    Raises
    ------
    ValueError
        ``version`` is not one of :data:`READABLE_VERSIONS`.
    """
    if version not in READABLE_VERSIONS:
        raise ValueError(f"no results schema version {version!r}; known: {READABLE_VERSIONS}")
    text = resources.files("devicelab").joinpath(f"schema/results-v{version}.schema.json")
    return json.loads(text.read_text())


def validate_results(record: Any, *, source: str = "results") -> dict[str, Any]:
    """Check ``record`` against the schema and return it.

    Raises
    ------
    ResultsError
        It is not a devicelab results record, is from a newer schema version, or breaks the
        schema; the message names the offending field.
    """
    if not isinstance(record, dict) or record.get("schema") != "devicelab.results":
        raise ResultsError(
            f'{source}: not a devicelab results file (no "schema": '
            '"devicelab.results" field). Produce one with '
            "`python -m devicelab bench --out FILE`."
        )
    version = record.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ResultsError(
            f"{source}: written with results schema version {version}, but this "
            f"devicelab reads up to version {SCHEMA_VERSION}. Upgrade devicelab "
            "to read it."
        )
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise ResultsError(
            f"{source}: invalid at schema_version: {version!r} is not one of "
            f"{list(READABLE_VERSIONS)}. Re-create the file with "
            "`python -m devicelab bench --out FILE`."
        )
    validator = jsonschema.Draft202012Validator(results_schema(version))
    errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ResultsError(
            f"{source}: invalid at {where}: {first.message}"
            + (f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else "")
            + ". Re-create the file with `python -m devicelab bench --out FILE`."
        )
    return record


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate one results file.

    Raises
    ------
    ResultsError
        The file is missing, is not JSON, or fails :func:`validate_results`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ResultsError(f"{path}: cannot read the results file ({error.strerror})") from error
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsError(
            f"{path}: corrupt results file, not valid JSON ({error.msg} at line "
            f"{error.lineno}, column {error.colno}). Re-create it with "
            "`python -m devicelab bench --out FILE`."
        ) from error
    return validate_results(record, source=str(path))


def save_results(record: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Validate ``record`` and write it to ``path`` atomically (temp file, then rename).

    Raises
    ------
    ResultsError
        The record fails validation; nothing is written.
    """
    validate_results(record, source="record to save")
    path = Path(path)
    write_atomically(path, json.dumps(record, indent=2, sort_keys=False) + "\n")
    return path


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader never sees
    half a file, and a failed write leaves none behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find_results(
    folder: str | os.PathLike[str], *, backend: str | None = None
) -> list[dict[str, Any]]:
    """Load every ``*.json`` results file in ``folder``, newest first; with ``backend``
    (``"cuda"``, ``"mps"``, ``"cpu"``), only those measured on a device of that kind.

    Raises
    ------
    ResultsError
        A file in the folder is corrupt: a broken record is an error, not something to skip.
    """
    folder = Path(folder)
    records = [load_results(p) | {"_path": str(p)} for p in sorted(folder.glob("*.json"))]
    if backend is not None:
        records = [r for r in records if r["device"].split(":")[0] == backend]
    return sorted(records, key=lambda r: r["created"], reverse=True)


def recorded_results_dir() -> Path:
    """Where the project's recorded results live: ``DEVICELAB_RESULTS_DIR`` when set (the tests
    replay doctored records that way), else the wheel's ``devicelab/recorded``, else the
    checkout's ``results/``."""
    if os.environ.get("DEVICELAB_RESULTS_DIR"):
        return Path(os.environ["DEVICELAB_RESULTS_DIR"])
    bundled = Path(str(resources.files("devicelab"))) / "recorded"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[2] / "results"


def recorded_results(backend: str | None = "cuda") -> list[dict[str, Any]]:
    """The recorded results shipped with devicelab, newest first (see :func:`find_results`);
    empty when none was recorded for ``backend``, and pages must then say so."""
    folder = recorded_results_dir()
    return find_results(folder, backend=backend) if folder.is_dir() else []


def newest_record(backend: str | None = "cuda") -> dict[str, Any] | None:
    """The newest of :func:`recorded_results` for ``backend``, or None when there is none (a
    page must then say so). Its ``"_path"`` names the file it was read from."""
    return next(iter(recorded_results(backend)), None)


def provenance(record: dict[str, Any]) -> str:
    """One line saying where, when, with what and how a record was measured."""
    software = record["software"]
    versions = f"torch {software['torch']}" + (
        f", CUDA {software['cuda']}" if software.get("cuda") else ""
    )
    partial = record.get("partial")  # a bench run that stopped: say so wherever it is shown
    stopped = f", partial (stopped in section {partial['section']})" if partial else ""
    return (
        f"recorded on {record['device_name']} ({record['device']}), {versions}, "
        f"{record['created'][:10]}, by `{record['command']}`{stopped}"
    )


def _not_recorded(what: str, section: str = "that section") -> ResultsError:
    return ResultsError(
        f"this record has no {what}; run `python -m devicelab bench` with {section}"
    )


def record_frequency_epoch_times(record: dict[str, Any]) -> dict[int | None, float]:
    """:func:`recorded_sync_sweep`'s points as ``record_every`` (None: the loss read once, at
    the end) to median seconds per epoch.

    Raises
    ------
    ResultsError
        The record has no record-frequency measurement.
    """
    sweep = recorded_sync_sweep(record)
    return dict(zip(sweep.record_every, sweep.epoch_s, strict=True))


@dataclass(frozen=True, kw_only=True)
class RecordedOverheads:
    """The course step's overheads as a record measured them on its device, any version.

    A field the record lacks is None; a page that shows it must then say it is not recorded.

    Attributes
    ----------
    launch_s, launches_per_step:
        One tiny operator queued on the device (median), and the kernels (GPU) or operator
        calls (CPU) of one course step.
    crossover_width, crossover_batch:
        The hidden width (batch 120) and the batch (width 10) from which the device beat the
        recorded CPU; None when it never did within the sweep, or when not recorded.
    """

    device: str
    device_name: str
    sync_s: float | None
    launch_s: float | None
    launches_per_step: int | None
    peak_flops_per_s: float | None
    course_flops: int | None
    crossover_width: int | None
    crossover_batch: int | None
    breakdown: dict[str, Any] | None

    @property
    def launch_floor_s(self) -> float | None:
        """Launches per step times the cost of one (the step's time before any arithmetic)."""
        if self.launch_s is None or self.launches_per_step is None:
            return None
        return self.launches_per_step * self.launch_s

    @property
    def compute_s(self) -> float | None:
        """The course epoch's arithmetic at the measured peak (its FLOPs over the peak)."""
        if self.peak_flops_per_s is None or self.course_flops is None:
            return None
        return self.course_flops / self.peak_flops_per_s


def recorded_overheads(record: dict[str, Any]) -> RecordedOverheads:
    """Read the course step's overheads on a record's device out of a record of any version."""
    measured, device = record["measurements"], record["device"]
    launch = measured.get("launch", {})
    utilization = measured.get("utilization", {})
    sweep = utilization.get("sweeps", {}).get(device, {})
    points = sweep.get("width", []) + sweep.get("batch", []) or utilization.get("points", [])
    flops = next((p["flops"] for p in points if (p["hidden"], p["batch"]) == (10, 120)), None)
    peak = measured.get("roofline", {}).get("ceilings", {}).get(device, {}).get("peak_flops_per_s")
    old = measured.get("breakdown", {})
    # A version-1 record stored the epoch's arithmetic time (FLOPs over the peak) instead.
    if peak is None and flops and old.get("compute_s"):
        peak = flops / old["compute_s"]
    return RecordedOverheads(
        device=device,
        device_name=record["device_name"],
        sync_s=measured.get("sync", {}).get("median_s"),
        launch_s=launch.get("per_op", {}).get("queued", {}).get("median_s"),
        launches_per_step=launch.get("launches_per_step"),
        peak_flops_per_s=peak,
        course_flops=flops,
        crossover_width=utilization.get("crossover_width"),
        crossover_batch=utilization.get("crossover_batch"),
        breakdown=next((b for b in old.get("runs", []) if b["device"] == device), None),
    )


@dataclass(frozen=True, kw_only=True)
class RecordedRun:
    """One recorded run of the course's loop (``loss.item()`` every epoch) on one device:
    ``wall_s`` the whole run, ``epoch_s`` the median over its timed blocks."""

    device: str
    epochs: int
    wall_s: float
    epoch_s: float
    final_loss: float
    test_accuracy: float


@dataclass(frozen=True)
class RecordedCourseRuns:
    """The course's loop as a record ran it: on the recorded device and on that machine's CPU
    (``host``; None when the record has no CPU run, or is itself a CPU record)."""

    device_name: str
    device: RecordedRun
    host: RecordedRun | None

    @property
    def device_over_host(self) -> float | None:
        """The device run's total time over the host CPU's (above 1, the device was slower)."""
        return None if self.host is None else self.device.wall_s / self.host.wall_s


def recorded_course_runs(record: dict[str, Any]) -> RecordedCourseRuns:
    """The course's 20,000-epoch runs in a record of any version: its device's and its host's.

    Raises
    ------
    ResultsError
        The record has no run of the course's loop on its own device.
    """
    runs = {
        r["device"]: RecordedRun(
            device=r["device"],
            epochs=r["epochs"],
            wall_s=r["wall_time_s"],
            epoch_s=r["epoch_time_s"],
            final_loss=r["final_loss"],
            test_accuracy=r["test_accuracy"],
        )
        for r in record["measurements"].get("training", {}).get("runs", [])
    }
    device = record["device"]
    if device not in runs:
        raise _not_recorded(f"run of the course's loop on {device}", "the training section")
    host = runs.get("cpu") if device != "cpu" else None
    return RecordedCourseRuns(device_name=record["device_name"], device=runs[device], host=host)


@dataclass(frozen=True, kw_only=True)
class RecordedSyncSweep:
    """The ``loss.item()`` homework as a record measured it, one point per frequency
    (``record_every``, None: once, after the run), from the most syncs per epoch to the fewest.

    Attributes
    ----------
    paired:
        True when the points were timed in paired rounds (the bars are bootstrap intervals);
        False when each frequency was a separate full run (the bars are the IQR of its blocks).
    cost_per_sync_s:
        The cost of one sync as ``(estimate, low, high)`` seconds; None for separate runs.
    """

    device_name: str
    record_every: list[int | None]
    syncs_per_1000: list[int]
    epoch_s: list[float]
    low_s: list[float]
    high_s: list[float]
    paired: bool
    cost_per_sync_s: tuple[float, float, float] | None


def recorded_sync_sweep(record: dict[str, Any]) -> RecordedSyncSweep:
    """Read the ``loss.item()`` frequency points of a record of any version.

    Raises
    ------
    ResultsError
        The record has no record-frequency measurement.
    """
    measured = record["measurements"].get("record_frequency")
    if measured is None:
        raise _not_recorded("record_frequency measurement")
    rows: list[tuple[int | None, int, float, float, float]] = []
    if "sweep" in measured:
        sweep = measured["sweep"]
        for v in sweep["variants"]:
            if v.get("syncs_per_block") is None:  # an extra variant, not a frequency
                continue
            t = v["epoch_time_s"]
            syncs = v["syncs_per_block"] * 1_000 // sweep["block_epochs"]
            rows.append((v.get("record_every"), syncs, t["estimate"], t["low"], t["high"]))
        c = sweep["cost_per_sync_s"]
        cost: tuple[float, float, float] | None = (c["estimate"], c["low"], c["high"])
    else:
        for r in measured["runs"]:
            every = r["record_every"]
            syncs = 1_000 // every if every else 0
            half = r["epoch_time_iqr_s"] / 2
            mid = r["epoch_time_s"]
            rows.append((every, syncs, mid, mid - half, mid + half))
        cost = None
    rows.sort(key=lambda row: -row[1])
    return RecordedSyncSweep(
        device_name=record["device_name"],
        record_every=[row[0] for row in rows],
        syncs_per_1000=[row[1] for row in rows],
        epoch_s=[row[2] for row in rows],
        low_s=[row[3] for row in rows],
        high_s=[row[4] for row in rows],
        paired="sweep" in measured,
        cost_per_sync_s=cost,
    )


def recorded_remedy_epoch_times(record: dict[str, Any]) -> dict[str, float]:
    """Median seconds per epoch per model of each remedy in a record, by the remedy's name.

    Raises
    ------
    ResultsError
        The record has no remedies measurement.
    """
    measured = record["measurements"].get("remedies")
    if measured is None:
        raise _not_recorded("remedies measurement")
    rows = measured.get("variants", measured.get("results", []))
    times: dict[str, float] = {}
    for row in rows:
        t = row["epoch_time_per_model_s"]
        times[row["name"]] = t["estimate"] if isinstance(t, dict) else t
    return times


def recorded_sweep(
    record: dict[str, Any], axis: str = "batch", device: str | None = None
) -> dict[int, float]:
    """One utilisation sweep of a record: each size (batch or hidden width), smallest first, to
    the median seconds of one training step.

    Parameters
    ----------
    axis:
        ``"batch"`` (the course's width 10, the batch growing), ``"width"`` (batch 120, the
        hidden width growing) or ``"deep"`` (the hidden-to-hidden model, version 2 and later).
    device:
        The device swept: the record's own (None) or ``"cpu"``, its host.

    Raises
    ------
    ResultsError
        The record has no such sweep.
    """
    device = record["device"] if device is None else device
    sweeps = record["measurements"].get("utilization", {}).get("sweeps", {})
    points = sweeps.get(device, {}).get(axis)
    if not points:
        raise _not_recorded(f"{axis!r} utilisation sweep on {device}", "the utilization section")
    key = "batch" if axis == "batch" else "hidden"
    return {p[key]: p["median_s"] for p in sorted(points, key=lambda p: p[key])}


def recorded_transfer(
    record: dict[str, Any],
) -> tuple[list[dict[str, Any]], int | None, int | None] | None:
    """A record's sweep of host<->device copies, and the PCIe link they crossed.

    Returns ``(points, pcie_generation, pcie_width)``: each point a dict with ``size_bytes``,
    ``direction``, ``memory``, ``median_s`` and ``bandwidth_gb_s``; the link as the record's
    first GPU reported it (None when not reported).
    """
    points = record["measurements"].get("transfer", {}).get("points")
    if not points:
        return None
    gpu = (record["hardware"].get("gpus") or [{}])[0]
    return points, gpu.get("pcie_max_generation"), gpu.get("pcie_max_width")


def recorded_ceilings(record: dict[str, Any]) -> dict[str, Any] | None:
    """The roofline ceilings a record measured on its own device, as recorded.

    A plain mapping, since :class:`devicelab.roofline.Ceilings` lives in a higher layer:
    ``Ceilings.from_dict(recorded_ceilings(record))`` rebuilds them. None before version 2.
    """
    found = record["measurements"].get("roofline", {}).get("ceilings", {})
    return found.get(record["device"])


def recorded_mixed_device_error(record: dict[str, Any]) -> str | None:
    """The error, verbatim, that a record's GPU raised for a model on the GPU fed a batch on
    the CPU (None when the record predates the capture or had no GPU)."""
    section = record.get("measurements", {}).get("mixed_device") or {}
    return section.get("error")
