"""The roofline: which ceiling bounds a training step, and where the GPU should start to win.

A device has two ceilings (:func:`measure_ceilings`): the FLOP/s of a large matrix product and
the bytes/s of a large copy. A step that does ``F`` floating-point operations and moves ``B``
bytes cannot take less than ``max(F / peak_flops, B / peak_bytes)`` (:func:`roofline_time_s`).
Its arithmetic intensity ``F / B`` says which of the two binds: below the ridge
(``peak_flops / peak_bytes``) bandwidth does, above it compute does. A tiny step meets a third
limit first: the host issues one operator (or kernel) at a time, so ``ops * per_op_s`` is a
floor too, the launch floor (:func:`predict_step_s`, :func:`binding_ceiling`).

FLOPs and bytes are counted by :mod:`devicelab.counts`. :func:`predict_crossover` combines the
three limits of two devices into a predicted crossover, to set beside the measured one
(:func:`crossover`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from .devices import resolve_device
from .timing import Timing, measure

__all__ = [
    "BOUNDS",
    "Ceilings",
    "CrossoverPrediction",
    "StepCostModel",
    "binding_ceiling",
    "crossover",
    "measure_ceilings",
    "peak_bytes_per_s",
    "peak_flops_per_s",
    "predict_crossover",
    "predict_step_s",
    "roofline_time_s",
    "tf32_enabled",
]

#: The three limits a step can sit under, in the order :func:`binding_ceiling` names them.
BOUNDS = ("launch floor", "bandwidth", "compute")

# Default ceiling sizes per device type: (matrix side, bytes per copy buffer). Large enough to
# leave the caches (a CPU's last-level cache is tens of MiB) and to fill a GPU, small enough to
# time in about a second.
_CEILING_SIZES = {"cpu": (1024, 256 * 2**20), "gpu": (8192, 2**30)}


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0:  # also refuses NaN
            raise ValueError(f"{name} must be zero or more, got {value}")


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
    device:
        The device measured, e.g. ``"cpu"`` or ``"cuda:0"``.
    peak_flops_per_s:
        Achieved FLOP/s of a large matrix product in ``dtype``.
    peak_bytes_per_s:
        Achieved bytes/s of a large same-device copy, counting bytes read plus bytes written.
    dtype:
        The matrix product's dtype, the sweep's (``"float32"``).
    tf32:
        Whether float32 matrix products were allowed to use TF32 tensor cores (GPU only;
        always False on a CPU). With TF32 the compute ceiling is several times higher.
    matmul_precision:
        ``torch.get_float32_matmul_precision()`` during the measurement.
    matmul_n:
        Side of the square matrices multiplied; None when the ceilings were typed in.
    copy_bytes:
        Size of each copy buffer in bytes (the copy moves twice this); None when typed in.
    matmul, copy:
        The timings behind the two peaks; None when typed in.

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


def _default_sizes(device: torch.device) -> tuple[int, int]:
    return _CEILING_SIZES["cpu" if device.type == "cpu" else "gpu"]


def peak_flops_per_s(
    device: str | torch.device | None = "auto",
    *,
    n: int | None = None,
    dtype: torch.dtype = torch.float32,
    min_run_time: float = 0.2,
) -> tuple[float, Timing]:
    """Achieved FLOP/s of one ``n x n`` by ``n x n`` matrix product on ``device``.

    The product is ``2 n^3`` floating-point operations (a multiply and an add per term), written
    into a preallocated output so the allocator is not timed. ``n`` defaults to 1,024 on a CPU
    and 8,192 on a GPU.

    Returns
    -------
    tuple
        FLOP/s and the :class:`~devicelab.timing.Timing` behind it.

    Raises
    ------
    ValueError
        ``n`` is not a positive integer.
    """
    device = resolve_device(device)
    n = _default_sizes(device)[0] if n is None else n
    _check_positive(n=n)
    a, b = (torch.rand(n, n, device=device, dtype=dtype) for _ in range(2))
    out = torch.empty(n, n, device=device, dtype=dtype)
    timing = measure(
        lambda: torch.mm(a, b, out=out),
        label=f"{n}x{n} {dtype} matmul on {device}",
        min_run_time=min_run_time,
    )
    return 2 * n**3 / timing.median_s, timing


def peak_bytes_per_s(
    device: str | torch.device | None = "auto",
    *,
    nbytes: int | None = None,
    min_run_time: float = 0.2,
) -> tuple[float, Timing]:
    """Achieved bytes/s of a same-device copy of ``nbytes``, counting bytes read + written.

    On a GPU this is a device-to-device copy in its own memory; on a CPU a copy in RAM. Each
    copy reads ``nbytes`` and writes ``nbytes``, so it moves ``2 * nbytes`` (the STREAM "copy"
    convention; a CPU may also read the destination before writing it, which is not counted,
    so the CPU's figure is conservative). ``nbytes`` defaults to 256 MiB on a CPU and 1 GiB on a
    GPU, far beyond any cache.

    Returns
    -------
    tuple
        Bytes/s and the :class:`~devicelab.timing.Timing` behind it.

    Raises
    ------
    ValueError
        ``nbytes`` is not a positive integer.
    """
    device = resolve_device(device)
    nbytes = _default_sizes(device)[1] if nbytes is None else nbytes
    _check_positive(nbytes=nbytes)
    elements = max(1, nbytes // 4)  # float32
    src = torch.rand(elements, device=device)
    dst = torch.empty_like(src)
    timing = measure(
        lambda: dst.copy_(src),
        label=f"{elements * 4:,} B copy on {device}",
        min_run_time=min_run_time,
    )
    return 2 * elements * 4 / timing.median_s, timing


def measure_ceilings(
    device: str | torch.device | None = "auto",
    *,
    matmul_n: int | None = None,
    copy_bytes: int | None = None,
    dtype: torch.dtype = torch.float32,
    min_run_time: float = 0.2,
) -> Ceilings:
    """Measure ``device``'s compute ceiling (:func:`peak_flops_per_s`) and bandwidth ceiling
    (:func:`peak_bytes_per_s`), and note whether TF32 was on.

    Raises
    ------
    ValueError
        A size that is not positive.
    """
    device = resolve_device(device)
    default_n, default_bytes = _default_sizes(device)
    matmul_n = default_n if matmul_n is None else matmul_n
    copy_bytes = default_bytes if copy_bytes is None else copy_bytes
    _check_positive(matmul_n=matmul_n, copy_bytes=copy_bytes)  # before a long measurement
    flops, matmul = peak_flops_per_s(device, n=matmul_n, dtype=dtype, min_run_time=min_run_time)
    bandwidth, copy = peak_bytes_per_s(device, nbytes=copy_bytes, min_run_time=min_run_time)
    return Ceilings(
        device=str(device),
        peak_flops_per_s=flops,
        peak_bytes_per_s=bandwidth,
        dtype=str(dtype).removeprefix("torch."),
        tf32=device.type == "cuda" and dtype == torch.float32 and tf32_enabled(),
        matmul_precision=torch.get_float32_matmul_precision(),
        matmul_n=matmul_n,
        copy_bytes=max(1, copy_bytes // 4) * 4,
        matmul=matmul,
        copy=copy,
    )


# -- the roofline and the prediction -----------------------------------------------------------
def roofline_time_s(flops: float, bytes_moved: float, ceilings: Ceilings) -> float:
    """The least time ``flops`` and ``bytes_moved`` can take under ``ceilings``:
    ``max(flops / peak_flops_per_s, bytes_moved / peak_bytes_per_s)``.

    Raises
    ------
    ValueError
        A negative count.
    """
    _check_non_negative(flops=flops, bytes_moved=bytes_moved)
    return max(flops / ceilings.peak_flops_per_s, bytes_moved / ceilings.peak_bytes_per_s)


def predict_step_s(
    *,
    ops: int,
    per_op_s: float,
    flops: float,
    bytes_moved: float,
    ceilings: Ceilings,
    syncs: int = 0,
    sync_s: float = 0.0,
    overlap: bool = True,
) -> float:
    """Predicted seconds per step from the host's launch floor and the device's roofline.

    ``host = ops * per_op_s`` (the launch floor), ``device = roofline_time_s(flops,
    bytes_moved, ceilings)``. A GPU works while its host queues the next kernels, so the two
    overlap: ``step = max(host, device) + syncs * sync_s``. On a CPU the same cores dispatch
    and compute, one after the other: pass ``overlap=False`` for ``host + device + syncs *
    sync_s``.

    Raises
    ------
    ValueError
        A negative count or time.
    """
    _check_non_negative(ops=ops, per_op_s=per_op_s, syncs=syncs, sync_s=sync_s)
    host = ops * per_op_s
    device = roofline_time_s(flops, bytes_moved, ceilings)
    return (max(host, device) if overlap else host + device) + syncs * sync_s


def binding_ceiling(*, flops: float, bytes_moved: float, ceilings: Ceilings, host_s: float) -> str:
    """Which of :data:`BOUNDS` limits a step: the one whose time is the longest.

    ``"launch floor"`` when ``host_s`` (the host's time to issue the step's operators) exceeds
    both roofline times, else ``"bandwidth"`` or ``"compute"`` as the intensity falls below or
    above the ridge.

    Raises
    ------
    ValueError
        A negative count or time.
    """
    _check_non_negative(flops=flops, bytes_moved=bytes_moved, host_s=host_s)
    times = {
        "launch floor": host_s,
        "bandwidth": bytes_moved / ceilings.peak_bytes_per_s,
        "compute": flops / ceilings.peak_flops_per_s,
    }
    return max(times, key=times.__getitem__)


@dataclass(frozen=True, kw_only=True)
class StepCostModel:
    """What one device's step costs apart from its arithmetic: the inputs to
    :func:`predict_step_s` that do not change along a sweep.

    Attributes
    ----------
    device:
        The device, for labels.
    ceilings:
        Its roofline ceilings; None when they were not measured (a results file recorded
        before they existed). The prediction is then the host's part alone, a lower bound,
        and says nothing about bandwidth or compute.
    ops:
        Operators (CPU) or kernels (GPU) the host issues per step.
    per_op_s:
        Measured host cost of one of them.
    syncs, sync_s:
        Synchronisations per step and the measured cost of one.
    overlap:
        Whether host and device work overlap (True on a GPU, False on a CPU).

    Raises
    ------
    ValueError
        A negative count or time.
    """

    device: str
    ceilings: Ceilings | None
    ops: int
    per_op_s: float
    syncs: int = 0
    sync_s: float = 0.0
    overlap: bool = True

    def __post_init__(self) -> None:
        _check_non_negative(
            ops=self.ops, per_op_s=self.per_op_s, syncs=self.syncs, sync_s=self.sync_s
        )

    @property
    def host_s(self) -> float:
        """The launch floor, ``ops * per_op_s``."""
        return self.ops * self.per_op_s

    def step_s(self, flops: float, bytes_moved: float) -> float:
        """Predicted seconds per step (:func:`predict_step_s`)."""
        if self.ceilings is None:
            _check_non_negative(flops=flops, bytes_moved=bytes_moved)
            return self.host_s + self.syncs * self.sync_s
        return predict_step_s(
            ops=self.ops,
            per_op_s=self.per_op_s,
            flops=flops,
            bytes_moved=bytes_moved,
            ceilings=self.ceilings,
            syncs=self.syncs,
            sync_s=self.sync_s,
            overlap=self.overlap,
        )

    def bound(self, flops: float, bytes_moved: float) -> str | None:
        """The binding ceiling (:func:`binding_ceiling`); None without ceilings."""
        if self.ceilings is None:
            return None
        return binding_ceiling(
            flops=flops, bytes_moved=bytes_moved, ceilings=self.ceilings, host_s=self.host_s
        )


@dataclass(frozen=True)
class CrossoverPrediction:
    """Predicted seconds per step of two devices along a sweep, and where the GPU should win."""

    sizes: list[float]
    cpu_s: list[float]
    gpu_s: list[float]
    crossover: float | None

    def ratio_to(self, measured: float | None) -> float | None:
        """``predicted / measured`` crossover; None when either is missing."""
        if self.crossover is None or measured is None:
            return None
        return self.crossover / measured


def predict_crossover(
    sizes: Sequence[float],
    flops: Sequence[float],
    bytes_moved: Sequence[float],
    *,
    cpu: StepCostModel,
    gpu: StepCostModel,
) -> CrossoverPrediction:
    """Predict each device's step time at every sweep point, and the crossover.

    The crossover follows :func:`crossover`: the first size from which the
    GPU is predicted faster and stays faster; None when it never is. The counts are cheap
    (:func:`devicelab.counts.mlp_step_counts`), so ``sizes`` can be much denser than a measured
    sweep.

    Raises
    ------
    ValueError
        The sweep is empty, the three sequences differ in length, or a count is negative.
    """
    if not (len(sizes) == len(flops) == len(bytes_moved)) or len(sizes) == 0:
        raise ValueError(
            "sizes, flops and bytes_moved must be non-empty and of equal length; "
            f"got {len(sizes)}, {len(flops)} and {len(bytes_moved)}"
        )
    cpu_s = [cpu.step_s(f, b) for f, b in zip(flops, bytes_moved, strict=True)]
    gpu_s = [gpu.step_s(f, b) for f, b in zip(flops, bytes_moved, strict=True)]
    return CrossoverPrediction(list(sizes), cpu_s, gpu_s, crossover(sizes, cpu_s, gpu_s))


def crossover(
    sizes: Sequence[float], cpu_s: Sequence[float], gpu_s: Sequence[float]
) -> float | None:
    """The first size at which the GPU is faster and stays faster for every larger size.

    Returns None when the GPU never overtakes the CPU within the sweep.

    Raises
    ------
    ValueError
        The three sequences differ in length or are empty.
    """
    if not (len(sizes) == len(cpu_s) == len(gpu_s)) or not sizes:
        raise ValueError("sizes, cpu_s and gpu_s must be non-empty and of equal length")
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    found = None
    for i in reversed(order):
        if gpu_s[i] < cpu_s[i]:
            found = sizes[i]
        else:
            break
    return found
