"""Is this machine ready for devicelab? What is missing, why it matters, and the fix.

``python -m devicelab doctor`` prints :func:`diagnose`'s answer (``--json``: as JSON) and exits
0 when nothing is wrong, 1 when something is, 2 when the check itself failed. It looks at:

- torch: its version against the floor devicelab declares, and which accelerators the build
  has (CUDA, ROCm, MPS) and can use;
- an NVIDIA GPU that torch cannot see: a CPU-only torch (the default ``pip install torch`` on
  Windows is one) on a machine whose ``nvidia-smi``, NVML or PCI device list shows a GPU;
- the GPU's driver model on Windows (WDDM or TCC), which sets the cost of every launch;
- what ``torch.compile`` needs: a working C++ compiler on the CPU; on a GPU, Triton and a C
  compiler for its launchers (a tiny compiled function is run on the GPU to check both);
- numba, which compiles the arithmetic floor (:mod:`devicelab.floor`);
- the CPUs this process may use against torch's intra-op thread count;
- this devicelab's version and where it was imported from.

A "note" is informational: no GPU is a fact about the machine, not a problem. Each problem and
note names the section of the site's page "On your machine" (:data:`devicelab.doctor.checks.PAGE`)
that explains it.

The examples skip what this machine lacks with the same checks, so a page and the doctor never
disagree: :func:`compile_unavailable` (the ``torch.compile`` remedy, the first compiled call)
and :func:`numba_unavailable` (the arithmetic floor). This module imports torch only inside
its functions: it must answer even where torch is missing or fails to load.
"""

from __future__ import annotations

import importlib.util
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .checks import (
    PAGE,
    Compiler,
    _driver_models,
    _numba_status,
    _threads,
    _torch_facts,
    _triton_version,
    compile_unavailable,
    cxx_compiler,
    gpu_compile_error,
    numba_unavailable,
    nvidia_gpus,
    see,
    torch_floor,
)
from .findings import Finding, accelerator_findings, tool_findings, torch_findings

__all__ = [
    "PAGE",
    "Compiler",
    "Diagnosis",
    "Finding",
    "compile_unavailable",
    "cxx_compiler",
    "gpu_compile_error",
    "diagnose",
    "format_diagnosis",
    "numba_unavailable",
    "nvidia_gpus",
    "torch_floor",
]


@dataclass(frozen=True, kw_only=True)
class Diagnosis:
    """What :func:`diagnose` found. ``problems`` decide the exit status; ``notes`` inform.

    Attributes
    ----------
    platform:
        ``platform.platform()``.
    python:
        The Python version.
    devicelab:
        ``version`` and ``location`` (the folder it was imported from).
    torch:
        ``version``, ``cuda_built``, ``cuda_available``, ``mps_available`` and more; or
        ``importable: false`` with the ``error``.
    gpus:
        ``nvidia``: the NVIDIA GPUs seen without torch; ``seen_by``: how; ``driver_models``:
        each one's driver model (Windows).
    compiler:
        The C++ compiler ``torch.compile`` uses on the CPU (:class:`Compiler`).
    triton:
        ``installed`` and ``version``.
    numba:
        ``installed``, ``version`` and ``works`` (with the ``error``).
    threads:
        ``usable_cpus`` and ``torch_threads``.
    problems:
        Each problem found.
    notes:
        Informational findings (no GPU, the driver model).
    """

    platform: str
    python: str
    devicelab: dict[str, str]
    torch: dict[str, Any]
    gpus: dict[str, Any]
    compiler: Compiler
    triton: dict[str, Any]
    numba: dict[str, Any]
    threads: dict[str, Any]
    problems: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 with no problems, 1 with any (notes do not count)."""
        return 1 if self.problems else 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``problems`` and ``notes`` are lists of ``{what, why, fix, see}``."""
        return {
            "platform": self.platform,
            "python": self.python,
            "devicelab": self.devicelab,
            "torch": self.torch,
            "gpus": self.gpus,
            "compiler": self.compiler.to_dict(),
            "triton": self.triton,
            "numba": self.numba,
            "threads": self.threads,
            "problems": [p.to_dict() for p in self.problems],
            "notes": [n.to_dict() for n in self.notes],
        }

    def __str__(self) -> str:
        return format_diagnosis(self)


