"""The roofline's ceilings, measured, and where the GPU starts to win, measured.

A device has two ceilings (:func:`measure_ceilings`): the FLOP/s of a large matrix product and
the bytes/s of a large copy. A step of ``F`` FLOPs that moves ``B`` bytes takes at least
``max(F / peak_flops, B / peak_bytes)``. A step's FLOPs and bytes are counted by
:func:`devicelab.operators.operator_list`; pricing a step is :mod:`devicelab.costmodel`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from .devices import resolve_device
from .timing import Timing, measure

__all__ = [
    "Ceilings",
    "crossover",
    "measure_ceilings",
    "tf32_enabled",
]


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")


# -- ceilings ----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Ceilings:
    """A device's two roofline ceilings, and how they were measured.

    Attributes
    ----------
    peak_flops_per_s, peak_bytes_per_s:
        Achieved FLOP/s of a large matrix product, and bytes/s of a large copy (read plus
        written).
    tf32, matmul_precision:
        Whether float32 products could use TF32 tensor cores (GPU only; several times the
        ceiling), and ``torch.get_float32_matmul_precision()`` during the measurement.
    matmul_n, copy_bytes, matmul, copy:
        The sizes and timings behind the peaks (None when typed in).

    Raises
    ------
    ValueError
        A peak that is not positive.
    """

    device: str
    peak_flops_per_s: float
    peak_bytes_per_s: float
    dtype: str = "float32"
    tf32: bool = False
    matmul_precision: str = "highest"
    matmul_n: int | None = None
    copy_bytes: int | None = None
    matmul: Timing | None = None
    copy: Timing | None = None

    def __post_init__(self) -> None:
        _check_positive(
            peak_flops_per_s=self.peak_flops_per_s, peak_bytes_per_s=self.peak_bytes_per_s
        )

    @property
    def ridge_intensity(self) -> float:
        """FLOP per byte where the two ceilings meet; below it bandwidth binds, above it compute."""
        return self.peak_flops_per_s / self.peak_bytes_per_s

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, the ridge included."""
        return {**asdict(self), "ridge_intensity": self.ridge_intensity}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ceilings:
        """Rebuild ceilings from :meth:`to_dict`'s output (a recorded results file)."""
        fields = {k: v for k, v in data.items() if k != "ridge_intensity"}
        for timing in ("matmul", "copy"):
            if fields.get(timing) is not None:
                fields[timing] = Timing(**fields[timing])
        return cls(**fields)


def tf32_enabled() -> bool:
    """Whether float32 matrix products on CUDA may use TF32 tensor cores right now."""
    try:
        return bool(torch.backends.cuda.matmul.allow_tf32)
    except RuntimeError:  # torch refuses the legacy flag once the new fp32_precision API set it
        return torch.backends.cuda.matmul.fp32_precision == "tf32"


def _matmul(device: torch.device, n: int, min_run_time: float) -> Timing:
    """One ``n x n`` by ``n x n`` float32 product, into a preallocated output."""
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    out = torch.empty(n, n, device=device)
    label = f"{n}x{n} torch.float32 matmul on {device}"
    return measure(lambda: torch.mm(a, b, out=out), label=label, min_run_time=min_run_time)


def _copy(device: torch.device, elements: int, min_run_time: float) -> Timing:
    """A same-device copy of ``elements`` float32 numbers."""
    src = torch.rand(elements, device=device)
    dst = torch.empty_like(src)
    label = f"{elements * 4:,} B copy on {device}"
    return measure(lambda: dst.copy_(src), label=label, min_run_time=min_run_time)


def measure_ceilings(
    device: str | torch.device | None = "cpu",
    *,
    matmul_n: int | None = None,
    copy_bytes: int | None = None,
    min_run_time: float = 0.2,
) -> Ceilings:
    """Measure ``device``'s two ceilings: the FLOP/s of one ``matmul_n``-square float32 matrix
    product (``2 n^3`` FLOPs), and the bytes/s of a copy of ``copy_bytes``, counting bytes read
    plus written (STREAM's "copy" convention; a CPU may also read the destination first, which
    is not counted, so its figure is conservative). ``matmul_n`` and ``copy_bytes`` are 1,024
    and 256 MiB on a CPU, 8,192 and 1 GiB on a GPU by default: beyond the caches, a GPU filled,
    about a second.

    Raises
    ------
    ValueError
        A size that is not positive.
    """
    device = resolve_device(device)
    default_n, default_bytes = (1024, 256 * 2**20) if device.type == "cpu" else (8192, 2**30)
    matmul_n = default_n if matmul_n is None else matmul_n
    copy_bytes = default_bytes if copy_bytes is None else copy_bytes
    _check_positive(matmul_n=matmul_n, copy_bytes=copy_bytes)  # before a long measurement
    matmul = _matmul(device, matmul_n, min_run_time)
    elements = max(1, copy_bytes // 4)
    copy = _copy(device, elements, min_run_time)
    return Ceilings(
        device=str(device),
        peak_flops_per_s=2 * matmul_n**3 / matmul.median_s,
        peak_bytes_per_s=2 * elements * 4 / copy.median_s,
        tf32=device.type == "cuda" and tf32_enabled(),
        matmul_precision=torch.get_float32_matmul_precision(),
        matmul_n=matmul_n,
        copy_bytes=elements * 4,
        matmul=matmul,
        copy=copy,
    )


# -- the crossover ------------------------------------------------------------------------------
def crossover(
    sizes: Sequence[float], cpu_s: Sequence[float], gpu_s: Sequence[float]
) -> float | None:
    """The first size at which the GPU is faster and stays faster for every larger size; None
    when the GPU never overtakes the CPU within the sweep.

    Raises
    ------
    ValueError
        The three sequences differ in length or are empty.
    """
    if not (len(sizes) == len(cpu_s) == len(gpu_s)) or not sizes:
        raise ValueError("sizes, cpu_s and gpu_s must be non-empty and of equal length")
    found = None
    rows = sorted(zip(sizes, cpu_s, gpu_s, strict=True), key=lambda row: row[0])
    for size, cpu, gpu in reversed(rows):
        if not gpu < cpu:
            break
        found = size
    return found
