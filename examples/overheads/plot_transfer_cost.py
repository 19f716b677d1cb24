"""
Overhead 1: moving data between host and device, and waiting for it
===================================================================

A small copy between host and device costs the same fixed :term:`latency` whatever its size,
and every ``loss.item()`` is such a copy plus a wait for the GPU. The course's loop moves its
data once, but it brings the loss back every epoch, so it pays that fixed cost every epoch.

This is the first of the three overheads the course meets: moving data and waiting for it
(this page), :doc:`launching kernels <plot_launch_overhead>`, and :doc:`a GPU with too little
work <plot_utilization>`. A fourth, communication between devices, lies beyond the course
(:doc:`plot_communication`).

**What you will learn**

- the course's own lines, ``.to(device)`` and ``loss.item()``, timed in plain code, and
  Horace He's :term:`batch test` applied to a copy;
- that small copies are bound by latency and large ones by :term:`bandwidth`, and where the
  line between them falls;
- what :term:`pinned memory` buys, and when;
- the price of one ``.item()``: the unit cost behind the homework's curve.
"""

# %%
# The course's lines, timed
# -------------------------
# A GPU works through a queue: ``X.to(device)`` and each operator only put work in it, and the
# CPU runs on. To time a copy, the CPU must wait for the queue to empty before it starts the
# clock and again before it stops it: that wait is ``torch.cuda.synchronize()``, a
# :term:`synchronisation`. ``loss.item()`` waits by itself, since it needs the number.
#
# Horace He's batch test ("Making Deep Learning Go Brrrr") asks one question: if doubling the
# batch barely changes the time, the time is not going to the work, and the run is
# :term:`overhead-bound`. Here the work is a copy of the Iris batch's shape, ``copy_`` into a
# tensor already on the device (on a CPU-only machine, a copy within host memory).
#
# .. rst-class:: course-code
import time

import torch

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def wait():
    if device.type == "cuda":
        torch.cuda.synchronize()  # the CPU waits until the GPU's queue is empty


