"""Reading a machine: the CPU and the GPUs, the way an expert would.

Every public name is importable from here; each lives in the submodule of its concept. The CPU
and GPU names they recognise are data, in ``tables.json`` (:mod:`~devicelab.hardware.tables`).
"""

from __future__ import annotations

from .cgroup import cgroup_cpu_limit
from .cpu import CPUInfo, cpu_info, parse_cpuinfo
from .gpu import GPUInfo, gpu_architecture, gpu_info, gpu_tier, recorded_gpus
from .report import machine_report

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
