"""Reading a machine: the CPU and the GPUs, the way an expert would.

CPU: *which* design it is (vendor, family/model, the microarchitecture a compiler can target
and a generation a person recognises), *how many* execution resources it has (physical cores,
hardware threads) and how many of them this process may really use (the affinity mask and any
cgroup CPU quota, which containers and CI runners set).

GPU: memory, architecture generation (from the CUDA compute capability) and market tier, plus
the multiprocessor count, L2 cache and PCIe link where the backend can tell. A field a backend
cannot know is None, never a guess.

Libraries do the parts they do best: archspec names microarchitectures from CPU flags, psutil
counts physical cores, and nvidia-ml-py (optional) reads the PCIe link from NVML.
"""

from __future__ import annotations

import math
import os
import platform
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import archspec.cpu
import archspec.cpu.detect
import psutil
import torch
from archspec.cpu.schema import TARGETS_JSON

__all__ = [
    "CPUInfo",
    "GPUInfo",
    "cgroup_cpu_limit",
    "cpu_info",
    "gpu_architecture",
    "gpu_info",
    "gpu_tier",
    "machine_report",
    "parse_cpuinfo",
]

# The vector and matrix extensions that decide which kernels a CPU can run, in display order.
# x86 and Arm flag names overlap ("sme" is AMD memory encryption on x86, the Scalable Matrix
# Extension on Arm), so each family has its own list.
NOTABLE_EXTENSIONS = {
    "x86_64": ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
               "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8"),
    "aarch64": ("asimd", "asimddp", "sve", "sve2", "bf16", "i8mm", "sme", "sme2"),
}  # fmt: skip


def _notable(machine: str, features: set[str]) -> tuple[str, ...]:
    family = {"arm64": "aarch64", "amd64": "x86_64", "i686": "x86_64"}.get(machine, machine)
    return tuple(e for e in NOTABLE_EXTENSIONS.get(family, ()) if e in features)


@dataclass(frozen=True)
class CPUInfo:
    """What one CPU is and how much of it this process may use.

    Attributes
    ----------
    vendor:
        ``GenuineIntel``, ``AuthenticAMD``, ``ARM``, ``Apple``, ...
    model_name:
        The marketing name, or None where the platform does not report one (Arm Linux).
    machine:
        The instruction-set family: ``x86_64``, ``aarch64``, ``arm64``, ...
    family, model, stepping:
        CPUID family/model/stepping on x86 (the most reliable way to tell generations apart).
        On Arm, ``model`` holds the ``CPU part`` number. None where the platform lacks them.
    microarchitecture:
        archspec's name for the newest microarchitecture whose features this CPU exposes,
        e.g. ``zen3``, ``icelake``, ``neoverse_v2``: what a compiler may target. A VM that
        hides a few flags can make it older than the silicon.
    generation:
        A label a person recognises, e.g. ``"AMD Zen 3 (Ryzen 5000 Vermeer)"``.
    physical_cores, logical_cpus, threads_per_core:
        Machine-wide counts. ``logical_cpus = physical_cores * threads_per_core``.
    usable_cpus:
        CPUs this process may really use: the affinity mask, further cut by a cgroup quota.
    cpu_quota:
        The cgroup CPU quota in CPUs (e.g. 1.5), or None when no quota is set.
    isa_extensions:
        The notable vector/matrix extensions present (see ``NOTABLE_EXTENSIONS``).
    torch_cpu_capability:
        ATen's kernel choice on this CPU: ``DEFAULT``, ``AVX2``, ``AVX512``, ``SVE256``, ...
    torch_threads:
        ``torch.get_num_threads()``: the intra-op thread pool size.
    """

    vendor: str
    model_name: str | None
    machine: str
    family: int | None
    model: int | None
    stepping: int | None
    microarchitecture: str
    generation: str
    physical_cores: int | None
    logical_cpus: int | None
    threads_per_core: int | None
    usable_cpus: int | None
    cpu_quota: float | None
    isa_extensions: tuple[str, ...]
    torch_cpu_capability: str | None
    torch_threads: int | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {**asdict(self), "isa_extensions": list(self.isa_extensions)}


