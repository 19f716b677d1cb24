"""
Overhead 3: an under-used GPU, and where the GPU starts to win
==============================================================

A data-center GPU has over a hundred streaming multiprocessors, each wanting thousands of threads in flight. The
Iris step's largest matrix is 120 by 10. This page grows the model and the batch until the GPU
has enough work, and finds the crossover where it overtakes the CPU.

**What you will learn**

- the overhead test: if doubling the work barely changes the time, the run is overhead-bound;
- the achieved FLOP/s of each device as the work grows;
- the crossover width and batch size at which the GPU overtakes the CPU, and how to find
  yours.
"""

# %%
# Two sweeps
# ----------
# :func:`devicelab.overheads.utilization_sweep` times one full training step (forward,
# backward, SGD step, no ``loss.item()``) on synthetic data with 4 features and 3 classes:
#
# - **width**: the hidden layer grows from 10 (the course) to 32,000, batch fixed at 120;
# - **batch**: the batch grows from 120 to 1.2 million rows, width fixed at 10.
import matplotlib.pyplot as plt
import torch

from devicelab.overheads import crossover, utilization_sweep
from devicelab.results import provenance, recorded_results

HIDDENS = [10, 32, 100, 320, 1_000, 3_200, 10_000, 32_000]
BATCHES = [120, 1_200, 12_000, 120_000, 1_200_000]

cpu = {"width": utilization_sweep("cpu", hiddens=HIDDENS, batches=[120]),
       "batch": utilization_sweep("cpu", hiddens=[10], batches=BATCHES)}
cpu = {axis: [p.to_dict() for p in points] for axis, points in cpu.items()}

record = next(iter(recorded_results("cuda")), None)
if torch.cuda.is_available():
    gpu = {"width": utilization_sweep("cuda", hiddens=HIDDENS, batches=[120]),
           "batch": utilization_sweep("cuda", hiddens=[10], batches=BATCHES)}
    gpu = {axis: [p.to_dict() for p in points] for axis, points in gpu.items()}
    gpu_label = f"GPU, live: {torch.cuda.get_device_name(0)}"
elif record is not None:
    gpu = record["measurements"]["utilization"]["sweeps"][record["device"]]
    gpu_label = f"GPU, recorded: {record['device_name']}"
    print("No GPU on this machine: GPU sweeps are RECORDED, not live.")
    print("Source:", provenance(record))
else:
    gpu, gpu_label = None, None
    print("No GPU here and no recorded GPU results: only the CPU is swept.")

KEY = {"width": "hidden", "batch": "batch"}
for axis in ("width", "batch"):
    print(f"\n{axis} sweep: {KEY[axis]:>9}  {'CPU us':>10} {'CPU GFLOP/s':>12}"
          + (f"  {'GPU us':>10} {'GPU GFLOP/s':>12}" if gpu else ""))
    for i, c in enumerate(cpu[axis]):
        line = f"{'':>13}{c[KEY[axis]]:>11,}  {c['median_s'] * 1e6:10.1f} {c['flops_per_s'] / 1e9:12.2f}"
        if gpu:
            g = gpu[axis][i]
            line += f"  {g['median_s'] * 1e6:10.1f} {g['flops_per_s'] / 1e9:12.2f}"
        print(line)

# %%
# The crossover
# -------------
# :func:`devicelab.overheads.crossover` returns the first size from which the GPU is faster
# and stays faster. With a recorded GPU, the comparison that means something is against the
# CPU of the *same* machine, recorded in the same run; the live CPU here is another machine.
crossovers = {}
if gpu:
    for axis in ("width", "batch"):
        sizes = [p[KEY[axis]] for p in gpu[axis]]
        here = crossover(
            sizes, [p["median_s"] for p in cpu[axis]], [p["median_s"] for p in gpu[axis]]
        )
        print(f"{axis}: GPU ({'live' if torch.cuda.is_available() else 'recorded'}) vs this CPU (live): "
              f"{'GPU faster from ' + format(here, ',') if here else 'the GPU never overtakes'}")
if record is not None:
    u = record["measurements"]["utilization"]
    for axis in ("width", "batch"):
        crossovers[axis] = u[f"crossover_{axis}"]
        print(f"{axis}: {record['device_name']} vs its own host CPU (recorded): GPU faster from "
              f"{KEY[axis]} = {crossovers[axis]:,}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, axis in zip(axes, ("width", "batch"), strict=True):
    sizes = [p[KEY[axis]] for p in cpu[axis]]
    ax.plot(sizes, [p["median_s"] * 1e6 for p in cpu[axis]], "o-", label="CPU, live")
    if gpu:
        ax.plot(sizes, [p["median_s"] * 1e6 for p in gpu[axis]], "s-" if torch.cuda.is_available() else "s--",
                label=gpu_label)
    if record is not None and not torch.cuda.is_available():
        host = record["measurements"]["utilization"]["sweeps"]["cpu"][axis]
        ax.plot(sizes, [p["median_s"] * 1e6 for p in host], "^:", color="grey",
                label="its host CPU, recorded")
        ax.axvline(crossovers[axis], color="k", lw=0.8, ls=":")
        ax.text(crossovers[axis], 0.98, " recorded\n crossover", fontsize=7, va="top",
                transform=ax.get_xaxis_transform())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{KEY[axis]} ({'batch 120' if axis == 'width' else 'hidden 10'})")
    ax.set_ylabel("microseconds per training step")
    ax.legend(fontsize=7)
axes[0].set_title("Wider model")
axes[1].set_title("Bigger batch")
fig.tight_layout()

# %%
# Reading the curves
# ------------------
# The GPU's curve is flat at first: from the course's width up to widths hundreds of times
# larger, its time per step barely moves, because it is paying launch overhead, not doing
# arithmetic. That is the overhead test from Horace He's "Making Deep Learning Go Brrrr":
# when more work costs no more time, the work was not the cost. The CPU's curve rises much
# earlier, because a CPU is busy as soon as there is arithmetic to do. Where the curves cross,
# the GPU starts to win, and from there the gap only grows.
if gpu:
    flat = [p["median_s"] for p in gpu["width"] if p["hidden"] <= 1_000]
    print(f"GPU time per step from width 10 to 1,000: {min(flat) * 1e6:.0f} to {max(flat) * 1e6:.0f} us "
          f"({max(flat) / min(flat):.1f}x for {1_000 // 10}x the work)")
    peak = max(p["flops_per_s"] for axis in gpu for p in gpu[axis])
    print(f"Best achieved: GPU {peak / 1e12:.2f} TFLOP/s, CPU "
          f"{max(p['flops_per_s'] for axis in cpu for p in cpu[axis]) / 1e12:.3f} TFLOP/s")

# sphinx_gallery_start_ignore
if gpu:
    # "flat at first": far less than proportional growth over a 100x wider model
    assert max(flat) / min(flat) < 10, flat
if record is not None:
    assert crossovers["width"] is not None and crossovers["batch"] is not None
# sphinx_gallery_end_ignore

# %%
# **Is your model on the right device?** Run this sweep at your own shapes:
# ``utilization_sweep("cuda", hiddens=[...], batches=[...])`` against the same on ``"cpu"``,
# or ``python -m devicelab bench`` for the lot. If the GPU's time does not move when you
# double the batch, the GPU is waiting on launches: give it a larger batch, fuse the
# step (:doc:`plot_remedies`), or keep the model on the CPU.
