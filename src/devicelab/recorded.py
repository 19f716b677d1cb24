"""Named readers for a record's device sections: its copies, its roofline ceilings, its errors.

The companions of :mod:`devicelab.results`'s readers. Each takes a validated record of any
version and returns None where that record does not carry the section, so a page can say it
is not recorded.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "recorded_ceilings",
    "recorded_mixed_device_error",
    "recorded_transfer",
]


def recorded_transfer(
    record: dict[str, Any],
) -> tuple[list[dict[str, Any]], int | None, int | None] | None:
    """A record's sweep of host<->device copies, and the PCIe link they crossed.

    Returns
    -------
    tuple or None
        ``(points, pcie_generation, pcie_width)``. Each point is a dict with ``size_bytes``,
        ``direction`` (``"host->device"``, ``"device->host"``), ``memory`` (``"pageable"``,
        ``"pinned"``), ``median_s`` and ``bandwidth_gb_s``. The link is the largest the
        record's first GPU reported (None when not reported).
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