@dataclass(frozen=True)
class GPUInfo:
    """One GPU as torch (and NVML, when installed) sees it.

    Attributes
    ----------
    index:
        Device index: ``cuda:<index>`` in torch.
    name:
        The marketing name, e.g. ``"NVIDIA H100 80GB HBM3"``.
    backend:
        ``"cuda"`` (NVIDIA), ``"rocm"`` (AMD through torch's HIP build) or ``"mps"`` (Apple).
    total_memory_bytes, free_memory_bytes:
        Device memory; free memory counts every process on the device.
    compute_capability:
        CUDA ``(major, minor)``; None on ROCm and MPS.
    architecture:
        ``"Hopper"``, ``"Ampere"``, ``"CDNA 3"``, ... or ``"unknown (...)"``.
    tier:
        ``"data center"``, ``"workstation"``, ``"consumer"``, ``"embedded"``, ``"integrated"``
        or ``"unknown"``.
    multiprocessors:
        Streaming multiprocessors (NVIDIA) or compute units (AMD).
    l2_cache_bytes:
        L2 cache size, where torch reports it.
    pcie_generation, pcie_width:
        The PCIe link *right now* (NVML; an idle GPU may drop to a lower generation to save
        power). None without NVML, or on a non-PCIe (SXM/NVLink-C2C) link NVML cannot read.
    pcie_max_generation, pcie_max_width:
        The fastest link the GPU and its slot support (NVML).
    """

    index: int
    name: str
    backend: str
    total_memory_bytes: int | None
    free_memory_bytes: int | None
    compute_capability: tuple[int, int] | None
    architecture: str
    tier: str
    multiprocessors: int | None
    l2_cache_bytes: int | None
    pcie_generation: int | None
    pcie_width: int | None
    pcie_max_generation: int | None = None
    pcie_max_width: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        data = asdict(self)
        if self.compute_capability is not None:
            data["compute_capability"] = list(self.compute_capability)
        return data


# ---------------------------------------------------------------------------------------------
# CPU generations. Intel: family 6 model numbers; AMD: (family, model range). These are more
# reliable than names, which VMs often mask ("Intel(R) Xeon(R) Processor", "AMD EPYC").
# ---------------------------------------------------------------------------------------------
_INTEL_FAMILY6 = {
    0x2A: "Sandy Bridge (2nd gen Core)",
    0x2D: "Sandy Bridge-EP (Xeon E5 v1)",
    0x3A: "Ivy Bridge (3rd gen Core)",
    0x3E: "Ivy Bridge-EP (Xeon E5 v2)",
    0x3C: "Haswell (4th gen Core)",
    0x45: "Haswell (4th gen Core)",
    0x46: "Haswell (4th gen Core)",
    0x3F: "Haswell-EP (Xeon E5 v3)",
    0x3D: "Broadwell (5th gen Core)",
    0x47: "Broadwell (5th gen Core)",
    0x4F: "Broadwell-EP (Xeon E5 v4)",
    0x4E: "Skylake (6th gen Core)",
    0x5E: "Skylake (6th gen Core)",
    0x55: "Skylake-SP (1st gen Xeon Scalable)",  # refined by stepping below
    0x8E: "Kaby/Coffee Lake (7th-9th gen Core)",
    0x9E: "Kaby/Coffee Lake (7th-9th gen Core)",
    0xA5: "Comet Lake (10th gen Core)",
    0xA6: "Comet Lake (10th gen Core)",
    0x7D: "Ice Lake (10th gen Core)",
    0x7E: "Ice Lake (10th gen Core)",
    0x6A: "Ice Lake-SP (3rd gen Xeon Scalable)",
    0x6C: "Ice Lake-SP (3rd gen Xeon Scalable)",
    0x8C: "Tiger Lake (11th gen Core)",
    0x8D: "Tiger Lake (11th gen Core)",
    0xA7: "Rocket Lake (11th gen Core)",
    0x97: "Alder Lake (12th gen Core)",
    0x9A: "Alder Lake (12th gen Core)",
    0xB7: "Raptor Lake (13th/14th gen Core)",
    0xBA: "Raptor Lake (13th/14th gen Core)",
    0xBF: "Raptor Lake (13th/14th gen Core)",
    0xAA: "Meteor Lake (Core Ultra series 1)",
    0xAC: "Meteor Lake (Core Ultra series 1)",
    0xBD: "Lunar Lake (Core Ultra 200V)",
    0xC5: "Arrow Lake (Core Ultra 200S)",
    0xC6: "Arrow Lake (Core Ultra 200S)",
    0x8F: "Sapphire Rapids (4th gen Xeon Scalable)",
    0xCF: "Emerald Rapids (5th gen Xeon Scalable)",
    0xAD: "Granite Rapids (Xeon 6 P-core)",
    0xAE: "Granite Rapids (Xeon 6 P-core)",
    0xAF: "Sierra Forest (Xeon 6 E-core)",
}

