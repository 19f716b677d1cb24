"""devicelab.hardware: real cpuinfo fixtures, cgroup quotas, mocked GPU backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import archspec.cpu
import pytest
import torch

from devicelab import hardware
from devicelab.hardware import (
    cgroup_cpu_limit,
    cpu_info,
    gpu_architecture,
    gpu_info,
    gpu_tier,
    machine_report,
    parse_cpuinfo,
)

FIXTURES = Path(__file__).parent / "fixtures" / "cpuinfo"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# (file, vendor, microarchitecture, generation contains, notable extensions present/absent)
CPUS = [
    (
        "intel-core-ultra-9-285.txt",
        "GenuineIntel",
        "alderlake",
        "Arrow Lake",
        {"avx2", "avx_vnni"},
        {"avx512f"},
    ),
    (
        "intel-xeon-platinum-8480.txt",
        "GenuineIntel",
        "sapphirerapids",
        "Sapphire Rapids",
        {"amx_tile", "avx512_bf16"},
        set(),
    ),
    (
        "intel-xeon-platinum-8260m.txt",
        "GenuineIntel",
        "cascadelake",
        "Cascade Lake",
        {"avx512f", "avx512_vnni"},
        {"amx_tile"},
    ),
    (
        "amd-ryzen-9-5950x.txt",
        "AuthenticAMD",
        "zen3",
        "Zen 3 (Ryzen 5000 Vermeer)",
        {"avx2", "fma"},
        {"avx512f"},
    ),
    (
        "amd-epyc-9654.txt",
        "AuthenticAMD",
        "zen4",
        "Zen 4 (EPYC 9004 Genoa",
        {"avx512f", "avx512_bf16"},
        {"sme"},
    ),
    ("amd-ryzen-9-9950x.txt", "AuthenticAMD", "zen5", "Zen 5 (Ryzen 9000", {"avx512f"}, set()),
    ("arm-neoverse-v2.txt", "ARM", "neoverse_v2", "Neoverse V2", {"sve2", "bf16", "i8mm"}, set()),
    ("apple-m2-asahi.txt", "Apple", "m2", "Apple M2", {"asimd", "i8mm"}, {"sve"}),
    (
        "intel-xeon-emerald-rapids-2vcpu.txt",
        "GenuineIntel",
        "icelake",
        "Emerald Rapids",
        {"amx_tile"},
        set(),
    ),
]


@pytest.mark.parametrize(("name", "vendor", "uarch", "generation", "has", "lacks"), CPUS)
def test_parse_real_cpuinfo_dumps(name, vendor, uarch, generation, has, lacks):
    cpu = parse_cpuinfo(fixture(name))
    assert cpu.vendor == vendor
    assert cpu.microarchitecture == uarch
    assert generation in cpu.generation
    assert has <= set(cpu.isa_extensions)
    assert not lacks & set(cpu.isa_extensions)
    # a dump cannot say what this process may use, nor what torch would do with it
    assert cpu.usable_cpus is None and cpu.cpu_quota is None
    assert cpu.torch_cpu_capability is None and cpu.torch_threads is None


def test_x86_identity_fields():
    cpu = parse_cpuinfo(fixture("amd-ryzen-9-5950x.txt"))
    assert (cpu.family, cpu.model, cpu.stepping) == (25, 33, 0)
    assert cpu.machine == "x86_64"
    assert cpu.model_name == "AMD Ryzen 9 5950X 16-Core Processor"


def test_cascade_lake_is_told_apart_from_skylake_by_stepping():
    text = fixture("intel-xeon-platinum-8260m.txt")
    assert "Cascade Lake" in parse_cpuinfo(text).generation
    skylake = text.replace("stepping\t: 7", "stepping\t: 4").replace(
        "stepping        : 7", "stepping        : 4"
    )
    assert "Skylake-SP" in parse_cpuinfo(skylake).generation


def test_counts_from_a_complete_dump():
    cpu = parse_cpuinfo(fixture("intel-xeon-emerald-rapids-2vcpu.txt"))
    assert (cpu.logical_cpus, cpu.physical_cores, cpu.threads_per_core) == (2, 2, 1)


def test_counts_unknown_from_a_single_entry_dump():
    cpu = parse_cpuinfo(fixture("intel-xeon-platinum-8480.txt"))  # first entry of 112
    assert cpu.logical_cpus is None and cpu.physical_cores is None
    assert cpu.threads_per_core == 2  # siblings / cpu cores is known from one entry
    arm = parse_cpuinfo(fixture("arm-neoverse-v2.txt"))
    assert arm.logical_cpus is None and arm.physical_cores is None


def test_arm_full_dump_counts_cores():
    entry = fixture("arm-neoverse-v2.txt").strip()
    text = "\n\n".join(
        entry.replace("processor       : 0", f"processor       : {i}") for i in range(4)
    )
    cpu = parse_cpuinfo(text)
    assert (cpu.logical_cpus, cpu.physical_cores, cpu.threads_per_core) == (4, 4, 1)


@pytest.mark.parametrize("text", ["", "   \n", "hello world", "MemTotal: 100 kB\nMemFree: 5 kB\n"])
def test_parse_cpuinfo_rejects_non_cpuinfo(text):
    with pytest.raises(ValueError, match="cpuinfo"):
        parse_cpuinfo(text)


@pytest.mark.slow  # wall-clock
def test_cpu_info_live_is_fast():
    """Quick enough to call at the top of every page: well under the 0.5 s it takes alone,
    with room for a competing process on a 2-core machine."""
    cpu_info()  # first call loads archspec's tables
    start = time.perf_counter()
    cpu_info()
    assert time.perf_counter() - start < 2.0


def test_cpu_info_live_is_consistent():
    cpu = cpu_info()
    assert cpu.logical_cpus == os.cpu_count() and 1 <= cpu.usable_cpus <= cpu.logical_cpus
    if cpu.cpu_quota is None and hasattr(os, "sched_getaffinity"):  # what the scheduler allows
        assert cpu.usable_cpus == len(os.sched_getaffinity(0))
    assert cpu.torch_threads == torch.get_num_threads()
    assert cpu.torch_cpu_capability == torch.backends.cpu.get_cpu_capability()


# -- cgroup quotas --------------------------------------------------------------------------
def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota(tmp_path):
    write(tmp_path / "job" / "cpu.max", "150000 100000\n")
    assert cgroup_cpu_limit(tmp_path, "0::/job\n") == pytest.approx(1.5)


def test_cgroup_v2_unlimited(tmp_path):
    write(tmp_path / "job" / "cpu.max", "max 100000\n")
    assert cgroup_cpu_limit(tmp_path, "0::/job\n") is None


def test_cgroup_v2_parent_limit_is_the_tightest(tmp_path):
    write(tmp_path / "a" / "cpu.max", "100000 100000\n")
    write(tmp_path / "a" / "b" / "cpu.max", "400000 100000\n")
    assert cgroup_cpu_limit(tmp_path, "0::/a/b\n") == pytest.approx(1.0)


def test_cgroup_v2_container_sees_its_own_root(tmp_path):
    # inside a container /proc/self/cgroup names the host's path; only the root exists
    write(tmp_path / "cpu.max", "200000 100000\n")
    assert cgroup_cpu_limit(tmp_path, "0::/kubepods/pod1/abc\n") == pytest.approx(2.0)


def test_cgroup_v1_quota(tmp_path):
    write(tmp_path / "cpu,cpuacct" / "docker" / "x" / "cpu.cfs_quota_us", "50000\n")
    write(tmp_path / "cpu,cpuacct" / "docker" / "x" / "cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path, "4:cpu,cpuacct:/docker/x\n") == pytest.approx(0.5)


def test_cgroup_v1_no_quota(tmp_path):
    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "-1\n")
    write(tmp_path / "cpu" / "cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path, "4:cpu:/\n") is None


def test_no_cgroup_files(tmp_path):
    assert cgroup_cpu_limit(tmp_path, "0::/\n") is None
    assert cgroup_cpu_limit(tmp_path, "") is None


def test_usable_cpus_respects_the_quota(monkeypatch):
    monkeypatch.setattr(hardware.cpu, "cgroup_cpu_limit", lambda: 1.5)
    cpu = cpu_info()
    assert cpu.cpu_quota == 1.5
    assert cpu.usable_cpus == min(2, cpu.logical_cpus)


# -- GPUs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cc", "name"),
    [((3, 7), "Kepler"), ((5, 2), "Maxwell"), ((6, 1), "Pascal"), ((7, 0), "Volta"),
     ((7, 5), "Turing"), ((8, 0), "Ampere"), ((8, 6), "Ampere"), ((8, 9), "Ada Lovelace"),
     ((9, 0), "Hopper"), ((10, 0), "Blackwell"), ((12, 0), "Blackwell")],
)  # fmt: skip
def test_gpu_architecture(cc, name):
    assert gpu_architecture(*cc) == name


def test_gpu_architecture_unknown_is_honest():
    assert gpu_architecture(13, 7) == "unknown (sm_137)"
    assert gpu_architecture(2, 0) == "unknown (sm_20)"


@pytest.mark.parametrize(
    ("name", "tier"),
    [("NVIDIA H100 80GB HBM3", "data center"), ("NVIDIA A100-SXM4-40GB", "data center"),
     ("NVIDIA A10", "data center"), ("Tesla T4", "data center"), ("NVIDIA L40S", "data center"),
     ("AMD Instinct MI300X", "data center"), ("NVIDIA GeForce RTX 3080 Ti", "consumer"),
     ("NVIDIA GeForce RTX 4090", "consumer"), ("AMD Radeon RX 7900 XTX", "consumer"),
     ("NVIDIA RTX A6000", "workstation"), ("NVIDIA RTX 6000 Ada Generation", "workstation"),
     ("Quadro RTX 8000", "workstation"), ("NVIDIA Jetson AGX Orin", "embedded"),
     ("Orin", "embedded"), ("Apple M2 Pro GPU", "integrated"), ("AMD Radeon Graphics", "integrated"),
     ("Mystery Accelerator 9000", "unknown")],
)  # fmt: skip
def test_gpu_tier(name, tier):
    assert gpu_tier(name) == tier


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_gpu_info_without_a_gpu_is_empty(no_gpu):
    assert gpu_info() == []
    assert machine_report()["gpus"] == []


def fake_props(**overrides):
    props = dict(name="NVIDIA H100 80GB HBM3", major=9, minor=0, total_memory=80 * 2**30,
                 multi_processor_count=132, L2_cache_size=50 * 2**20)  # fmt: skip
    props.update(overrides)
    return SimpleNamespace(**props)


@pytest.fixture
def fake_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (70 * 2**30, 80 * 2**30))
    monkeypatch.setattr(hardware.gpu, "_nvml_pcie", lambda i: (4, 16, 5, 16))
    return monkeypatch


def test_gpu_info_cuda(fake_cuda):
    fake_cuda.setattr(torch.cuda, "get_device_properties", lambda i: fake_props())
    fake_cuda.setattr(torch.version, "hip", None)
    (gpu,) = gpu_info()
    assert gpu.backend == "cuda" and gpu.compute_capability == (9, 0)
    assert gpu.architecture == "Hopper" and gpu.tier == "data center"
    assert gpu.total_memory_bytes == 80 * 2**30 and gpu.free_memory_bytes == 70 * 2**30
    assert gpu.multiprocessors == 132 and gpu.l2_cache_bytes == 50 * 2**20
    assert (gpu.pcie_generation, gpu.pcie_width, gpu.pcie_max_generation) == (4, 16, 5)
    assert json.loads(json.dumps(gpu.to_dict()))["compute_capability"] == [9, 0]


def test_gpu_info_cuda_without_nvml_leaves_link_unknown(fake_cuda):
    fake_cuda.setattr(torch.cuda, "get_device_properties", lambda i: fake_props())
    fake_cuda.setattr(torch.version, "hip", None)
    fake_cuda.setattr(hardware.gpu, "_nvml_pcie", lambda i: (None, None, None, None))
    (gpu,) = gpu_info()
    assert gpu.pcie_generation is None and gpu.pcie_width is None


def test_gpu_info_rocm(fake_cuda):
    props = fake_props(
        name="AMD Instinct MI300X", gcnArchName="gfx942:sramecc+:xnack-", major=9, minor=4
    )
    fake_cuda.setattr(torch.cuda, "get_device_properties", lambda i: props)
    fake_cuda.setattr(torch.version, "hip", "6.2.0")
    (gpu,) = gpu_info()
    assert gpu.backend == "rocm"
    assert gpu.compute_capability is None  # not a CUDA capability: not invented
    assert gpu.architecture == "CDNA 3" and gpu.tier == "data center"
    assert gpu.pcie_generation is None  # NVML is NVIDIA-only


def test_gpu_info_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(archspec.cpu, "brand_string", lambda: "Apple M2 Pro")
    monkeypatch.setattr(torch.mps, "recommended_max_memory", lambda: 21 * 2**30, raising=False)
    (gpu,) = gpu_info()
    assert gpu.backend == "mps" and gpu.tier == "integrated"
    assert gpu.name == "Apple M2 Pro GPU"
    assert gpu.compute_capability is None and gpu.multiprocessors is None
    assert gpu.total_memory_bytes == 21 * 2**30


@pytest.mark.slow
def test_report_cli_text_and_json():
    text = subprocess.run([sys.executable, "-m", "devicelab", "report"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "CPU" in text and "generation" in text and "usable" in text
    facts = json.loads(subprocess.run([sys.executable, "-m", "devicelab", "report", "--json"],
                                      capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert facts["cpu"]["logical_cpus"] == os.cpu_count()
    assert facts["torch"] == torch.__version__
    assert [g["name"] for g in facts["gpus"]] == [g.name for g in gpu_info()]


def test_cpu_info_without_proc_cpuinfo_uses_archspec(monkeypatch):
    class NoProcfs:
        def __init__(self, *args):
            pass

        def read_text(self):
            raise OSError("no /proc here")

    monkeypatch.setattr(hardware.cpu, "Path", NoProcfs)
    monkeypatch.setattr(archspec.cpu, "brand_string", lambda: "Apple M2 Pro")
    cpu = cpu_info()
    assert cpu.model_name == "Apple M2 Pro"
    assert cpu.microarchitecture == archspec.cpu.host().name
    assert cpu.family is None and cpu.model is None  # not invented
    assert cpu.logical_cpus == os.cpu_count() and cpu.torch_threads == torch.get_num_threads()
