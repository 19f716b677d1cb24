"""
Overhead 1: moving data between host and device, and waiting for it
===================================================================

Before a GPU computes, its inputs must cross from host memory to device memory, and every
``loss.item()`` brings a result back. This page measures what a copy costs as it grows from
4 bytes to 256 MiB, and what one sync costs.

**What you will learn**

- that small copies are bound by latency (a fixed cost per copy) and large copies by
  bandwidth, and where the line between them falls;
- what pinned (page-locked) host memory buys, and when;
- how the measured bandwidth compares with the PCIe link's theoretical figure;
- the price of one ``.item()``: the unit cost behind the homework's curve.
"""

# %%
# Copies of growing size
# ----------------------
# :func:`devicelab.overheads.transfer_sweep` times ``dst.copy_(src)`` with
# ``torch.utils.benchmark`` (synchronised, repeated, median). On a GPU it measures
# host->device and device->host, from pageable and from pinned memory (``tensor.pin_memory()``
# and ``copy_(..., non_blocking=True)``). On a CPU-only machine it measures a host->host copy
# of the same sizes: the in-memory baseline a GPU transfer competes with.
import matplotlib.pyplot as plt
import torch

from devicelab.data import load_iris
from devicelab.overheads import pcie_bandwidth_gb_s, sync_cost, transfer_sweep
from devicelab.results import newest_record, provenance

SIZES = [4 * 16**k for k in range(7)] + [256 * 2**20]  # 4 B ... 64 MiB, 256 MiB
cpu_points = [p.to_dict() for p in transfer_sweep(SIZES, "cpu")]

record = newest_record("cuda")
if torch.cuda.is_available():
    gpu_points = [p.to_dict() for p in transfer_sweep(SIZES, "cuda")]
    gpu_name, live = torch.cuda.get_device_name(0), True
    from devicelab.hardware import gpu_info

    link = gpu_info()[0]
    link_gen, link_width = link.pcie_max_generation, link.pcie_max_width
elif record is not None:
    gpu_points = record["measurements"]["transfer"]["points"]
    gpu_name, live = record["device_name"], False
    gpu = record["hardware"]["gpus"][0]
    link_gen, link_width = gpu.get("pcie_max_generation"), gpu.get("pcie_max_width")
    print("No GPU on this machine: GPU transfers are RECORDED, not live.")
    print("Source:", provenance(record))
else:
    gpu_points, gpu_name, live, link_gen, link_width = [], None, False, None, None
    print("No GPU here and no recorded GPU results: only the host copy is measured.")


def table(points, title):
    print(title)
    for p in points:
        print(f"  {p['direction']:<13} {p['memory']:<8} {p['size_bytes']:>11,} B  "
              f"{p['median_s'] * 1e6:10.1f} us  {p['bandwidth_gb_s']:7.2f} GB/s")


table(cpu_points, "This CPU, host->host copy (live):")
if gpu_points:
    table(gpu_points, f"{gpu_name} ({'live' if live else 'recorded'}):")

# %%
# Time and bandwidth against size
# -------------------------------
series = {("host->host", "pageable"): cpu_points}
for p in gpu_points:
    series.setdefault((p["direction"], p["memory"]), []).append(p)

fig, (ax_time, ax_bw) = plt.subplots(1, 2, figsize=(10, 4))
for (direction, memory), points in series.items():
    sizes = [p["size_bytes"] for p in points]
    style = "--" if memory == "pageable" else "-"
    label = f"{direction}, {memory}" + ("" if direction == "host->host" or live else " (recorded)")
    ax_time.plot(sizes, [p["median_s"] * 1e6 for p in points], style, marker="o", ms=3, label=label)
    ax_bw.plot(sizes, [p["bandwidth_gb_s"] for p in points], style, marker="o", ms=3, label=label)

