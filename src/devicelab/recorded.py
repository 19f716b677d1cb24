"""Named readers for a record's device sections: its copies, its roofline ceilings, its kernels.

The companions of the readers in :mod:`devicelab.results` (which holds the file format and the
course-step readers), for the sections the overhead pages show. Each takes a validated record
(:func:`devicelab.results.newest_record`'s) of any version and returns None where that record
does not carry the section, so a page can say it is not recorded.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "recorded_ceilings",
    "recorded_launches_per_step",
    "recorded_mixed_device_error",
    "recorded_transfer",
]


def recorded_transfer(
    record: dict[str, Any],
) -> tuple[list[dict[str, Any]], int | None, int | None] | None:
    """A record's sweep of host<->device copies, and the PCIe link they crossed.

    Parameters
    ----------
    record:
        A validated results record.

    Returns
    -------
    tuple or None
        ``(points, pcie_generation, pcie_width)``. Each point is a dict with ``size_bytes``,
        ``direction`` (``"host->device"``, ``"device->host"``), ``memory`` (``"pageable"``,
        ``"pinned"``), ``median_s`` and ``bandwidth_gb_s``. The link's generation and width
        are the largest the record's first GPU reported, None when not reported. None when
        the record has no transfer sweep.
    """
    points = record["measurements"].get("transfer", {}).get("points")
    if not points:
        return None
    gpu = (record["hardware"].get("gpus") or [{}])[0]
    return points, gpu.get("pcie_max_generation"), gpu.get("pcie_max_width")


def recorded_ceilings(record: dict[str, Any]) -> dict[str, Any] | None:
    """The roofline ceilings a record measured on its own device, as recorded.

    A plain mapping, since :class:`devicelab.roofline.Ceilings` lives in a higher layer:
    ``Ceilings.from_dict(recorded_ceilings(record))`` rebuilds them.

    Parameters
    ----------
    record:
        A validated results record.

    Returns
    -------
    dict or None
        :meth:`devicelab.roofline.Ceilings.to_dict`'s fields (``peak_flops_per_s``,
        ``peak_bytes_per_s``, ``tf32``, ...). None when the record has no ceilings for its
        device (version 1 records predate them).
    """
    found = record["measurements"].get("roofline", {}).get("ceilings", {})
    return found.get(record["device"])


def recorded_launches_per_step(record: dict[str, Any], deep: bool = False) -> int | None:
    """The kernels one training step launched on a record's device, counted by the profiler.

    Parameters
    ----------
    record:
        A validated results record.
    deep:
        False: the course's 4-h-3 model (``measurements.launch``). True: the 4-h-h-3 model
        with a hidden-to-hidden layer (``measurements.roofline``, version 2 and later).

    Returns
    -------
    int or None
        Kernel launches per step; None when the record did not count them.
    """
    measured = record["measurements"]
    if deep:
        return measured.get("roofline", {}).get("launches_per_step_deep")
    return measured.get("launch", {}).get("launches_per_step")


def recorded_mixed_device_error(record: dict[str, Any]) -> str | None:
    """The error a record's GPU raised for a model on the GPU fed a batch on the CPU.

    Parameters
    ----------
    record:
        A validated results record.

    Returns
    -------
    str or None
        ``"RuntimeError: Expected all tensors to be on the same device, ..."`` verbatim, as the
        recorded torch raised it; None when the record predates the capture or had no GPU.
    """
    section = record.get("measurements", {}).get("mixed_device") or {}
    return section.get("error")
