"""Choosing a device, explicitly, and waiting for it.

Every function of devicelab that takes a ``device`` passes it to :func:`resolve_device`: an
absent device raises rather than falling back, and ``None`` means ``"auto"`` everywhere.

The default, stated once: a function that *runs* work defaults to ``device="cpu"``, as torch's
own tensors and modules do, so nothing moves to a GPU until you name one (the course's lesson:
``.to(device)`` is explicit). The clock that only *waits* for work it did not start,
:func:`devicelab.timing.compare`, defaults to ``None``:
it waits for the best device here, as ``torch.utils.benchmark.Timer`` synchronises CUDA
whenever CUDA is available, so a GPU variant timed without ``device=`` is still timed whole.
"""

from __future__ import annotations

import re

import torch

__all__ = [
    "DeviceNotAvailableError",
    "available_devices",
    "is_gpu",
    "resolve_device",
    "synchronize",
]

VALID_FORMS = '"auto", "cpu", "cuda", "cuda:N", "mps", a torch.device, or None (same as "auto")'
_SPEC = re.compile(r"^(cpu|cuda|mps)(?::(\d+))?$")


def is_gpu(device: str | torch.device) -> bool:
    """Whether ``device`` (``"cuda:1"``, ``"mps"``, a :class:`torch.device`) is a GPU."""
    kind = device.type if isinstance(device, torch.device) else str(device).split(":")[0]
    return kind in ("cuda", "mps")  # ROCm reports AMD's GPUs as cuda


class DeviceNotAvailableError(RuntimeError):
    """The requested device is a valid name but does not exist on this machine."""


def available_devices() -> list[str]:
    """List the devices torch can use here, e.g. ``["cpu", "cuda:0", "cuda:1"]`` (ROCm's GPUs
    are ``cuda:N`` too)."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def _auto() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", 0)
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """Turn a device name into a :class:`torch.device` that really exists here.

    ``"auto"`` (or None) picks CUDA or ROCm first, then Apple's MPS, then the CPU. ``"cuda"``
    is returned with its index (``cuda:0``), so results can name the GPU.

    Raises
    ------
    ValueError
        ``spec`` is not one of the valid forms.
    DeviceNotAvailableError
        The device is valid but absent; the message lists what is available.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "auto"):
        return _auto()

    if isinstance(spec, torch.device):
        kind, index = spec.type, spec.index
    elif isinstance(spec, str):
        match = _SPEC.match(spec.strip().lower())
        if match is None:
            raise ValueError(f"unknown device {spec!r}; valid forms are {VALID_FORMS}")
        kind = match.group(1)
        index = int(match.group(2)) if match.group(2) is not None else None
    else:
        raise ValueError(
            f"unknown device {spec!r} of type {type(spec).__name__}; valid forms are {VALID_FORMS}"
        )

    available = available_devices()
    if kind == "cpu":
        return torch.device("cpu")
    if kind == "cuda":
        index = 0 if index is None else index
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise DeviceNotAvailableError(
                f"cuda:{index} was requested but this machine has {', '.join(available)}. "
                "Install a CUDA or ROCm build of torch on a machine with a GPU, or pass "
                '"cpu" or "auto".'
            )
        return torch.device("cuda", index)
    if kind == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceNotAvailableError(
                f"mps was requested but this machine has {', '.join(available)}. MPS needs an "
                'Apple Silicon Mac with a recent macOS; pass "cpu" or "auto" elsewhere.'
            )
        return torch.device("mps")
    raise ValueError(f"unknown device type {kind!r}; valid forms are {VALID_FORMS}")


def synchronize(device: torch.device) -> None:
    """Wait until all work queued on ``device`` has finished: GPU kernels run asynchronously,
    so a host clock read without this times only the queueing."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