def median_time(fn, repeats=300):
    times = []
    for _ in range(repeats):
        wait()
        start = time.perf_counter()
        fn()
        wait()
        times.append(time.perf_counter() - start)
    return sorted(times)[repeats // 2]


X = torch.rand(120, 4)  # the shape of Iris's training features
X_on_device = X.to(device)
print(f"device: {device}; X.to(device) made a copy: {X_on_device is not X}")

loss = torch.tensor(1.0, device=device)
print(f"loss.item(): {median_time(loss.item) * 1e6:.2f} µs")

X2 = torch.rand(240, 4)  # the batch, doubled
one, two = torch.empty(120, 4, device=device), torch.empty(240, 4, device=device)
ratio = median_time(lambda: two.copy_(X2)) / median_time(lambda: one.copy_(X))
verdict = "overhead-bound: the bytes are not the cost" if ratio < 1.5 else "the bytes count"
print(f"Batch test: doubling the batch changed the copy time by x{ratio:.2f}: {verdict}.")

# %%
# On a CPU, ``.to(device)`` hands back the same tensor: nothing moves, so a CPU run never pays
# this overhead. On a GPU the copy crosses the PCIe link. The batch test above asks whether a
# copy of the Iris batch is too small for its bytes to matter; the sweep below asks it of
# every size.
#
# Copies of growing size
# ----------------------
# :func:`devicelab.overheads.transfer_sweep` times the same ``dst.copy_(src)`` from 4 bytes to
# 256 MiB, with the waits above, many times over. On a GPU it measures host->device and
# device->host, from ordinary (pageable) memory and from pinned memory
# (``tensor.pin_memory()``, then ``copy_(..., non_blocking=True)``). On a CPU-only machine it
# measures the host->host copy. A GPU's figures come from a recorded run when there is no GPU.

import matplotlib.pyplot as plt

from devicelab.display import Collapsed
from devicelab.overheads import pcie_bandwidth_gb_s, sync_cost, transfer_sweep
from devicelab.results import newest_record, provenance, recorded_overheads, recorded_transfer

SIZES = [4 * 16**k for k in range(7)] + [256 * 2**20]  # 4 B ... 64 MiB, 256 MiB
cpu_points = [p.to_dict() for p in transfer_sweep(SIZES, "cpu")]

record = newest_record("cuda")
gpu_points, gpu_name, live, link = [], None, False, (None, None)
if torch.cuda.is_available():
    from devicelab.hardware import gpu_info

    gpu_points = [p.to_dict() for p in transfer_sweep(SIZES, "cuda")]
    gpu_name, live = torch.cuda.get_device_name(0), True
    link = (gpu_info()[0].pcie_max_generation, gpu_info()[0].pcie_max_width)
elif record is not None and recorded_transfer(record) is not None:
    gpu_points, *link = recorded_transfer(record)
    gpu_name = recorded_overheads(record).device_name
    print("No GPU here: the GPU's copies are", provenance(record))
else:
    print("No GPU here and no recorded GPU copies: only the host copy is measured.")

# %%
# The line between latency and bandwidth
# --------------------------------------
# Where the cheapest kind of GPU copy, host->device from pinned memory, stays within twice its
# fixed cost, its size does not matter: that region is latency-bound. Beyond it, the time
# grows with the bytes, and the ratio of the two is the bandwidth.
if gpu_points:
    pinned_h2d = [p for p in gpu_points
                  if p["direction"] == "host->device" and p["memory"] == "pinned"]
    floor_us = min(p["median_s"] for p in pinned_h2d) * 1e6
    edge = max(p["size_bytes"] for p in pinned_h2d if p["median_s"] * 1e6 < 2 * floor_us)
    best = {m: max(p["bandwidth_gb_s"] for p in gpu_points if p["memory"] == m)
            for m in ("pageable", "pinned")}
    print(f"{gpu_name}: pinned host->device copies from 4 B to {edge:,} B cost less than twice "
          f"the cheapest ({floor_us:.1f} µs). Best bandwidth: pinned {best['pinned']:.1f} GB/s, "
          f"pageable {best['pageable']:.1f} GB/s.")
    if all(link):
        theory = pcie_bandwidth_gb_s(*link)
        print(f"Pinned copies reach {best['pinned'] / theory:.0%} of the PCIe Gen{link[0]} "
              f"x{link[1]} link's theoretical {theory:.1f} GB/s.")


def table(points):
    return "\n".join(f"{p['direction']:<13} {p['memory']:<8} {p['size_bytes']:>11,} B "
                     f"{p['median_s'] * 1e6:10.1f} µs {p['bandwidth_gb_s']:7.2f} GB/s"
                     for p in points)


Collapsed(f"Every copy timed ({len(cpu_points) + len(gpu_points)} rows): size, time, bandwidth",
          table(cpu_points) + ("\n" + table(gpu_points) if gpu_points else ""))

# sphinx_gallery_start_ignore
if gpu_points:
    assert edge >= 1024, "the prose says a 4-byte and a 1 KiB copy cost about the same"
    assert best["pinned"] > best["pageable"], (
        "the prose says pinned memory is faster for big copies"
    )
    if all(link):
        assert best["pinned"] <= theory * 1.05
# sphinx_gallery_end_ignore

# %%
# Time and bandwidth against size
# -------------------------------
# The shaded band is the latency-bound region: there the left panel's curves are flat. To its
# right they rise with the bytes, and the right panel's bandwidth climbs towards the link's
# theoretical limit (the dotted line).
series = {("host->host", "pageable"): cpu_points}
for p in gpu_points:
    series.setdefault((p["direction"], p["memory"]), []).append(p)

fig, (ax_time, ax_bw) = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
for (direction, memory), points in series.items():
    sizes = [p["size_bytes"] for p in points]
    style = "--" if memory == "pageable" else "-"
    where = "this CPU" if direction == "host->host" else ("live" if live else "recorded")
    label = f"{direction}, {memory} ({where})"
    ax_time.plot(sizes, [p["median_s"] * 1e6 for p in points], style, marker="o", ms=3,
                 label=label)
    ax_bw.plot(sizes, [p["bandwidth_gb_s"] for p in points], style, marker="o", ms=3)
if gpu_points:
    for ax in (ax_time, ax_bw):
        ax.axvspan(SIZES[0], edge, color="#f2e6c9", alpha=0.6, lw=0,
                   label="latency-bound: GPU copy < 2x its cheapest" if ax is ax_time else None)
    if all(link):
        ax_bw.axhline(theory, color="k", lw=0.8, ls=":")
        ax_time.plot([], [], "k:", lw=0.8, label=f"PCIe Gen{link[0]} x{link[1]} theoretical")
    title = (f"Copies up to {edge:,} B cost one fixed latency; larger ones are "
             f"paid by the byte")
else:
    title = "Host copies: the time grows with the bytes once they are large"
for ax in (ax_time, ax_bw):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("bytes per copy")
ax_time.set_ylabel("µs per copy")
ax_bw.set_ylabel("GB/s")
fig.legend(loc="outside lower center", ncol=3, fontsize=7)
fig.suptitle(title)
plt.show()

# %%
# What the curves say
# -------------------
# - **Small copies cost a fixed latency.** A 4-byte copy and a 1 KiB copy take about the same
#   time on a GPU: the cost is the driver call, the DMA setup and the PCIe round-trip, not the
#   bytes. Iris's training features, the ``X`` of the first cell, sit at the far left of the
#   chart.
# - **Large copies are bandwidth-bound.** From pageable memory the driver first copies through
#   its own pinned staging buffer, so pinned memory moves large tensors faster. Pinning is
#   itself costly, so pin buffers you reuse (``DataLoader(pin_memory=True)`` does that for
#   you), not one-off tensors.
# - For the course's loop, the data is moved once, before training. The transfer that repeats
#   is the loss coming back: 4 bytes per epoch, all latency.
#
# The price of one sync
# ---------------------
# ``.item()`` on a one-element tensor copies 4 bytes back and waits for the device. The first
# cell timed it in plain code; :func:`devicelab.overheads.sync_cost` repeats it until the
# median settles.
cpu_sync = sync_cost("cpu").median_s
gpu_sync = None
if torch.cuda.is_available():
    gpu_sync, where = sync_cost("cuda").median_s, "live"
elif record is not None and recorded_overheads(record).sync_s is not None:
    gpu_sync, where = recorded_overheads(record).sync_s, f"recorded on {gpu_name}"
print(f"One .item(): CPU {cpu_sync * 1e6:.2f} µs (live)" + (
    f"; GPU {gpu_sync * 1e6:.2f} µs on an idle GPU ({where}), {gpu_sync / cpu_sync:,.0f}x the CPU's"
    if gpu_sync else "; GPU: none here and none recorded"))

# %%
# That is the round-trip on an idle GPU. Inside a training loop a sync can cost more, because
# it also stops the CPU from queueing the next epoch's work while the GPU finishes this one: see
# the homework, :doc:`../training/plot_record_frequency`.
#
# Summary
# -------
# - Placing data is one line, ``X.to(device)``; on a CPU it moves nothing, on a GPU it copies
#   over PCIe.
# - A small copy costs a fixed latency: doubling it barely changes its time, which is the batch
#   test's sign of an overhead-bound operation.
# - Large copies are limited by bandwidth, and pinned memory raises it.
# - ``loss.item()`` is a 4-byte copy plus a wait: the overhead the course's loop pays every
#   epoch, and the one the homework removes.
#
# Exercises
# ---------
# 1. In the first cell, make ``X`` a thousand times larger (``torch.rand(120_000, 4)`` and
#    ``X2`` twice that, with ``one`` and ``two`` to match) and run it again. Does the batch
#    test still call the copy overhead-bound? Find the size from which doubling a copy doubles
#    its time on your machine.
# 2. On a GPU, time ``X.to(device)`` against ``X.pin_memory().to(device, non_blocking=True)``
#    with ``median_time`` for a 64 MiB ``X``, then for a 4-byte one. Where does pinning pay?
# 3. On a GPU, call ``torch.cuda.set_sync_debug_mode("warn")`` before the course's training
#    loop: each ``loss.item()`` now prints a warning. Count them for ten epochs.