if gpu_points:
    pinned_h2d = [
        p for p in gpu_points if p["direction"] == "host->device" and p["memory"] == "pinned"
    ]
    floor_us = min(p["median_s"] for p in pinned_h2d) * 1e6
    # latency-bound: a copy costs less than twice the cheapest copy, whatever its size
    latency_bound = [p["size_bytes"] for p in pinned_h2d if p["median_s"] * 1e6 < 2 * floor_us]
    edge = max(latency_bound)
    for ax in (ax_time, ax_bw):
        ax.axvspan(SIZES[0], edge, color="#f2e6c9", alpha=0.6, lw=0)
    ax_time.text(SIZES[0] * 2, floor_us * 4, "latency-bound", fontsize=8)
    ax_time.text(edge * 4, floor_us * 4, "bandwidth-bound", fontsize=8)
    print(f"Pinned host->device copies from 4 B to {edge:,} B all cost less than twice the "
          f"cheapest one ({floor_us:.1f} us): latency-bound.")
if link_gen and link_width:
    theory = pcie_bandwidth_gb_s(link_gen, link_width)
    ax_bw.axhline(theory, color="k", lw=0.8, ls=":")
    ax_bw.text(
        SIZES[0],
        theory * 1.05,
        f"PCIe Gen{link_gen} x{link_width} theory, {theory:.0f} GB/s",
        fontsize=8,
    )
for ax in (ax_time, ax_bw):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("bytes per copy")
ax_time.set_ylabel("microseconds per copy")
ax_bw.set_ylabel("GB/s")
ax_bw.legend(fontsize=7, loc="lower right")
fig.suptitle("Copy cost: flat for small copies, proportional for large ones")
fig.tight_layout()

# %%
# What the curves say
# -------------------
iris = load_iris()
print(
    f"Iris training features: {iris.X_train.nbytes:,} bytes; labels: {iris.y_train.nbytes:,} bytes"
)
if gpu_points:
    best = {
        m: max(p["bandwidth_gb_s"] for p in gpu_points if p["memory"] == m)
        for m in ("pageable", "pinned")
    }
    print(
        f"Best GPU bandwidth: pinned {best['pinned']:.1f} GB/s, pageable {best['pageable']:.1f} GB/s"
    )
    if link_gen and link_width:
        print(
            f"Pinned reaches {best['pinned'] / theory:.0%} of the link's theoretical {theory:.1f} GB/s"
        )

# sphinx_gallery_start_ignore
if gpu_points:
    assert edge >= 1024, "the prose says a 4-byte and a 1 KiB copy cost about the same"
    assert best["pinned"] > best["pageable"], (
        "the prose says pinned memory is faster for big copies"
    )
    if link_gen and link_width:
        assert best["pinned"] <= theory * 1.05
# sphinx_gallery_end_ignore

# %%
# - **Small copies cost a fixed latency.** A 4-byte copy and a 1 KiB copy take about the same
#   time on a GPU: the cost is the driver call, the DMA setup and the PCIe round-trip, not
#   the bytes. Iris's training set (its size is printed above) sits at the far left of the chart.
# - **Large copies are bandwidth-bound**, and from *pageable* memory the driver first copies
#   through its own pinned staging buffer, so pinned memory moves large tensors several times
#   faster. Pinning is itself costly, so pin buffers you reuse (``DataLoader(pin_memory=True)``
#   does that for you), not one-off tensors.
# - For the course's loop, the data is moved once, before training. The transfer that repeats
#   is the loss coming back: 4 bytes per epoch, all latency.

# %%
# The price of one sync
# ---------------------
# ``.item()`` on a one-element tensor copies 4 bytes back and waits for the device.
cpu_sync = sync_cost("cpu")
print(f"CPU: {cpu_sync.median_s * 1e6:.3f} us per .item() (live)")
if torch.cuda.is_available():
    gpu_sync = sync_cost("cuda").median_s
    print(f"GPU: {gpu_sync * 1e6:.2f} us per .item() on an idle GPU (live)")
elif record is not None:
    gpu_sync = record["measurements"]["sync"]["median_s"]
    print(f"GPU: {gpu_sync * 1e6:.2f} us per .item() on an idle GPU (recorded on {gpu_name})")
if gpu_points:
    print(f"A GPU sync costs {gpu_sync / cpu_sync.median_s:,.0f}x a CPU one.")

# %%
# That is the round-trip on an idle GPU. Inside a training loop a sync costs more, because
# it also stops the CPU from queueing ahead: see the homework, :doc:`../training/plot_record_frequency`.