# (family, first model, last model, label)
_AMD_MODELS = (
    (0x17, 0x00, 0x0F, "Zen (EPYC 7001 Naples / Ryzen 1000)"),
    (0x17, 0x10, 0x2F, "Zen / Zen+ (Ryzen 2000-3000 APU / Ryzen 2000)"),
    (0x17, 0x30, 0x3F, "Zen 2 (EPYC 7002 Rome)"),
    (0x17, 0x40, 0xAF, "Zen 2 (Ryzen 3000-5000 / Threadripper 3000)"),
    (0x19, 0x00, 0x0F, "Zen 3 (EPYC 7003 Milan / Threadripper 5000)"),
    (0x19, 0x10, 0x1F, "Zen 4 (EPYC 9004 Genoa / Threadripper 7000)"),
    (0x19, 0x20, 0x2F, "Zen 3 (Ryzen 5000 Vermeer)"),
    (0x19, 0x40, 0x4F, "Zen 3+ (Ryzen 6000 Rembrandt)"),
    (0x19, 0x50, 0x5F, "Zen 3 (Ryzen 5000 Cezanne APU)"),
    (0x19, 0x60, 0x6F, "Zen 4 (Ryzen 7000 Raphael)"),
    (0x19, 0x70, 0x7F, "Zen 4 (Ryzen 7040/8040 Phoenix)"),
    (0x19, 0xA0, 0xAF, "Zen 4c (EPYC 9004 Bergamo / 8004 Siena)"),
    (0x1A, 0x00, 0x1F, "Zen 5 (EPYC 9005 Turin)"),
    (0x1A, 0x20, 0x2F, "Zen 5 (Ryzen AI 300 Strix Point)"),
    (0x1A, 0x40, 0x4F, "Zen 5 (Ryzen 9000 Granite Ridge)"),
    (0x1A, 0x60, 0x7F, "Zen 5 (Ryzen AI Max / Krackan)"),
)

# Arm "CPU implementer" codes and part numbers (Linux /proc/cpuinfo on Arm).
_ARM_IMPLEMENTERS = {0x41: "ARM", 0x61: "Apple", 0x48: "HiSilicon", 0x46: "Fujitsu",
                     0xC0: "Ampere", 0x51: "Qualcomm", 0x4E: "NVIDIA"}  # fmt: skip
_ARM_PARTS = {
    (0x41, 0xD08): "Arm Cortex-A72",
    (0x41, 0xD0C): "Arm Neoverse N1 (e.g. AWS Graviton2, Ampere Altra)",
    (0x41, 0xD40): "Arm Neoverse V1 (e.g. AWS Graviton3)",
    (0x41, 0xD49): "Arm Neoverse N2",
    (0x41, 0xD4F): "Arm Neoverse V2 (e.g. NVIDIA Grace, AWS Graviton4)",
    (0x41, 0xD84): "Arm Neoverse V3",
}

# archspec microarchitecture names -> a readable label, used when no table above matches.
_MICROARCH_LABELS = {
    "zen": "AMD Zen", "zen2": "AMD Zen 2", "zen3": "AMD Zen 3", "zen4": "AMD Zen 4",
    "zen5": "AMD Zen 5", "zen6": "AMD Zen 6", "m1": "Apple M1", "m2": "Apple M2",
    "m3": "Apple M3", "m4": "Apple M4", "neoverse_n1": "Arm Neoverse N1",
    "neoverse_v1": "Arm Neoverse V1", "neoverse_v2": "Arm Neoverse V2",
    "neoverse_n2": "Arm Neoverse N2", "a64fx": "Fujitsu A64FX",
}  # fmt: skip


