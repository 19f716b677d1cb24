"""The GPUs: memory, architecture generation and market tier, as torch and NVML (the optional
nvidia-ml-py) see them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import archspec.cpu
import torch

from .tables import CUDA_ARCHITECTURES, ROCM_ARCHITECTURES, TIER_PATTERNS

__all__ = ["GPUInfo", "gpu_architecture", "gpu_info", "gpu_tier", "recorded_gpus"]


@dataclass(frozen=True, kw_only=True)
class GPUInfo:
    """One GPU as torch (and NVML, when installed) sees it; a field the backend cannot know is
    None, never a guess.

    Attributes
    ----------
    backend:
        ``"cuda"`` (NVIDIA), ``"rocm"`` (AMD through torch's HIP build) or ``"mps"`` (Apple).
    pcie_generation, pcie_width:
        The PCIe link *right now* (an idle GPU may drop to a lower generation to save power);
        None without NVML, or on an SXM/NVLink-C2C link. ``pcie_max_*``: the fastest possible.
    """

    index: int
    name: str
    backend: str
    total_memory_bytes: int | None
    free_memory_bytes: int | None
    compute_capability: tuple[int, int] | None = None
    architecture: str
    tier: str
    multiprocessors: int | None = None
    l2_cache_bytes: int | None = None
    pcie_generation: int | None = None
    pcie_width: int | None = None
    pcie_max_generation: int | None = None
    pcie_max_width: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        data = asdict(self)
        if self.compute_capability is not None:
            data["compute_capability"] = list(self.compute_capability)
        return data


def gpu_architecture(major: int, minor: int) -> str:
    """Name the NVIDIA architecture of a CUDA compute capability, e.g. ``(9, 0)``: ``"Hopper"``;
    ``"unknown (sm_XY)"`` for one not in the table, rather than a guess."""
    return CUDA_ARCHITECTURES.get((major, minor), f"unknown (sm_{major}{minor})")


def gpu_tier(name: str) -> str:
    """Classify a GPU's market tier from its marketing name: ``"data center"``,
    ``"workstation"``, ``"consumer"``, ``"embedded"``, ``"integrated"`` or ``"unknown"``."""
    lowered = name.lower().replace("nvidia ", "").strip()
    for tier, pattern in TIER_PATTERNS:
        if pattern.search(lowered):
            return tier
    return "unknown"


def _nvml_pcie(index: int) -> tuple[int | None, int | None, int | None, int | None]:
    """(current gen, current width, max gen, max width) from NVML, or Nones without it."""
    try:
        import pynvml  # provided by nvidia-ml-py (optional extra "nvml")

        pynvml.nvmlInit()
    except ImportError:
        return None, None, None, None
    except pynvml.NVMLError:  # looked up only for an error pynvml raised
        return None, None, None, None
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        readings = []
        for call in (
            "nvmlDeviceGetCurrPcieLinkGeneration",
            "nvmlDeviceGetCurrPcieLinkWidth",
            "nvmlDeviceGetMaxPcieLinkGeneration",
            "nvmlDeviceGetMaxPcieLinkWidth",
        ):
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
        architecture = ROCM_ARCHITECTURES.get(arch_name, f"unknown ({arch_name or 'gfx?'})")
        capability = None
        pcie = (None, None, None, None)
    else:
        capability = (props.major, props.minor)
        architecture = gpu_architecture(props.major, props.minor)
        pcie = _nvml_pcie(index)
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
        l2_cache_bytes=getattr(props, "L2_cache_size", None) or None,
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
        architecture=f"Apple GPU ({brand})",
        tier="integrated",
    )


def gpu_info() -> list[GPUInfo]:
    """Describe every GPU torch can use here (none: an empty list); a missing driver or NVML
    leaves fields None rather than raising."""
    if torch.cuda.is_available():
        return [_cuda_gpu(i) for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        return [_mps_gpu()]
    return []


def recorded_gpus(record: dict[str, Any]) -> list[GPUInfo]:
    """The GPUs that a recorded-results file's hardware report lists (:mod:`devicelab.results`),
    which a page built without a GPU shows instead of :func:`gpu_info`."""
    return [
        GPUInfo(**{**gpu, "compute_capability": tuple(gpu.get("compute_capability") or ()) or None})
        for gpu in record.get("hardware", {}).get("gpus", [])
    ]
