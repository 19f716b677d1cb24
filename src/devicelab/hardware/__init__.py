"""Reading a machine: the CPU and the GPUs, the way an expert would.

Every public name is importable from here; each lives in the submodule of its concept. The CPU
and GPU names they recognise are data, in ``tables.json`` (:mod:`~devicelab.hardware.tables`).
"""

from __future__ import annotations

import platform
from typing import Any

import torch

from .cpu import CPUInfo, cgroup_cpu_limit, cpu_info, parse_cpuinfo
from .gpu import GPUInfo, gpu_architecture, gpu_info, gpu_tier, recorded_gpus

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


def machine_report() -> dict[str, Any]:
    """Everything :mod:`devicelab.hardware` knows about this machine, JSON-ready: the
    provenance block of every recorded results file, and ``python -m devicelab report --json``."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "hip": torch.version.hip,
        "cpu": cpu_info().to_dict(),
        "gpus": [gpu.to_dict() for gpu in gpu_info()],
    }
