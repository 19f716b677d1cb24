"""Is this machine ready for devicelab? What is missing, why it matters, and the fix.

``python -m devicelab doctor`` prints :func:`diagnose`'s answer (``--json``: as JSON) and exits
0 when nothing is wrong, 1 when something is, 2 when the check itself failed. Each problem and
note (informational: no GPU is a fact, not a problem) names the section of the page "On your
machine" (:data:`devicelab.doctor.checks.PAGE`) that explains it.

The examples skip what this machine lacks with the same checks, so a page and the doctor never
disagree: :func:`compile_unavailable` and :func:`numba_unavailable`. This module imports torch
only inside its functions: it must answer even where torch is missing or fails to load.
"""

from __future__ import annotations

import importlib.util
import platform
from dataclasses import asdict, dataclass, field
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
    "numba_unavailable",
    "nvidia_gpus",
    "torch_floor",
]


@dataclass(frozen=True, kw_only=True)
class Diagnosis:
    """What :func:`diagnose` found: the facts read, as ``--json`` prints them; ``problems``
    decide the exit status, ``notes`` inform."""

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
        return asdict(self)

    def __str__(self) -> str:
        """The diagnosis as readable text: the facts, then each problem and note."""
        gpus, compiler, numba = self.gpus["nvidia"], self.compiler, self.numba
        lines = [
            f"devicelab doctor: {self.platform}, Python {self.python}",
            f"  devicelab     {self.devicelab['version']} ({self.devicelab['location']})",
            f"  torch         {_torch_line(self.torch)}",
            "  NVIDIA GPU    "
            + (", ".join(gpus) if gpus else "none seen")
            + f" (checked with {self.gpus['seen_by']})",
            "  C++ compiler  "
            + (f"{compiler.path} works" if compiler.works else f"NOT working: {compiler.detail}")
            + " (torch.compile on the CPU)",
            "  Triton        "
            + (self.triton["version"] if self.triton["installed"] else "not installed")
            + (
                f", but a compiled function fails on the GPU: {self.triton['gpu_compile_error']}"
                if self.triton.get("gpu_compile_error")
                else ""
            )
            + " (torch.compile on a GPU)",
            "  numba         "
            + (f"{numba['version']} works" if numba["works"] else f"NOT working: {numba['error']}")
            + " (the arithmetic floor)",
            f"  threads       torch uses {self.threads['torch_threads']} intra-op thread(s); "
            f"{self.threads['usable_cpus']} CPU(s) usable by this process",
        ]
        lines += [f"  driver model  {n}: {m}" for n, m in self.gpus["driver_models"].items()]
        lines.append("")
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"\n{i}. {p}" for i, p in enumerate(self.problems, 1)]
        else:
            lines.append("No problems found.")
        if self.notes:
            lines.append("\nNotes (informational):")
            lines += [f"\n- {n}" for n in self.notes]
        return "\n".join(lines)


def _torch_line(facts: dict[str, Any]) -> str:
    if not facts["importable"]:
        return f"does not import: {facts['error']}"
    state = "available" if facts["cuda_available"] else "NOT available"
    if facts["cuda_built"]:
        accelerators = [f"CUDA {facts['cuda_version']} built in, {state}"]
    elif facts["hip_version"]:
        accelerators = [f"ROCm/HIP {facts['hip_version']} built in, {state}"]
    else:
        accelerators = ["CPU-only build (no CUDA, no ROCm)"]
    if facts["mps_built"]:
        accelerators.append(f"MPS {'available' if facts['mps_available'] else 'NOT available'}")
    return f"{facts['version']}: {'; '.join(accelerators)}"


def diagnose() -> Diagnosis:
    """Check this machine for devicelab (about a second: it imports torch and numba, and
    builds a one-line C++ library)."""
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
