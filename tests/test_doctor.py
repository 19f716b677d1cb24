"""The doctor: its checks, its rules, its command line, and the machine without a compiler."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from without_compiler import env_without_compiler  # tests/: pytest's pythonpath

from devicelab import doctor
from devicelab.__main__ import main
from devicelab.doctor import checks, findings

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "your_machine.md"


def _torch(**overrides):
    facts = {
        "importable": True,
        "version": "2.13.0+cpu",
        "cuda_built": False,
        "cuda_version": None,
        "hip_version": None,
        "cuda_available": False,
        "mps_built": False,
        "mps_available": False,
    }
    return facts | overrides


WORKING = checks.Compiler("g++", "/usr/bin/g++", True, "")
MISSING = checks.Compiler("g++", None, False, "no 'g++' on PATH")
THREADS = {"usable_cpus": 4, "torch_threads": 4}


# -- the rules -------------------------------------------------------------------------------------
def test_a_cpu_only_torch_beside_an_nvidia_gpu_is_a_problem_with_the_cuda_index():
    problems, notes = findings.accelerator_findings(_torch(), ["NVIDIA GeForce RTX 3080 Ti"], {})
    assert len(problems) == 1 and not notes
    problem = problems[0]
    assert "CPU-only" in problem.what and "RTX 3080 Ti" in problem.what
    assert "--index-url https://download.pytorch.org/whl/cu" in problem.fix
    assert problem.see == "your_machine.html#cpu-build"


def test_on_windows_the_cpu_build_problem_says_the_default_install_is_cpu_only(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    problems, _ = findings.accelerator_findings(_torch(), ["NVIDIA GeForce RTX 3080 Ti"], {})
    assert "On Windows, the default `pip install torch` installs this CPU build" in problems[0].what


def test_no_gpu_is_a_note_not_a_problem():
    problems, notes = findings.accelerator_findings(_torch(), [], {})
    assert problems == []
    assert [n.see for n in notes] == ["your_machine.html#no-gpu"]


def test_a_cuda_build_that_cannot_reach_its_gpu_is_a_problem():
    facts = _torch(version="2.13.0+cu128", cuda_built=True, cuda_version="12.8")
    problems, _ = findings.accelerator_findings(facts, ["NVIDIA RTX A4000"], {})
    assert len(problems) == 1 and "driver" in problems[0].why


def test_wddm_is_a_note_with_the_driver_model_section():
    facts = _torch(version="2.13.0+cu128", cuda_built=True, cuda_available=True)
    problems, notes = findings.accelerator_findings(facts, ["RTX"], {"NVIDIA RTX": "WDDM"})
    assert problems == []
    assert [n.see for n in notes] == ["your_machine.html#wddm"]
    assert "TCC" in notes[0].fix


def test_an_old_torch_is_a_problem_and_the_floor_is_not():
    assert findings.torch_findings(_torch(version="2.3.1+cu121"), "2.13")[0].what.startswith(
        "torch 2.3.1+cu121 is older"
    )
    assert findings.torch_findings(_torch(version="2.13.0+cpu"), "2.13") == []
    missing = {"importable": False, "error": "ModuleNotFoundError: No module named 'torch'"}
    assert "does not import" in findings.torch_findings(missing, "2.13")[0].what


def test_tool_rules_compiler_triton_and_threads():
    assert findings.tool_findings(WORKING, _torch(), None, THREADS) == []
    no_compiler = findings.tool_findings(MISSING, _torch(), None, THREADS)
    assert len(no_compiler) == 1 and "InvalidCxxCompiler" in no_compiler[0].why
    assert no_compiler[0].see == "your_machine.html#torch-compile"
    gpu = _torch(cuda_built=True, cuda_available=True)
    assert "Triton" in findings.tool_findings(WORKING, gpu, None, THREADS)[0].what
    assert findings.tool_findings(WORKING, gpu, "3.5.0", THREADS) == []
    busy = findings.tool_findings(WORKING, _torch(), None, {"usable_cpus": 2, "torch_threads": 8})
    assert "OMP_NUM_THREADS=2" in busy[0].fix


def test_every_section_a_finding_names_is_on_the_page():
    labels = set(re.findall(r"^\(([\w-]+)\)=$", PAGE.read_text(encoding="utf-8"), flags=re.M))
    sources = "".join(p.read_text() for p in (ROOT / "src/devicelab/doctor").glob("*.py"))
    named = set(re.findall(r"""see\(["']([\w-]+)["']\)""", sources))
    assert named, "no see(...) found"
    assert named <= labels, f"sections missing from {PAGE.name}: {sorted(named - labels)}"


# -- the checks ------------------------------------------------------------------------------------
def test_a_cxx_that_does_not_exist_is_no_compiler(monkeypatch, tmp_path):
    monkeypatch.setenv("CXX", str(tmp_path / "nothing" / "c++"))
    checks.cxx_compiler.cache_clear()
    try:
        compiler = checks.cxx_compiler()
        reason = doctor.compile_unavailable("cpu")
    finally:
        checks.cxx_compiler.cache_clear()
    assert compiler.works is False and compiler.path is None and "CXX=" in compiler.detail
    assert "no working C++ compiler" in reason and "Fix:" in reason
    assert "your_machine.html#torch-compile" in reason


@pytest.mark.skipif(shutil.which("g++") is None, reason="no g++ on this machine")
def test_a_real_compiler_builds_the_probe(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    checks.cxx_compiler.cache_clear()
    try:
        compiler = checks.cxx_compiler()
    finally:
        checks.cxx_compiler.cache_clear()
    assert compiler.works, compiler.detail
    assert doctor.compile_unavailable("cpu") is None


def test_a_gpu_without_triton_cannot_compile(monkeypatch):
    monkeypatch.setattr(checks, "_triton_version", lambda: None)
    assert "Triton is not installed" in doctor.compile_unavailable("cuda")
    monkeypatch.setattr(checks, "_triton_version", lambda: "3.5.0")
    assert doctor.compile_unavailable("cuda") is None


def test_nvidia_gpus_from_nvidia_smi(monkeypatch):
    listing = (
        "GPU 0: NVIDIA GeForce RTX 3080 Ti (UUID: GPU-1234)\n"
        "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-5678)\n"
    )
    monkeypatch.setattr(checks, "_run", lambda command: listing)
    assert checks.nvidia_gpus() == (
        ["NVIDIA GeForce RTX 3080 Ti", "NVIDIA H100 80GB HBM3"],
        "nvidia-smi",
    )


def test_nvidia_gpus_from_the_pci_list(tmp_path):
    for name, vendor, klass, device in (
        ("0000:01:00.0", "0x10de", "0x030000", "0x2208"),  # an NVIDIA VGA controller
        ("0000:01:00.1", "0x10de", "0x040300", "0x1aef"),  # its audio function
        ("0000:00:02.0", "0x8086", "0x030000", "0x4680"),  # an Intel iGPU
    ):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "vendor").write_text(vendor + "\n")
        (folder / "class").write_text(klass + "\n")
        (folder / "device").write_text(device + "\n")
    assert checks._pci_nvidia(tmp_path) == ["NVIDIA PCI device 0x2208 at 0000:01:00.0"]


def test_driver_models_on_windows(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(
        checks, "_run", lambda command: "NVIDIA GeForce RTX 3080 Ti, WDDM\nNVIDIA A40, TCC\n"
    )
    assert checks._driver_models() == {"NVIDIA GeForce RTX 3080 Ti": "WDDM", "NVIDIA A40": "TCC"}


def test_the_torch_floor_is_the_one_in_pyproject():
    declared = re.search(r'"torch>=([\d.]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert doctor.torch_floor() == declared
    assert checks._release("2.13.0+cpu") == (2, 13, 0) and checks._release("2.4") == (2, 4)


# -- the command line ------------------------------------------------------------------------------
def test_doctor_json_has_the_issue_fields_and_its_exit_status(capsys):
    status = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert {"version", "cuda_built", "cuda_available", "mps_available"} <= set(report["torch"])
    assert {"path", "works"} <= set(report["compiler"])
    assert {"version", "works"} <= set(report["numba"])
    assert {"usable_cpus", "torch_threads"} <= set(report["threads"])
    assert all({"what", "why", "fix"} <= set(p) for p in report["problems"])
    assert status == (1 if report["problems"] else 0)


def test_doctor_text_lists_each_problem(monkeypatch, capsys):
    diagnosis = doctor.diagnose()
    broken = doctor.Diagnosis(
        **{**diagnosis.__dict__, "problems": [findings.Finding("w", "y", "f", "s")]}
    )
    monkeypatch.setattr(doctor, "diagnose", lambda: broken)
    assert main(["doctor"]) == 1
    assert "1 problem(s):" in capsys.readouterr().out


def test_doctor_internal_error_exits_2(monkeypatch, capsys):
    def fail():
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "diagnose", fail)
    assert main(["doctor"]) == 2
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err


# -- a machine without a compiler, and one with (subprocesses: slow) -------------------------------
def _doctor_json(env: dict[str, str]) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "devicelab", "doctor", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_doctor_reports_the_missing_compiler_with_a_fix(tmp_path):
    status, report = _doctor_json(env_without_compiler(tmp_path))
    assert status == 1
    assert report["compiler"]["works"] is False and report["compiler"]["path"] is None
    compiler = [p for p in report["problems"] if "C++ compiler" in p["what"]]
    assert len(compiler) == 1, report["problems"]
    assert compiler[0]["fix"] and compiler[0]["see"] == "your_machine.html#torch-compile"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="this check is for a machine with g++")
def test_doctor_finds_no_problem_on_a_machine_with_a_compiler():
    import os

    status, report = _doctor_json(dict(os.environ))
    assert report["problems"] == [] and status == 0, report["problems"]
    assert report["compiler"]["works"] is True
    if not (report["torch"]["cuda_available"] or report["torch"]["mps_available"]):
        assert "your_machine.html#no-gpu" in [n["see"] for n in report["notes"]]
