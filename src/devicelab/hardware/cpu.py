"""The CPU: which design it is (archspec names its microarchitecture from the CPU flags) and
how much of it this process may use (psutil counts the cores; the affinity mask and any cgroup
quota, the CPU time a container or CI runner grants, cut them)."""

from __future__ import annotations

import itertools
import math
import os
import platform
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import archspec.cpu
import archspec.cpu.detect
import psutil
import torch
from archspec.cpu.schema import TARGETS_JSON

from .tables import (
    AMD_MODELS,
    ARM_IMPLEMENTERS,
    ARM_PARTS,
    INTEL_FAMILY6_MODELS,
    INTEL_STEPPING_REFINEMENTS,
    MICROARCH_LABELS,
    NOTABLE_EXTENSIONS,
)

__all__ = ["CPUInfo", "cgroup_cpu_limit", "cpu_info", "parse_cpuinfo"]


@dataclass(frozen=True, kw_only=True)
class CPUInfo:
    """What one CPU is and how much of it this process may use; None where it is not known.

    Attributes
    ----------
    model:
        CPUID's on x86, with ``family`` and ``stepping``; on Arm, the ``CPU part`` number.
    microarchitecture:
        archspec's name for the newest microarchitecture whose features this CPU exposes, e.g.
        ``zen3``: what a compiler may target (a VM that hides flags can make it older).
    usable_cpus:
        CPUs this process may really use: the affinity mask, cut by the cgroup ``cpu_quota``.
    torch_cpu_capability:
        ATen's kernel choice on this CPU: ``DEFAULT``, ``AVX2``, ``AVX512``, ...
    """

    vendor: str
    model_name: str | None
    machine: str
    family: int | None = None
    model: int | None = None
    stepping: int | None = None
    microarchitecture: str
    generation: str
    physical_cores: int | None = None
    logical_cpus: int | None = None
    threads_per_core: int | None = None
    usable_cpus: int | None = None
    cpu_quota: float | None = None
    isa_extensions: tuple[str, ...]
    torch_cpu_capability: str | None = None
    torch_threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {**asdict(self), "isa_extensions": list(self.isa_extensions)}


def _notable(machine: str, features: set[str]) -> tuple[str, ...]:
    family = {"arm64": "aarch64", "amd64": "x86_64", "i686": "x86_64"}.get(machine, machine)
    return tuple(e for e in NOTABLE_EXTENSIONS.get(family, ()) if e in features)


def _generation(
    vendor: str,
    family: int | None,
    model: int | None,
    stepping: int | None,
    implementer: int | None,
    microarchitecture: str,
) -> str:
    # CPUID family/model (and Arm part numbers) come first: they are more reliable than names,
    # which VMs often mask ("Intel(R) Xeon(R) Processor", "AMD EPYC").
    if vendor == "GenuineIntel" and family == 6 and model in INTEL_FAMILY6_MODELS:
        refinements = INTEL_STEPPING_REFINEMENTS.get(model, ()) if stepping is not None else ()
        refined = (label for lowest, label in refinements if stepping >= lowest)
        return f"Intel {next(refined, INTEL_FAMILY6_MODELS[model])}"
    if vendor == "AuthenticAMD" and family is not None and model is not None:
        for fam, first, last, label in AMD_MODELS:
            if family == fam and first <= model <= last:
                return f"AMD {label}"
    if implementer is not None and model is not None and (implementer, model) in ARM_PARTS:
        return ARM_PARTS[(implementer, model)]
    if microarchitecture in MICROARCH_LABELS:
        return MICROARCH_LABELS[microarchitecture]
    return f"{vendor} {microarchitecture}".strip()


def _best_microarchitecture(machine: str, vendor: str, features: set[str], cpu_part: str) -> str:
    """archspec's host() selection, applied to a CPU described by text rather than this one."""
    family = {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)
    # archspec's x86_64 and aarch64 checks compare features only, so they work on a dump from
    # any machine. Its POWER check reads the host, so other families keep their generic name.
    if family not in ("x86_64", "aarch64"):
        return family
    tester = archspec.cpu.detect.COMPATIBILITY_CHECKS[family]
    info = archspec.cpu.detect.partial_uarch(vendor=vendor, features=features, cpu_part=cpu_part)
    candidates = [t for t in archspec.cpu.TARGETS.values() if tester(info, t)]
    if not candidates:
        return family
    generic = max(
        (c for c in candidates if c.vendor == "generic"),
        key=lambda t: (len(t.ancestors), len(t.features)),
    )
    if cpu_part and any(c.cpu_part == cpu_part for c in candidates):
        candidates = [c for c in candidates if c.cpu_part == cpu_part]
    specific = [c for c in candidates if c > generic]
    best = max(specific or [generic], key=lambda t: (len(t.ancestors), len(t.features)))
    return best.name


def _blocks(text: str) -> list[dict[str, str]]:
    """The ``key: value`` entries of a ``/proc/cpuinfo`` dump; a line with no colon ends one."""
    pairs = itertools.groupby(
        (line.partition(":") for line in text.splitlines()), key=lambda p: p[1]
    )
    return [{k.strip(): v.strip() for k, _, v in block} for sep, block in pairs if sep]


def _int(value: str | None, base: int = 10) -> int | None:
    try:
        return int(value, base)
    except (TypeError, ValueError):  # None, or not a number
        return None


