"""Recorded results: the JSON files that carry GPU figures to a site built without a GPU.

A results file is what ``python -m devicelab bench --out FILE`` wrote on one machine. Its
format is a versioned JSON Schema in this package (``schema/results-v3.schema.json``;
``results-v2`` for files written before the calibration, the first step and the communication
sections, ``results-v1`` before the step breakdown and the roofline): the
measurements, plus the provenance that makes them trustworthy (hardware report, software
versions, UTC date, the command). Every version this devicelab knows is still read; a page
that needs a field only a newer version has must say that it is not recorded yet. :func:`load_results` refuses anything else with a message
that says what is wrong; :func:`save_results` validates first and writes atomically, so a
failed write never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

__all__ = [
    "READABLE_VERSIONS",
    "SCHEMA_VERSION",
    "ResultsError",
    "find_results",
    "load_results",
    "newest_record",
    "provenance",
    "record_frequency_epoch_times",
    "recorded_results",
    "recorded_results_dir",
    "results_schema",
    "save_results",
    "validate_results",
]

SCHEMA_VERSION = 3
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2, sort_keys=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def find_results(
    folder: str | os.PathLike[str], *, backend: str | None = None
) -> list[dict[str, Any]]:
    """Load every ``*.json`` results file in ``folder``, newest first.

    Parameters
    ----------
    folder:
        Typically the repository's ``results/``.
    backend:
        Keep only records measured on a device of this kind: ``"cuda"``, ``"mps"``, ``"cpu"``.

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
    """Where the project's recorded results live.

    In a checkout of the repository (including an editable install) that is its ``results/``
    folder; a wheel carries the same files inside the package, as ``devicelab/recorded``.
    """
    bundled = Path(str(resources.files("devicelab"))) / "recorded"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[2] / "results"


def recorded_results(backend: str | None = "cuda") -> list[dict[str, Any]]:
    """The recorded results shipped with devicelab, newest first (see :func:`find_results`).

    Returns an empty list when none was recorded for ``backend``; pages must then say so.
    """
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
    return (
        f"recorded on {record['device_name']} ({record['device']}), {versions}, "
        f"{record['created'][:10]}, by `{record['command']}`"
    )


def record_frequency_epoch_times(record: dict[str, Any]) -> dict[int | None, float]:
    """Median seconds per epoch at each ``loss.item()`` frequency of a record, whatever its
    version: ``record_every`` (None: the loss read once, at the end) to seconds.

    Version 1 timed each frequency as a separate full run; version 2 times them in paired
    rounds (``measurements.record_frequency.sweep``), whose median is used here.

    Raises
    ------
    ResultsError
        The record has no record-frequency measurement.
    """
    measured = record["measurements"].get("record_frequency")
    if measured is None:
        raise ResultsError(
            "this record has no record_frequency measurement; run "
            "`python -m devicelab bench` with that section"
        )
    if "sweep" in measured:
        return {
            v["record_every"]: v["epoch_time_s"]["estimate"]
            for v in measured["sweep"]["variants"]
            if v["syncs_per_block"] is not None
        }
    return {r["record_every"]: r["epoch_time_s"] for r in measured["runs"]}
