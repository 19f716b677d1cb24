"""The cgroup CPU quota: how much CPU time a container or CI runner grants this process."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cgroup_cpu_limit"]


def cgroup_cpu_limit(
    cgroup_root: str | os.PathLike[str] = "/sys/fs/cgroup",
    self_cgroup: str | None = None,
) -> float | None:
    """The CPU quota (in CPUs) that cgroups impose on this process, or None if unlimited.

    The tightest of cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
    along this process's cgroup path and its ancestors. ``os.cpu_count()``,
    ``os.sched_getaffinity`` and torch ignore these quotas, which is how a container ends up
    running more threads than it has CPU time for.

    Parameters
    ----------
    self_cgroup:
        The text of ``/proc/self/cgroup``; read from the system when None.
    """
    root = Path(cgroup_root)
    if self_cgroup is None:
        try:
            self_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return None
    limits: list[float] = []
    for line in self_cgroup.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # cgroup v2 unified hierarchy
            for folder in _ancestors(root, path):
                limit = _read_v2(folder / "cpu.max")
                if limit is not None:
                    limits.append(limit)
        elif "cpu" in controllers.split(","):
            for mount in (root / controllers, root / "cpu", root / "cpu,cpuacct"):
                for folder in _ancestors(mount, path):
                    limit = _read_v1(folder)
                    if limit is not None:
                        limits.append(limit)
    return min(limits) if limits else None


def _ancestors(mount: Path, path: str) -> list[Path]:
    """``mount/path`` and each parent up to ``mount``; inside a container the path is often
    the host's and only ``mount`` itself exists."""
    folders, current = [], Path(path.lstrip("/"))
    while True:
        folders.append(mount / current)
        if current == Path("."):
            return folders
        current = current.parent


def _read_v2(file: Path) -> float | None:
    try:
        quota, _, period = file.read_text().strip().partition(" ")
    except OSError:
        return None
    if quota == "max" or not period:
        return None
    return int(quota) / int(period)


def _read_v1(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None
