"""The doctor's checks: facts about this machine, each read without failing when the thing is
missing (torch, a compiler, Triton, numba, an NVIDIA driver)."""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CUDA_INDEX_EXAMPLE",
    "GET_STARTED",
    "PAGE",
    "Compiler",
    "compile_unavailable",
    "cxx_compiler",
    "gpu_compile_error",
    "numba_unavailable",
    "nvidia_gpus",
    "see",
    "torch_floor",
]

#: The site's page that explains every finding; each finding names one of its sections.
PAGE = "your_machine.html"
#: An example of the CUDA wheel index; the selector on pytorch.org names the current ones.
CUDA_INDEX_EXAMPLE = "https://download.pytorch.org/whl/cu128"
GET_STARTED = "https://pytorch.org/get-started/locally/"
_TIMEOUT_S = 60


def see(anchor: str) -> str:
    """The address of a section of the page "On your machine": ``your_machine.html#anchor``."""
    return f"{PAGE}#{anchor}"


@dataclass(frozen=True)
class Compiler:
    """The C++ compiler ``torch.compile`` would use on the CPU (``$CXX``, else the platform's, as
    ``torch._inductor.cpp_builder.get_cpp_compiler`` picks it), and whether it built a tiny
    shared library just now (``detail``: why not)."""

    name: str
    path: str | None
    works: bool
    detail: str


def _try_build(path: str) -> str:
    """Build a one-line C++ shared library with ``path``; the error, or "" when it worked."""
    with tempfile.TemporaryDirectory(prefix="devicelab-doctor-") as folder:
        source = Path(folder) / "probe.cpp"
        source.write_text('extern "C" int devicelab_probe() { return 42; }\n')
        if Path(path).stem.lower() == "cl":
            command = [path, "/nologo", "/LD", str(source), f"/Fe{Path(folder) / 'probe.dll'}"]
        else:
            command = [path, "-shared", "-fPIC", str(source), "-o", str(Path(folder) / "p.so")]
        try:
            done = subprocess.run(
                command, cwd=folder, capture_output=True, text=True, timeout=_TIMEOUT_S
            )
        except (OSError, subprocess.SubprocessError) as error:
            return f"{Path(path).name} could not run ({error})"
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"{Path(path).name} failed on a one-line program: {last[0]}"
    return ""


@functools.cache
def cxx_compiler() -> Compiler:
    """Find the C++ compiler torch would use on the CPU and check that it builds a library
    (cached for the process; ``cxx_compiler.cache_clear()`` checks again)."""
    name = os.environ.get("CXX") or {"win32": "cl", "darwin": "clang++"}.get(sys.platform, "g++")
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CXX"):
            return Compiler(name, None, False, f"CXX={name!r}, which does not exist")
        return Compiler(name, None, False, f"no {name!r} on PATH")
    detail = _try_build(path)
    return Compiler(name, path, not detail, detail)


def _compiler_fix() -> str:
    if sys.platform == "win32":
        return (
            "install Visual Studio Build Tools with the 'Desktop development with C++' "
            "workload, then run Python from the 'x64 Native Tools Command Prompt' so that "
            "cl.exe is on PATH"
        )
    if sys.platform == "darwin":
        return "install Apple's command-line tools: xcode-select --install"
    return (
        "install a C++ compiler, e.g. sudo apt install g++ (Debian, Ubuntu) or sudo dnf "
        "install gcc-c++ (Fedora), or point CXX at one"
    )