def _generation(vendor: str, family: int | None, model: int | None, stepping: int | None,
                implementer: int | None, microarchitecture: str) -> str:  # fmt: skip
    if vendor == "GenuineIntel" and family == 6 and model in _INTEL_FAMILY6:
        label = _INTEL_FAMILY6[model]
        if model == 0x55 and stepping is not None:
            if stepping >= 10:
                label = "Cooper Lake (3rd gen Xeon Scalable)"
            elif stepping >= 5:
                label = "Cascade Lake (2nd gen Xeon Scalable)"
        return f"Intel {label}"
    if vendor == "AuthenticAMD" and family is not None and model is not None:
        for fam, first, last, label in _AMD_MODELS:
            if family == fam and first <= model <= last:
                return f"AMD {label}"
    if implementer is not None and model is not None and (implementer, model) in _ARM_PARTS:
        return _ARM_PARTS[(implementer, model)]
    if microarchitecture in _MICROARCH_LABELS:
        return _MICROARCH_LABELS[microarchitecture]
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
    generic = max((c for c in candidates if c.vendor == "generic"),
                  key=lambda t: (len(t.ancestors), len(t.features)))  # fmt: skip
    if cpu_part and any(c.cpu_part == cpu_part for c in candidates):
        candidates = [c for c in candidates if c.cpu_part == cpu_part]
    specific = [c for c in candidates if c > generic]
    best = max(specific or [generic], key=lambda t: (len(t.ancestors), len(t.features)))
    return best.name


def _blocks(text: str) -> list[dict[str, str]]:
    blocks, current = [], {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            if current:
                blocks.append(current)
                current = {}
            continue
        current[key.strip()] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _int(value: str | None, base: int = 10) -> int | None:
    if value is None:
        return None
    try:
        return int(value, base)
    except ValueError:
        return None


def parse_cpuinfo(text: str) -> CPUInfo:
    """Build a :class:`CPUInfo` from a Linux ``/proc/cpuinfo`` dump, of this or another machine.

    Counts are derived only when the dump allows it: ``logical_cpus`` and ``physical_cores``
    need every processor entry (a dump of the first entry alone leaves them None), and
    ``threads_per_core`` needs x86's ``siblings`` and ``cpu cores``. What a dump cannot say
    (usable CPUs, quotas, torch's view) is None.

    Raises
    ------
    ValueError
        The text is empty, or has no ``processor`` entries with a vendor or Arm implementer.
    """
    if not text or not text.strip():
        raise ValueError("empty text: pass the contents of /proc/cpuinfo from a Linux machine")
    blocks = [b for b in _blocks(text) if "processor" in b]
    if not blocks or not any("vendor_id" in b or "CPU implementer" in b for b in blocks):
        raise ValueError(
            "this does not look like /proc/cpuinfo: no 'processor' entry with a 'vendor_id' "
            "(x86) or 'CPU implementer' (Arm) field. Pass the output of `cat /proc/cpuinfo`."
        )
    first = blocks[0]
    implementer = _int(first.get("CPU implementer"), 16)
    if implementer is not None:  # Arm
        machine = "aarch64"
        vendor = _ARM_IMPLEMENTERS.get(implementer, f"Arm implementer {implementer:#x}")
        family, stepping = None, None
        model = _int(first.get("CPU part"), 16)
        features = set(first.get("Features", "").split())
        model_name = first.get("model name")
        archspec_vendor = TARGETS_JSON["conversions"]["arm_vendors"].get(
            first["CPU implementer"], "generic"
        )
        microarch = _best_microarchitecture(machine, archspec_vendor, features,
                                            first.get("CPU part", ""))  # fmt: skip
    else:  # x86
        machine = "x86_64" if "lm" in first.get("flags", "").split() else "i686"
        vendor = first.get("vendor_id", "unknown")
        family, model = _int(first.get("cpu family")), _int(first.get("model"))
        stepping = _int(first.get("stepping"))
        features = set(first.get("flags", "").split())
        model_name = first.get("model name")
        microarch = _best_microarchitecture(machine, vendor, features, "")

    siblings, cores = _int(first.get("siblings")), _int(first.get("cpu cores"))
    threads_per_core = siblings // cores if siblings and cores else None
    # x86 says how many logical CPUs share the first entry's package ("siblings"), so a dump
    # cut short is visible. Arm says nothing of the kind: a single entry may be a truncated
    # dump, so counts need at least two entries there.
    if implementer is None:
        complete = siblings is not None and len(blocks) >= siblings
    else:
        complete = len(blocks) >= 2
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
        usable_cpus=None,
        cpu_quota=None,
        isa_extensions=_notable(machine, features),
        torch_cpu_capability=None,
        torch_threads=None,
    )


