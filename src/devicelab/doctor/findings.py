"""The doctor's rules: from the facts of :mod:`devicelab.doctor.checks` to problems and notes,
each with what was found, why it matters, the fix, and the section of "On your machine" that
explains it."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from typing import Any

from .checks import (
    CUDA_INDEX_EXAMPLE,
    GET_STARTED,
    Compiler,
    _compiler_fix,
    _numba_status,
    _release,
    _triton_fix,
    see,
)

__all__ = ["Finding", "accelerator_findings", "tool_findings", "torch_findings"]


@dataclass(frozen=True)
class Finding:
    """A problem (or a note): what was found, why it matters for devicelab's pages, the fix,
    and the section that explains it (``your_machine.html#<anchor>``)."""

    what: str
    why: str
    fix: str
    see: str

    def __str__(self) -> str:
        return f"{self.what}\n  why: {self.why}\n  fix: {self.fix}\n  see: {self.see}"


def torch_findings(facts: dict[str, Any], floor: str | None) -> list[Finding]:
    if not facts["importable"]:
        return [
            Finding(
                f"torch does not import ({facts['error']})",
                "every page of devicelab runs on torch",
                f"install it with the command that {GET_STARTED} gives for this machine "
                "(on Windows with an NVIDIA GPU, pick a CUDA build: see the section on the "
                "CPU build)",
                see("install-torch"),
            )
        ]
    if floor and _release(facts["version"]) < _release(floor):
        return [
            Finding(
                f"torch {facts['version']} is older than the {floor} devicelab is tested with",
                "devicelab uses APIs of recent torch releases; older ones may fail or differ",
                f"upgrade torch with the command that {GET_STARTED} gives for this machine "
                "(keep the same CUDA or CPU flavour)",
                see("install-torch"),
            )
        ]
    return []


def accelerator_findings(
    facts: dict[str, Any], nvidia: list[str], models: dict[str, str]
) -> tuple[list[Finding], list[Finding]]:
    """(problems, notes) about the accelerators."""
    problems, notes = [], []
    if not facts["importable"]:
        return problems, notes
    cpu_only = not facts["cuda_built"] and not facts["hip_version"]
    if nvidia and cpu_only:
        windows = ""
        if sys.platform == "win32":
            windows = " On Windows, the default `pip install torch` installs this CPU build."
        problems.append(
            Finding(
                f"torch {facts['version']} is a CPU-only build, but this machine has an NVIDIA "
                f"GPU ({', '.join(nvidia)}): torch.cuda.is_available() is False.{windows}",
                "the GPU parts of every page are skipped and show recorded results instead",
                "reinstall torch from a CUDA wheel index: pip uninstall torch, then pip install "
                f"torch --index-url {CUDA_INDEX_EXAMPLE} (cu128 is an example: {GET_STARTED} "
                "names the current CUDA versions for your driver)",
                see("cpu-build"),
            )
        )
    elif (facts["cuda_built"] or facts["hip_version"]) and not facts["cuda_available"] and nvidia:
        problems.append(
            Finding(
                f"torch {facts['version']} has CUDA {facts['cuda_version']} built in, but "
                f"cannot use the GPU ({', '.join(nvidia)})",
                "the driver is missing or older than this CUDA release needs",
                "update the NVIDIA driver (nvidia-smi shows the newest CUDA version it "
                f"supports), or install a torch built for an older CUDA from {GET_STARTED}",
                see("cpu-build"),
            )
        )
    elif facts["mps_built"] and not facts["mps_available"] and platform.machine() == "arm64":
        problems.append(
            Finding(
                "this torch has MPS built in, but the Mac's GPU is not available to it",
                "MPS needs macOS 12.3 or newer on Apple silicon",
                "update macOS, then check torch.backends.mps.is_available()",
                see("mps"),
            )
        )
    if not (facts["cuda_available"] or facts["mps_available"]) and not problems:
        notes.append(
            Finding(
                "no GPU that torch can use on this machine",
                "the GPU parts of each page show a recorded GPU run, labelled as recorded, or "
                "say 'not recorded yet'; everything on the CPU runs live",
                "none needed; to measure a GPU, run devicelab where torch sees one",
                see("no-gpu"),
            )
        )
    if facts["mps_available"]:
        notes.append(
            Finding(
                "Apple's MPS is available: devicelab measures it as the device 'mps'",
                "a small model such as the course's can be slower on MPS than on the CPU, "
                "for the same launch and sync costs the site measures on CUDA",
                "compare both with python -m devicelab bench --device mps and --device cpu",
                see("mps"),
            )
        )
    for name, model in models.items():
        if model.upper() == "WDDM":
            notes.append(
                Finding(
                    f"{name} runs under the WDDM driver model",
                    "Windows schedules every kernel launch and copy through its display "
                    "driver model, which adds latency; a launch-bound loop such as the "
                    "course's is then slower than on Linux with the same GPU",
                    "nothing for a GPU that drives a display; a data-center or workstation GPU "
                    "without one can switch to TCC (nvidia-smi -g 0 -dm 1, as administrator, "
                    "then reboot); or run on Linux",
                    see("wddm"),
                )
            )
    return problems, notes


def tool_findings(
    compiler: Compiler,
    facts: dict[str, Any],
    triton: str | None,
    threads: dict[str, Any],
    *,
    gpu_compile: str | None = None,
) -> list[Finding]:
    """Problems with the tools: the C++ compiler, Triton (``gpu_compile``: why a tiny compiled
    function failed on the GPU, :func:`~devicelab.doctor.checks.gpu_compile_error`), numba,
    and the thread count."""
    problems = []
    if not compiler.works:
        problems.append(
            Finding(
                f"no working C++ compiler: {compiler.detail}",
                "torch.compile on the CPU builds C++ code; without a compiler its first call "
                "raises InvalidCxxCompiler, and the pages skip their compiled parts",
                _compiler_fix(),
                see("torch-compile"),
            )
        )
    if facts.get("cuda_available") and not facts.get("hip_version") and triton is None:
        problems.append(
            Finding(
                "Triton is not installed, but torch can use a CUDA GPU",
                "torch.compile writes Triton kernels for a GPU; without Triton it fails, and "
                "the pages skip their compiled GPU parts",
                _triton_fix(),
                see("torch-compile"),
            )
        )
    if facts.get("cuda_available") and triton is not None and gpu_compile is not None:
        problems.append(
            Finding(
                f"torch.compile fails on the GPU although Triton {triton} is installed: "
                f"{gpu_compile}",
                "Triton builds each kernel's launcher with a C compiler; without one the first "
                "compiled call raises, and the pages skip their compiled GPU parts",
                "install a C compiler (Debian/Ubuntu: apt install gcc), or set CC to one",
                see("torch-compile"),
            )
        )
    numba_version, numba_error = _numba_status()
    if numba_version is None:
        problems.append(
            Finding(
                f"numba does not import ({numba_error})",
                "the arithmetic floor (the course's epoch with no framework) is compiled with "
                "numba; the pages skip it without numba",
                "pip install numba (it brings its own LLVM: no C compiler needed)",
                see("numba-floor"),
            )
        )
    usable, torch_threads = threads["usable_cpus"], threads["torch_threads"]
    if usable and torch_threads and torch_threads > usable:
        problems.append(
            Finding(
                f"torch uses {torch_threads} intra-op threads, but this process may use only "
                f"{usable} CPU(s)",
                "more threads than CPUs make threads wait for each other (oversubscription); "
                "torch sizes its pool from the cores and does not read a container's quota",
                f"set OMP_NUM_THREADS={usable} before starting Python, or call "
                f"torch.set_num_threads({usable})",
                see("cpu-threads"),
            )
        )
    return problems