def _triton_version() -> str | None:
    """Triton's version when it is installed (as ``triton`` or Windows' ``triton-windows``)."""
    if importlib.util.find_spec("triton") is None:
        return None
    for dist in ("triton", "triton-windows", "pytorch-triton-rocm", "pytorch-triton"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown version"


def _triton_fix() -> str:
    if sys.platform == "win32":
        return (
            "install the community build for Windows: pip install triton-windows (the "
            "official triton package is for Linux), or run on Linux"
        )
    return "pip install triton (the CUDA builds of torch on Linux bring a matching one)"


def compile_unavailable(device: Any) -> str | None:
    """Why ``torch.compile`` cannot run on ``device`` here, with the fix; None when it can (the
    remedies and the first-step page skip their compiled parts with this message)."""
    kind = getattr(device, "type", str(device).split(":")[0])
    if kind == "cpu":
        compiler = cxx_compiler()
        if compiler.works:
            return None
        why = (
            f"no working C++ compiler ({compiler.detail}): torch.compile builds C++ code on the CPU"
        )
        fix = _compiler_fix()
    elif kind == "cuda" and _triton_version() is None:
        why = "Triton is not installed: torch.compile writes Triton kernels for a GPU"
        fix = _triton_fix()
    elif kind == "cuda" and gpu_compile_error() is not None:
        why = (
            f"torch.compile fails on a tiny function on the GPU ({gpu_compile_error()}): Triton "
            "is installed, but it builds each kernel's launcher with a C compiler"
        )
        fix = _gpu_compile_fix()
    else:
        return None
    return f"{why}. Fix: {fix}. See {see('torch-compile')}; `python -m devicelab doctor` checks it."


def _gpu_compile_fix() -> str:
    if sys.platform == "win32":
        return "install the MSVC build tools, or run on Linux"
    return "install a C compiler (Debian/Ubuntu: apt install gcc; or set CC to one)"


@functools.cache
def gpu_compile_error() -> str | None:
    """Why a tiny ``torch.compile``-d function fails on the first GPU, or None when it runs
    (cached: the first compiled call takes seconds). Triton importable is not enough: without a
    C compiler it cannot build the launcher of the kernels it writes."""
    import torch  # here, not at the top: the doctor also runs where torch does not import

    if not torch.cuda.is_available():
        return None
    try:
        compiled = torch.compile(lambda x: x * 2.0 + 1.0)
        x = torch.ones(8, device="cuda")
        out = compiled(x)
        torch.cuda.synchronize()
        if not torch.equal(out, torch.full_like(x, 3.0)):
            return "it ran, but returned a wrong result"
    except Exception as error:  # any failure of the compiled call is the answer
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {first[:200]}"
    return None


@functools.cache
def _numba_status() -> tuple[str | None, str]:
    """(numba's version or None, the import error or "")."""
    try:
        import numba
    except ImportError as error:  # not installed, or a broken install (llvmlite)
        return None, f"{type(error).__name__}: {error}"
    return numba.__version__, ""


def numba_unavailable() -> str | None:
    """Why numba cannot compile the arithmetic floor here, with the fix; None when it can."""
    version, error = _numba_status()
    if version is not None:
        return None
    return (
        f"numba does not import ({error}): the arithmetic floor is compiled with it. Fix: "
        f"pip install numba (it needs no C compiler). See {see('numba-floor')}."
    )


def torch_floor() -> str | None:
    """The lowest torch this devicelab declares (``torch>=X`` in its metadata), or None."""
    try:
        requires = importlib.metadata.requires("devicelab") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    matches = (re.match(r"^torch\s*>=\s*([0-9][0-9.]*)", line) for line in requires)
    return next((match.group(1) for match in matches if match), None)


def _release(version: str) -> tuple[int, ...]:
    """``"2.13.0+cpu"`` -> ``(2, 13, 0)``: the numeric release, local tags dropped."""
    return tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0])[:3])


def _run(command: list[str]) -> str | None:
    """The output of ``command``, or None when it is missing, fails or hangs."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _pci_nvidia(root: Path = Path("/sys/bus/pci/devices")) -> list[str]:
    """NVIDIA display controllers (vendor 0x10de, class 0x03) in Linux's PCI device list."""
    found = []
    for device in sorted(root.glob("*")) if root.is_dir() else []:
        try:
            vendor = (device / "vendor").read_text().strip()
            klass = (device / "class").read_text().strip()
            model = (device / "device").read_text().strip()
        except OSError:
            continue
        if vendor == "0x10de" and klass.startswith("0x03"):
            found.append(f"NVIDIA PCI device {model} at {device.name}")
    return found


def nvidia_gpus() -> tuple[list[str], str]:
    """The NVIDIA GPUs this machine has, seen without torch, and how: ``nvidia-smi -L`` (it
    comes with the driver), NVML (optional), or Linux's PCI device list (no driver needed)."""
    listing = _run(["nvidia-smi", "-L"])
    if listing:
        names = re.findall(r"^GPU \d+: (.+?)(?: \(UUID.*)?$", listing, flags=re.M)
        if names:
            return names, "nvidia-smi"
    try:
        import pynvml  # nvidia-ml-py, the optional extra "nvml"

        pynvml.nvmlInit()
        try:
            count = pynvml.nvmlDeviceGetCount()
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            names = [str(pynvml.nvmlDeviceGetName(h)) for h in handles]
        finally:
            pynvml.nvmlShutdown()
        if names:
            return names, "NVML"
    except ImportError:
        pass  # no nvidia-ml-py (its error class is only looked up for an error it raised)
    except pynvml.NVMLError:
        pass  # no driver: fall through to the PCI list
    pci = _pci_nvidia()
    return pci, "the PCI device list" if pci else "nvidia-smi, NVML and the PCI device list"


def _driver_models() -> dict[str, str]:
    """Each NVIDIA GPU's current driver model on Windows (WDDM, TCC or MCDM)."""
    if sys.platform != "win32":
        return {}
    out = _run(["nvidia-smi", "--query-gpu=name,driver_model.current", "--format=csv,noheader"])
    rows = (line.rpartition(",") for line in (out or "").splitlines())
    return {name.strip(): model.strip() for name, _, model in rows if name.strip()}


def _torch_facts() -> dict[str, Any]:
    """torch's version and accelerators, or why it does not import."""
    try:
        import torch
    except (ImportError, OSError) as error:  # OSError: a DLL that fails to load (Windows)
        return {"importable": False, "error": f"{type(error).__name__}: {error}"}
    mps = getattr(torch.backends, "mps", None)
    return {
        "importable": True,
        "version": torch.__version__,
        "cuda_built": torch.version.cuda is not None,
        "cuda_version": torch.version.cuda,
        "hip_version": torch.version.hip,
        "cuda_available": torch.cuda.is_available(),
        "mps_built": bool(mps and mps.is_built()),
        "mps_available": bool(mps and mps.is_available()),
    }


def _threads(torch_ok: bool) -> dict[str, Any]:
    if not torch_ok:
        return {"usable_cpus": os.cpu_count(), "torch_threads": None}
    from ..hardware import cpu_info  # imports torch

    cpu = cpu_info()
    return {"usable_cpus": cpu.usable_cpus, "torch_threads": cpu.torch_threads}