def cgroup_cpu_limit(
    cgroup_root: str | os.PathLike[str] = "/sys/fs/cgroup",
    self_cgroup: str | None = None,
) -> float | None:
    """The CPU quota (in CPUs) that cgroups impose on this process, or None if unlimited.

    Reads cgroup v2 ``cpu.max`` (``"max 100000"`` or ``"150000 100000"``) or cgroup v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` along this process's cgroup path and its
    ancestors, and returns the tightest limit. ``os.cpu_count()``, ``os.sched_getaffinity`` and
    torch all ignore these quotas, which is how a container ends up running more threads than
    it has CPU time for.

    Parameters
    ----------
    cgroup_root:
        Where the cgroup file system is mounted.
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


def _affinity_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def _identity_without_cpuinfo() -> CPUInfo:
    """macOS and Windows have no /proc/cpuinfo: archspec reads sysctl or cpuid instead."""
    host = archspec.cpu.host()
    machine = platform.machine()
    return CPUInfo(
        vendor=host.vendor,
        model_name=archspec.cpu.brand_string(),
        machine=machine,
        family=None,
        model=None,
        stepping=None,
        microarchitecture=host.name,
        generation=_generation(host.vendor, None, None, None, None, host.name),
        physical_cores=None,
        logical_cpus=None,
        threads_per_core=None,
        usable_cpus=None,
        cpu_quota=None,
        isa_extensions=_notable(machine, set(host.features)),
        torch_cpu_capability=None,
        torch_threads=None,
    )


def cpu_info() -> CPUInfo:
    """Describe this machine's CPU, including what this process may use and torch's view.

    The identity comes from :func:`parse_cpuinfo` on Linux (from archspec elsewhere); the
    counts, quota and torch's view are read live. Fast (a few milliseconds): no process is
    spawned on Linux.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    identity = parse_cpuinfo(text) if text.strip() else _identity_without_cpuinfo()

    logical = os.cpu_count()
    physical = psutil.cpu_count(logical=False)
    quota = cgroup_cpu_limit() if platform.system() == "Linux" else None
    affinity = _affinity_count()
    usable = affinity
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


# ---------------------------------------------------------------------------------------------
# GPUs
# ---------------------------------------------------------------------------------------------
_CUDA_ARCHITECTURES = {
    (3, 0): "Kepler", (3, 2): "Kepler", (3, 5): "Kepler", (3, 7): "Kepler",
    (5, 0): "Maxwell", (5, 2): "Maxwell", (5, 3): "Maxwell",
    (6, 0): "Pascal", (6, 1): "Pascal", (6, 2): "Pascal",
    (7, 0): "Volta", (7, 2): "Volta", (7, 5): "Turing",
    (8, 0): "Ampere", (8, 6): "Ampere", (8, 7): "Ampere", (8, 9): "Ada Lovelace",
    (9, 0): "Hopper",
    (10, 0): "Blackwell", (10, 3): "Blackwell", (11, 0): "Blackwell",
    (12, 0): "Blackwell", (12, 1): "Blackwell",
}  # fmt: skip

_ROCM_ARCHITECTURES = {
    "gfx906": "GCN 5 (Vega 20)", "gfx908": "CDNA", "gfx90a": "CDNA 2", "gfx940": "CDNA 3",
    "gfx941": "CDNA 3", "gfx942": "CDNA 3", "gfx950": "CDNA 4", "gfx1030": "RDNA 2",
    "gfx1100": "RDNA 3", "gfx1101": "RDNA 3", "gfx1102": "RDNA 3", "gfx1200": "RDNA 4",
    "gfx1201": "RDNA 4",
}  # fmt: skip


def gpu_architecture(major: int, minor: int) -> str:
    """Name the NVIDIA architecture of a CUDA compute capability.

    Covers Kepler (3.x) to Blackwell (10.x-12.x). A capability not in the table gives
    ``"unknown (sm_XY)"`` rather than a guess.

    >>> gpu_architecture(9, 0)
    'Hopper'
    >>> gpu_architecture(8, 9)
    'Ada Lovelace'
    """
    return _CUDA_ARCHITECTURES.get((major, minor), f"unknown (sm_{major}{minor})")


_TIER_PATTERNS = (
    ("embedded", r"jetson|orin|xavier|tegra|\bthor\b|\bdrive\b"),
    ("integrated", r"^apple|\bintel\b.*(uhd|iris|arc graphics)|radeon(\(tm\))? graphics$|\b\d{3}m\b"),
    ("workstation", r"quadro|rtx a\d{3,4}|rtx \d{4} ada|rtx pro|radeon pro|\bgb10\b|\bt\d{3,4}\b"),
    ("data center", r"\b(h100|h200|h20|h800|gh200|a100|a800|a40|a30|a16|a10g?|a2|l4|l40s?|l20|"
                    r"t4|v100|p100|p40|p4|k80|m60|b100|b200|b300|gb200|gb300)\b|tesla|instinct|"
                    r"\bmi\d{2,3}"),
    ("consumer", r"geforce|\brtx\s?\d{4}|\bgtx\b|titan|radeon rx|\barc a\d{3}"),
)  # fmt: skip