def parse_cpuinfo(text: str) -> CPUInfo:
    """Build a :class:`CPUInfo` from a Linux ``/proc/cpuinfo`` dump, of this or another machine.

    Counts a truncated dump cannot give, and what no dump says (usable CPUs, torch's view), are
    None.

    Raises
    ------
    ValueError
        The text is empty, or has no ``processor`` entries with a vendor or Arm implementer.
    """
    if not text.strip():
        raise ValueError("empty text: pass the contents of /proc/cpuinfo from a Linux machine")
    blocks = [b for b in _blocks(text) if "processor" in b]
    if not blocks or not any("vendor_id" in b or "CPU implementer" in b for b in blocks):
        raise ValueError(
            "this does not look like /proc/cpuinfo: no 'processor' entry with a 'vendor_id' "
            "(x86) or 'CPU implementer' (Arm) field. Pass the output of `cat /proc/cpuinfo`."
        )
    first = blocks[0]
    model_name = first.get("model name")
    implementer = _int(first.get("CPU implementer"), 16)
    if implementer is not None:  # Arm
        machine = "aarch64"
        vendor = ARM_IMPLEMENTERS.get(implementer, f"Arm implementer {implementer:#x}")
        family, stepping = None, None
        model = _int(first.get("CPU part"), 16)
        features = set(first.get("Features", "").split())
        archspec_vendor = TARGETS_JSON["conversions"]["arm_vendors"].get(
            first["CPU implementer"], "generic"
        )
        microarch = _best_microarchitecture(
            machine, archspec_vendor, features, first.get("CPU part", "")
        )
    else:  # x86
        machine = "x86_64" if "lm" in first.get("flags", "").split() else "i686"
        vendor = first.get("vendor_id", "unknown")
        family, model = _int(first.get("cpu family")), _int(first.get("model"))
        stepping = _int(first.get("stepping"))
        features = set(first.get("flags", "").split())
        microarch = _best_microarchitecture(machine, vendor, features, "")

    siblings, cores = _int(first.get("siblings")), _int(first.get("cpu cores"))
    threads_per_core = siblings // cores if siblings and cores else None
    # x86 says how many logical CPUs share the first entry's package ("siblings"), so a dump
    # cut short is visible. Arm says nothing of the kind: a single entry may be a truncated
    # dump, so counts need at least two entries there.
    needed = 2 if implementer is not None else siblings  # None: x86 without "siblings"
    complete = needed is not None and len(blocks) >= needed
    logical = len(blocks) if complete else None
    physical = None
    if complete and all("core id" in b and "physical id" in b for b in blocks):
        physical = len({(b["physical id"], b["core id"]) for b in blocks})
    elif complete and implementer is not None:
        physical = logical  # Arm Linux lists each core once; these cores run one thread each
        threads_per_core = 1
    return CPUInfo(
        vendor=vendor,
        model_name=model_name,
        machine=machine,
        family=family,
        model=model,
        stepping=stepping,
        microarchitecture=microarch,
        generation=_generation(vendor, family, model, stepping, implementer, microarch),
        physical_cores=physical,
        logical_cpus=logical,
        threads_per_core=threads_per_core,
        isa_extensions=_notable(machine, features),
    )


def _identity_without_cpuinfo() -> CPUInfo:
    """macOS and Windows have no /proc/cpuinfo: archspec reads sysctl or cpuid instead."""
    host = archspec.cpu.host()
    machine = platform.machine()
    return CPUInfo(
        vendor=host.vendor,
        model_name=archspec.cpu.brand_string(),
        machine=machine,
        microarchitecture=host.name,
        generation=_generation(host.vendor, None, None, None, None, host.name),
        isa_extensions=_notable(machine, set(host.features)),
    )


def cgroup_cpu_limit(
    cgroup_root: str | os.PathLike[str] = "/sys/fs/cgroup",
    self_cgroup: str | None = None,
) -> float | None:
    """The CPU quota (in CPUs) that cgroups impose on this process, or None if unlimited.

    The tightest of cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
    along the cgroup path that ``self_cgroup`` (the text of ``/proc/self/cgroup``, read when
    None) names, and its ancestors. ``os.cpu_count()`` and torch ignore these quotas, which is
    how a container ends up running more threads than it has CPU time for.
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


def cpu_info() -> CPUInfo:
    """Describe this machine's CPU, including what this process may use and torch's view (its
    identity from :func:`parse_cpuinfo` on Linux, from archspec elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    identity = parse_cpuinfo(text) if text.strip() else _identity_without_cpuinfo()

    logical = os.cpu_count()
    physical = psutil.cpu_count(logical=False)
    quota = cgroup_cpu_limit() if platform.system() == "Linux" else None
    # macOS and Windows have no affinity mask to read: every CPU is allowed there
    usable = affinity = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    )
    if quota is not None and affinity is not None:
        usable = max(1, min(affinity, math.ceil(quota)))
    return replace(
        identity,
        machine=platform.machine(),
        physical_cores=physical,
        logical_cpus=logical,
        threads_per_core=logical // physical if logical and physical else None,
        usable_cpus=usable,
        cpu_quota=quota,
        torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
        torch_threads=torch.get_num_threads(),
    )