def _torch_line(facts: dict[str, Any]) -> str:
    if not facts["importable"]:
        return f"does not import: {facts['error']}"
    accelerators = []
    if facts["cuda_built"]:
        state = "available" if facts["cuda_available"] else "NOT available"
        accelerators.append(f"CUDA {facts['cuda_version']} built in, {state}")
    elif facts["hip_version"]:
        state = "available" if facts["cuda_available"] else "NOT available"
        accelerators.append(f"ROCm/HIP {facts['hip_version']} built in, {state}")
    else:
        accelerators.append("CPU-only build (no CUDA, no ROCm)")
    if facts["mps_built"]:
        accelerators.append(f"MPS {'available' if facts['mps_available'] else 'NOT available'}")
    return f"{facts['version']}: {'; '.join(accelerators)}"


def format_diagnosis(diagnosis: Diagnosis) -> str:
    """The diagnosis as readable text: the facts, then each problem and note."""
    d = diagnosis
    compiler = d.compiler
    gpus = d.gpus["nvidia"]
    numba = d.numba
    lines = [
        f"devicelab doctor: {d.platform}, Python {d.python}",
        f"  devicelab     {d.devicelab['version']} ({d.devicelab['location']})",
        f"  torch         {_torch_line(d.torch)}",
        "  NVIDIA GPU    "
        + (", ".join(gpus) if gpus else "none seen")
        + f" (checked with {d.gpus['seen_by']})",
        "  C++ compiler  "
        + (f"{compiler.path} works" if compiler.works else f"NOT working: {compiler.detail}")
        + " (torch.compile on the CPU)",
        "  Triton        "
        + (d.triton["version"] if d.triton["installed"] else "not installed")
        + (
            f", but a compiled function fails on the GPU: {d.triton['gpu_compile_error']}"
            if d.triton.get("gpu_compile_error")
            else ""
        )
        + " (torch.compile on a GPU)",
        "  numba         "
        + (f"{numba['version']} works" if numba["works"] else f"NOT working: {numba['error']}")
        + " (the arithmetic floor)",
        f"  threads       torch uses {d.threads['torch_threads']} intra-op thread(s); "
        f"{d.threads['usable_cpus']} CPU(s) usable by this process",
    ]
    for name, model in d.gpus["driver_models"].items():
        lines.append(f"  driver model  {name}: {model}")
    lines.append("")
    if d.problems:
        lines.append(f"{len(d.problems)} problem(s):")
        lines += [f"\n{i}. {p}" for i, p in enumerate(d.problems, 1)]
    else:
        lines.append("No problems found.")
    if d.notes:
        lines.append("\nNotes (informational):")
        lines += [f"\n- {n}" for n in d.notes]
    return "\n".join(lines)


def diagnose() -> Diagnosis:
    """Check this machine for devicelab (see the module's docstring for what is checked).

    Takes about a second: it imports torch and numba, and builds a one-line C++ library.
    """
    facts = _torch_facts()
    nvidia, seen_by = nvidia_gpus()
    models = _driver_models()
    compiler = cxx_compiler()
    triton = _triton_version()
    # Triton importable is not enough: a tiny compiled function must run on the GPU
    gpu_compile = gpu_compile_error() if facts.get("cuda_available") and triton else None
    numba_version, numba_error = _numba_status()
    threads = _threads(facts["importable"])
    gpu_problems, notes = accelerator_findings(facts, nvidia, models)
    problems = (
        torch_findings(facts, torch_floor())
        + gpu_problems
        + tool_findings(compiler, facts, triton, threads, gpu_compile=gpu_compile)
    )
    if threads["usable_cpus"] == 1:
        notes.append(
            Finding(
                "this process may use one CPU",
                "the pages that compare one thread with several have nothing to compare",
                "none needed; on a machine with more CPUs those comparisons run",
                see("cpu-threads"),
            )
        )
    return Diagnosis(
        platform=platform.platform(),
        python=platform.python_version(),
        devicelab={"version": __version__, "location": str(Path(__file__).resolve().parents[1])},
        torch=facts,
        gpus={"nvidia": nvidia, "seen_by": seen_by, "driver_models": models},
        compiler=compiler,
        triton={
            "installed": triton is not None,
            "version": triton,
            "gpu_compile_error": gpu_compile,
        },
        numba={
            "installed": importlib.util.find_spec("numba") is not None,
            "version": numba_version,
            "works": numba_version is not None,
            "error": numba_error,
        },
        threads=threads,
        problems=problems,
        notes=notes,
    )
