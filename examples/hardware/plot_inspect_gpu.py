"""
Reading a GPU: memory, architecture, tier and link
==================================================

To judge a GPU, read its memory, its :term:`tier` and its architecture :term:`generation`;
torch reports the memory and the architecture in one call, and the name tells the tier. For a
model as small as the course's, look also at the link that connects the GPU to the CPU.

**What you will learn**

- the course's :term:`device` idiom, and how to read a GPU's name, :term:`GPU memory`,
  :term:`compute capability` and number of :term:`SMs <SM>` with torch alone;
- what :func:`devicelab.hardware.gpu_info` adds: the architecture's name, the market tier,
  free memory, L2 cache and the PCIe link;
- what those numbers mean for training, and why none of them helps a model as small as the
  Iris MLP;
- what a machine with no GPU prints, and where this page's GPU figures then come from.
"""

# %%
# The course's way: choose a device, then ask torch
# -------------------------------------------------
# Every course script starts by choosing a device: the GPU when torch can use one, the CPU
# otherwise. ``torch.cuda.get_device_properties(0)`` then describes the first GPU: its name,
# its memory, its compute capability (``major.minor``) and its streaming multiprocessors.
# On a machine with no GPU, those calls would raise, so they sit behind
# ``torch.cuda.is_available()``.
#
# .. rst-class:: course-code
import torch

print("torch", torch.__version__, "| built for CUDA:", torch.version.cuda or "no (a CPU build)")
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device:", device)

if torch.cuda.is_available():
    print("GPUs torch can use:", torch.cuda.device_count())
    props = torch.cuda.get_device_properties(0)
    print("name:", props.name)
    print(f"GPU memory: {props.total_memory / 2**30:.1f} GiB")
    print(f"compute capability: {props.major}.{props.minor}")
    print("streaming multiprocessors (SMs):", props.multi_processor_count)
else:
    print("No CUDA GPU here: skipped torch.cuda.get_device_properties(0), so this machine "
          "reports no GPU name, memory, compute capability or SM count.")

# %%
# The same four lines work on any CUDA machine, Colab included. A CPU build of torch (its
# ``torch.version.cuda`` is ``None``) reports no GPU even when one is plugged in: install the
# CUDA build to use it. On an Apple silicon Mac, torch's GPU is ``"mps"``, with
# ``torch.backends.mps.is_available()``, and has no compute capability.

# %%
# What the package reads beyond that
# ----------------------------------
# A compute capability is a number; :func:`devicelab.hardware.gpu_info` turns it into an
# architecture's name, and the marketing name into a tier. It also reads the free memory, the
# L2 cache and, through NVML (``nvidia-ml-py``, when it is installed), the PCIe link. On a
# machine without a GPU it returns an empty list rather than raising. This page then shows the
# report that ``python -m devicelab bench`` recorded on a real GPU, labelled as such: no GPU
# figure on this site is estimated.
import matplotlib.pyplot as plt

from devicelab.hardware import gpu_architecture, gpu_info, gpu_tier, recorded_gpus
from devicelab.models import MLP
from devicelab.results import newest_record, provenance

gpus = gpu_info()
record = newest_record("cuda")
if gpus:
    source = "live, this machine"
    shown = gpus
elif record is None:
    raise RuntimeError("no GPU here and no recorded GPU results in results/: run "
                       "`bash results/record.sh OUT` on a GPU machine first")
else:
    source = provenance(record)
    shown = recorded_gpus(record)
    print("No GPU on this machine: showing a RECORDED report, not a live one.")
print("Source:", source)

# sphinx_gallery_start_ignore
assert shown, "the page must show a GPU report, live or recorded"
assert bool(gpus) == (torch.cuda.is_available() or torch.backends.mps.is_available())
# sphinx_gallery_end_ignore


# %%
# Each GPU, field by field
# ------------------------
def gib(n):
    return "unknown" if n is None else f"{n / 2**30:.1f} GiB"


for gpu in shown:
    cc = gpu.compute_capability
    print(f"GPU {gpu.index}: {gpu.name}  [{gpu.backend}]")
    print(f"  memory         {gib(gpu.total_memory_bytes)} total, "
          f"{gib(gpu.free_memory_bytes)} free")
    print(f"  architecture   {gpu.architecture}"
          + (f" (compute capability {cc[0]}.{cc[1]})" if cc else ""))
    print(f"  tier           {gpu.tier}")
    print(f"  SMs            {gpu.multiprocessors}")
    print(f"  L2 cache       {gpu.l2_cache_bytes / 2**20:.0f} MiB" if gpu.l2_cache_bytes
          else "  L2 cache       unknown")
    if gpu.pcie_generation:
        print(f"  PCIe link      Gen{gpu.pcie_generation} x{gpu.pcie_width} now, "
              f"max Gen{gpu.pcie_max_generation} x{gpu.pcie_max_width}")
    else:
        print("  PCIe link      unknown (NVML not installed, or not a PCIe link)")