def gpu_tier(name: str) -> str:
    """Classify a GPU's market tier from its marketing name.

    Returns one of ``"data center"``, ``"workstation"``, ``"consumer"``, ``"embedded"``,
    ``"integrated"`` or ``"unknown"``.

    >>> gpu_tier("NVIDIA H100 80GB HBM3")
    'data center'
    >>> gpu_tier("NVIDIA GeForce RTX 3080 Ti")
    'consumer'
    """
    lowered = name.lower().replace("nvidia ", "").strip()
    for tier, pattern in _TIER_PATTERNS:
        if re.search(pattern, lowered):
            return tier
    return "unknown"


def _nvml_pcie(index: int) -> tuple[int | None, int | None, int | None, int | None]:
    """(current gen, current width, max gen, max width) from NVML, or Nones without it."""
    try:
        import pynvml  # provided by nvidia-ml-py (optional extra "nvml")
    except ImportError:
        return None, None, None, None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return None, None, None, None
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        readings = []
        for call in ("nvmlDeviceGetCurrPcieLinkGeneration", "nvmlDeviceGetCurrPcieLinkWidth",
                     "nvmlDeviceGetMaxPcieLinkGeneration", "nvmlDeviceGetMaxPcieLinkWidth"):  # fmt: skip
            try:
                readings.append(int(getattr(pynvml, call)(handle)))
            except pynvml.NVMLError:
                readings.append(None)
        return tuple(readings)  # type: ignore[return-value]
    except pynvml.NVMLError:
        return None, None, None, None
    finally:
        pynvml.nvmlShutdown()


def _cuda_gpu(index: int) -> GPUInfo:
    props = torch.cuda.get_device_properties(index)
    rocm = torch.version.hip is not None
    try:
        free, total = torch.cuda.mem_get_info(index)
    except RuntimeError:
        free, total = None, props.total_memory
    if rocm:
        arch_name = getattr(props, "gcnArchName", "").split(":")[0]
        architecture = _ROCM_ARCHITECTURES.get(arch_name, f"unknown ({arch_name or 'gfx?'})")
        capability = None
        pcie = (None, None, None, None)
    else:
        capability = (props.major, props.minor)
        architecture = gpu_architecture(props.major, props.minor)
        pcie = _nvml_pcie(index)
    l2 = getattr(props, "L2_cache_size", None)
    return GPUInfo(
        index=index,
        name=props.name,
        backend="rocm" if rocm else "cuda",
        total_memory_bytes=total,
        free_memory_bytes=free,
        compute_capability=capability,
        architecture=architecture,
        tier=gpu_tier(props.name),
        multiprocessors=props.multi_processor_count,
        l2_cache_bytes=l2 if l2 else None,
        pcie_generation=pcie[0],
        pcie_width=pcie[1],
        pcie_max_generation=pcie[2],
        pcie_max_width=pcie[3],
    )


def _mps_gpu() -> GPUInfo:
    brand = archspec.cpu.brand_string() or "Apple Silicon"
    recommended = getattr(torch.mps, "recommended_max_memory", None)
    return GPUInfo(
        index=0,
        name=f"{brand} GPU",
        backend="mps",
        total_memory_bytes=recommended() if recommended else None,  # unified memory share
        free_memory_bytes=None,
        compute_capability=None,
        architecture=f"Apple GPU ({brand})",
        tier="integrated",
        multiprocessors=None,
        l2_cache_bytes=None,
        pcie_generation=None,
        pcie_width=None,
    )


def gpu_info() -> list[GPUInfo]:
    """Describe every GPU torch can use here; an empty list on a machine without one.

    Never raises for a missing GPU, driver or NVML: those fields are None instead.
    """
    if torch.cuda.is_available():
        return [_cuda_gpu(i) for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        return [_mps_gpu()]
    return []


def machine_report() -> dict[str, Any]:
    """Everything :mod:`devicelab.hardware` knows about this machine, JSON-ready.

    This is the provenance block of every recorded results file, and what
    ``python -m devicelab report --json`` prints.
    """
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "hip": torch.version.hip,
        "cpu": cpu_info().to_dict(),
        "gpus": [gpu.to_dict() for gpu in gpu_info()],
    }
