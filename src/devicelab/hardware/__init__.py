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

Every public name is importable from here; each lives in the submodule of its concept:
:mod:`~devicelab.hardware.cpu`, :mod:`~devicelab.hardware.cgroup`,
:mod:`~devicelab.hardware.gpu` and :mod:`~devicelab.hardware.report`. The CPU and GPU names
they recognise are data, in ``tables.json`` (read by :mod:`~devicelab.hardware.tables`).
"""

from __future__ import annotations

from .cgroup import cgroup_cpu_limit
from .cpu import CPUInfo, cpu_info, parse_cpuinfo
from .gpu import GPUInfo, gpu_architecture, gpu_info, gpu_tier, recorded_gpus
from .report import machine_report

# Importable from here as before this module became a package, though never in __all__.
from .tables import NOTABLE_EXTENSIONS as NOTABLE_EXTENSIONS

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
    "recorded_gpus",
]