# %%
# What these numbers mean for training:
#
# - **Memory** bounds the model, the optimizer's state, the activations and the
#   :term:`batch` you can hold. The Iris MLP needs a few hundred bytes of it.
# - **Architecture** decides the number formats and units: tensor cores since Volta, bf16 and
#   :term:`TF32` since Ampere, FP8 since Ada and Hopper. It matters for large matrix products.
# - **SMs** (streaming multiprocessors) are the parallel units. A :term:`kernel` needs
#   thousands of threads in flight on every SM to use the chip; a 120x10 matrix product gives
#   one SM a few warps and leaves the rest idle: an :term:`under-used GPU`.
# - **Tier**: data-center parts have more memory :term:`bandwidth`, FP64 and ECC; consumer
#   cards are cheaper per :term:`FLOP`. Neither tier launches a kernel faster.
# - **PCIe link**: every ``.to(device)`` and ``.item()`` crosses it. Its generation and width
#   bound the bandwidth of large copies; small copies are bound by :term:`latency` instead.
#   An idle GPU may drop to a lower generation to save power, so "now" can read lower than
#   "max".

# %%
# From compute capability to architecture, from name to tier
# ----------------------------------------------------------
# Both are plain lookups in the package's tables, so they can be tried on any capability and
# any name, GPU or not:
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
# A capability the table does not know yet reads "unknown", never a guess.

# %%
# Memory at a glance
# ------------------
# Each GPU's memory, total and free, against what the course's model needs: its weights and
# biases, counted from the model itself.
weights_bytes = sum(p.numel() * p.element_size() for p in MLP().parameters())
largest = max(shown, key=lambda g: g.total_memory_bytes or 0)
share = weights_bytes / largest.total_memory_bytes if largest.total_memory_bytes else None
print(f"the Iris MLP's weights: {weights_bytes} bytes"
      + (f", 1/{round(1 / share):,} of the {largest.name}'s memory" if share else ""))

# sphinx_gallery_start_ignore
assert 100 <= weights_bytes < 1000, "the prose says 'a few hundred bytes'"
# sphinx_gallery_end_ignore

fig, ax = plt.subplots(figsize=(7, 1.6 + 0.5 * len(shown)))
for i, gpu in enumerate(shown):
    ax.barh(i, (gpu.total_memory_bytes or 0) / 2**30, color="#d0d7e2",
            label="total" if i == 0 else None)
    if gpu.free_memory_bytes is not None:
        ax.barh(i, gpu.free_memory_bytes / 2**30, height=0.5, color="#3a76c4",
                label="free" if i == 0 else None)
ax.set_yticks(range(len(shown)), [f"{g.index}: {g.name}" for g in shown])
ax.set_xlabel("GPU memory (GiB)")
kind = "live" if gpus else "recorded"
ax.set_title(f"The {largest.name} ({kind}) has {gib(largest.total_memory_bytes)} of memory;\n"
             f"the Iris MLP's weights need {weights_bytes} bytes of it")
ax.legend(title="memory", loc="center left", bbox_to_anchor=(1.01, 0.5))
fig.tight_layout()

# %%
# Summary
# -------
# - ``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`` picks the GPU
#   when there is one; ``torch.cuda.get_device_properties(0)`` gives its name, memory,
#   compute capability and SM count.
# - The compute capability names the architecture; the marketing name gives the tier.
# - On a machine without a GPU, guard those calls and say what was skipped; this site then
#   shows a GPU report recorded elsewhere, with its source.
# - None of these numbers makes a GPU fast for the course's tiny model: its weights take a
#   vanishing share of the memory, and its kernels are too small to fill the SMs.
#
# Exercises
# ---------
# 1. Run the course's cell on Colab with a GPU runtime. Which architecture and tier does the
#    package's table give for its compute capability and name?
# 2. Print ``torch.cuda.mem_get_info()`` on a GPU machine before and after
#    ``MLP().to(device)``. How much did the free memory move, and why is it more than the
#    weights need?
# 3. Look up the compute capability of a GPU you know, and pass it to
#    ``gpu_architecture(major, minor)``. What does it answer for a capability newer than the
#    table?
