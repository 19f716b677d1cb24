"""
Reading a GPU: memory, architecture, tier and link
==================================================

To judge a GPU, look at its memory, its tier and its architecture generation; for small
models, also at the link that connects it to the CPU.

**What you will learn**

- what :func:`devicelab.hardware.gpu_info` reports for each GPU, and where each field comes
  from (torch, and NVML through ``nvidia-ml-py`` when it is installed);
- how a CUDA compute capability maps to an architecture, and a marketing name to a tier;
- what those numbers mean for training, and why none of them helps a model as small as the
  Iris MLP;
- how the calls behave on a machine with no GPU at all.
"""

# %%
# The GPUs torch can use here
# ---------------------------
import matplotlib.pyplot as plt
import torch

from devicelab.hardware import GPUInfo, gpu_architecture, gpu_info, gpu_tier
from devicelab.results import provenance, recorded_results

print(
    "torch",
    torch.__version__,
    "| CUDA build:",
    torch.version.cuda,
    "| ROCm build:",
    torch.version.hip,
)
print("torch.cuda.is_available():", torch.cuda.is_available())
print("torch.backends.mps.is_available():", torch.backends.mps.is_available())

gpus = gpu_info()
print(f"gpu_info() found {len(gpus)} GPU(s)")

# %%
# On a machine without a GPU, ``gpu_info()`` returns an empty list rather than raising, and
# ``torch.cuda.is_available()`` is simply False. When that happens this page shows a report
# recorded on a real GPU instead, labelled as such.
records = recorded_results("cuda")
if gpus:
    source = "live, this machine"
    shown = gpus
else:
    if not records:
        raise RuntimeError("no GPU here and no recorded GPU results in results/: run "
                           "`bash results/record.sh OUT` on a GPU machine first")
    record = records[0]
    source = provenance(record)
    shown = [
        GPUInfo(
            **{
                **g,
                "compute_capability": tuple(g["compute_capability"])
                if g["compute_capability"]
                else None,
            }
        )
        for g in record["hardware"]["gpus"]
    ]
    print("No GPU on this machine: showing a RECORDED report, not a live one.")
print("Source:", source)

# sphinx_gallery_start_ignore
assert shown, "the page must show a GPU report, live or recorded"
# sphinx_gallery_end_ignore


# %%
# Each GPU, field by field
# ------------------------
def gib(n):
    return "unknown" if n is None else f"{n / 2**30:.1f} GiB"


for gpu in shown:
    cc = gpu.compute_capability
    print(f"GPU {gpu.index}: {gpu.name}  [{gpu.backend}]")
    print(
        f"  memory         {gib(gpu.total_memory_bytes)} total, {gib(gpu.free_memory_bytes)} free"
    )
    print(
        f"  architecture   {gpu.architecture}"
        + (f" (compute capability {cc[0]}.{cc[1]})" if cc else "")
    )
    print(f"  tier           {gpu.tier}")
    print(f"  SMs            {gpu.multiprocessors}")
    print(
        f"  L2 cache       {gpu.l2_cache_bytes / 2**20:.0f} MiB"
        if gpu.l2_cache_bytes
        else "  L2 cache       unknown"
    )
    if gpu.pcie_generation:
        print(f"  PCIe link      Gen{gpu.pcie_generation} x{gpu.pcie_width} now, "
              f"max Gen{gpu.pcie_max_generation} x{gpu.pcie_max_width}")
    else:
        print("  PCIe link      unknown (NVML not installed, or not a PCIe link)")

# %%
# What these numbers mean for training:
#
# - **Memory** bounds the model, optimizer state, activations and batch you can hold. The
#   Iris MLP needs a few kilobytes of it.
# - **Architecture** decides the number formats and units: tensor cores since Volta, bf16 and
#   TF32 since Ampere, FP8 since Ada/Hopper. It matters for large matrix products.
# - **SMs** (streaming multiprocessors) are the parallel units. A kernel needs thousands of
#   threads in flight on every SM to use the chip; a 120x10 matrix product gives one SM a
#   few warps and leaves the rest idle.
# - **Tier**: data-center parts have more memory bandwidth, FP64 and ECC; consumer cards are
#   cheaper per FLOP. Neither tier launches a kernel faster.
# - **PCIe link**: every ``.to(device)`` and ``.item()`` crosses it. Its generation and width
#   bound bandwidth for large copies; small copies are bound by latency instead. An idle GPU
#   may drop to a lower generation to save power, so "now" can read lower than "max".

# %%
# From compute capability to architecture, from name to tier
# ----------------------------------------------------------
# Both are pure functions, so they can be tried on any name or capability:
for major, minor in [(7, 5), (8, 0), (8, 6), (8, 9), (9, 0), (10, 0), (12, 0), (13, 7)]:
    print(f"sm_{major}{minor} -> {gpu_architecture(major, minor)}")
for name in ["NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 3080 Ti", "NVIDIA RTX A6000",
             "NVIDIA Jetson AGX Orin", "Tesla T4", "AMD Instinct MI300X", "Apple M2 GPU"]:
    print(f"{name!r} -> {gpu_tier(name)}")

# sphinx_gallery_start_ignore
assert gpu_architecture(9, 0) == "Hopper" and gpu_architecture(13, 7) == "unknown (sm_137)"
assert gpu_tier("NVIDIA GeForce RTX 3080 Ti") == "consumer"
# sphinx_gallery_end_ignore

# %%
# Memory at a glance
# ------------------
fig, ax = plt.subplots(figsize=(7, 1.2 + 0.5 * len(shown)))
for i, gpu in enumerate(shown):
    total = (gpu.total_memory_bytes or 0) / 2**30
    free = (gpu.free_memory_bytes or 0) / 2**30
    ax.barh(i, total, color="#d0d7e2", label="total" if i == 0 else None)
    ax.barh(i, free, color="#3a76c4", label="free" if i == 0 else None)
ax.set_yticks(range(len(shown)), [f"{g.index}: {g.name}" for g in shown])
ax.set_xlabel("GiB")
ax.set_title(f"GPU memory ({'live' if gpus else 'recorded'})")
ax.legend(loc="lower right")
fig.tight_layout()
