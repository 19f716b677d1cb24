"""The machine report: everything :mod:`devicelab.hardware` knows, as one JSON-ready dict."""

from __future__ import annotations

import platform
from typing import Any

import torch

from .cpu import cpu_info
from .gpu import gpu_info

__all__ = ["machine_report"]


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
