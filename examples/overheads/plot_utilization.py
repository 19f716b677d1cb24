"""
Overhead 3: an under-used GPU, the roofline, and where the GPU starts to win
============================================================================

A data-center GPU has over a hundred streaming multiprocessors, each wanting thousands of
threads in flight. The Iris step's largest matrix is 120 by 10. This page grows the model and
the batch until the GPU has enough work, places every step on the roofline of each device, and
predicts the crossover where the GPU overtakes the CPU before measuring it.

**What you will learn**

- the overhead test: if doubling the work barely changes the time, the run is overhead-bound;
- the roofline: a device's two ceilings (compute, from a large matrix product, and memory
  bandwidth, from a large copy), and the arithmetic intensity (FLOPs per byte moved) that says
  which one a step sits under;
- why widening the course's 4-h-3 model leaves it at a few FLOPs per byte, and what takes a
  step to the compute ceiling (a hidden-to-hidden layer);
- which limit binds each region of a sweep: the launch floor, bandwidth or compute;
- the crossover width and batch size, predicted from those limits and measured.
"""

# %%
# Three sweeps
# ------------
# :func:`devicelab.overheads.utilization_sweep` times one full training step (forward,
# backward, SGD step, no ``loss.item()``) on synthetic data with 4 features and 3 classes:
#
# - **width**: the course's 4-h-3 model, the hidden layer grows from 10 to 32,000, batch 120;
# - **batch**: the 4-10-3 model, the batch grows from 120 to 1.2 million rows;
# - **deep**: a 4-h-h-3 model (:class:`~devicelab.models.DeepMLP`), whose hidden-to-hidden
#   layer is a real matrix product, the width grows at a batch of 1,024.
#
# Every point also carries its FLOPs, counted by PyTorch's
# :class:`~torch.utils.flop_counter.FlopCounterMode` over the step's forward, loss and
# backward, and the bytes it must move at least
# (:func:`devicelab.counts.count_step_bytes`: inputs and parameters read, what autograd saves
# for the backward written and read back, gradients written). Both depend on the shapes only.
#
# The deep sweep's largest points would cost a small CPU far more than this site's build
# budget, so the live CPU run stops before them (the page prints what they would cost, by
# this CPU's own roofline); a GPU, live or recorded, runs them all.
import matplotlib.pyplot as plt
import numpy as np
import torch

from devicelab.counts import mlp_step_counts
from devicelab.overheads import count_step_ops, launch_cost, utilization_sweep
from devicelab.results import newest_record, provenance
from devicelab.roofline import Ceilings, StepCostModel, crossover, measure_ceilings

HIDDENS = [10, 32, 100, 320, 1_000, 3_200, 10_000, 32_000]
BATCHES = [120, 1_200, 12_000, 120_000, 1_200_000]
DEEP_BATCH = 1_024
DEEP_HIDDENS = [10, 32, 100, 320, 1_000, 3_200, 10_000]  # what a GPU runs
DEEP_HIDDENS_CPU = DEEP_HIDDENS[:5]  # the live CPU stops here, for the docs' time budget

SWEEPS = {  # axis: (the size that grows, what is fixed, deep model?)
    "width": ("hidden", "4-h-3, batch 120", False),
    "batch": ("batch", "4-10-3", False),
    "deep": ("hidden", f"4-h-h-3, batch {DEEP_BATCH:,}", True),
}


def run_sweeps(device, deep_hiddens):
    points = {"width": utilization_sweep(device, hiddens=HIDDENS, batches=[120]),
              "batch": utilization_sweep(device, hiddens=[10], batches=BATCHES),
              "deep": utilization_sweep(device, hiddens=deep_hiddens, batches=[DEEP_BATCH],
                                        deep=True)}
    return {axis: [p.to_dict() for p in sweep] for axis, sweep in points.items()}


def with_counts(points, deep):
    """Recorded points from before the counts existed: count their shapes here."""
    counted = []
    for p in points:
        c = mlp_step_counts(p["hidden"], p["batch"], deep=deep)
        counted.append({**p, "flops": c.flops, "bytes_moved": c.bytes_moved,
                        "intensity": c.intensity, "flops_per_s": c.flops / p["median_s"]})
    return counted


def by_size(points, key):
    return {p[key]: p for p in points or []}


cpu = run_sweeps("cpu", DEEP_HIDDENS_CPU)

record = newest_record("cuda")
gpu_live = torch.cuda.is_available()
if gpu_live:
    gpu = run_sweeps("cuda", DEEP_HIDDENS)
    gpu_label = f"GPU, live: {torch.cuda.get_device_name(0)}"
elif record is not None:
    sweeps = record["measurements"]["utilization"]["sweeps"][record["device"]]
    gpu = {axis: with_counts(sweeps[axis], SWEEPS[axis][2]) if axis in sweeps else None
           for axis in SWEEPS}
    gpu_label = f"GPU, recorded: {record['device_name']}"
    print("No GPU on this machine: GPU sweeps are RECORDED, not live.")
    print("Source:", provenance(record))
    if "bytes_moved" not in sweeps["width"][0]:
        print("The record predates FLOP and byte counts: they are counted here from the "
              "recorded shapes, with FlopCounterMode (its FLOPs were a hand formula).")
    if gpu["deep"] is None:
        print("The deep (4-h-h-3) sweep on the GPU: not recorded yet.")
else:
    gpu, gpu_label = None, None
    print("No GPU here and no recorded GPU results: only the CPU is swept.")

for axis, (key, fixed, _) in SWEEPS.items():
    here, there = by_size(cpu[axis], key), by_size(gpu and gpu[axis], key)
    print(f"\n{axis} sweep ({fixed})\n{key:>9}  {'FLOP/byte':>9}  {'CPU us':>10} {'GFLOP/s':>9}"
          + (f"  {'GPU us':>10} {'GFLOP/s':>9}" if there else ""))
    for size in sorted(here | there):
        point = here.get(size) or there[size]
        line = f"{size:>9,}  {point['intensity']:9.1f}  "
        for found in (here.get(size), there.get(size)) if there else (here.get(size),):
            line += (f"{found['median_s'] * 1e6:10.1f} {found['flops_per_s'] / 1e9:9.2f}  "
                     if found else f"{'(not run)':>20}  ")
        print(line.rstrip())

# sphinx_gallery_start_ignore
if gpu is not None and gpu["deep"]:  # a recorded deep sweep must be this page's sweep
    assert {p["batch"] for p in gpu["deep"]} == {DEEP_BATCH}, gpu["deep"]
# sphinx_gallery_end_ignore

# %%
# The two ceilings
# ----------------
# :func:`devicelab.roofline.measure_ceilings` times a large float32 matrix product (the
# sweep's dtype; whether TF32 tensor cores were allowed is printed, since they raise a GPU's
# float32 ceiling several times) and a large copy within the device's memory, counting bytes
# read plus bytes written. Their ratio is the **ridge**: a step whose intensity is below it is
# limited by bandwidth, above it by compute.
cpu_ceilings = measure_ceilings("cpu")
gpu_ceilings = None
if gpu_live:
    gpu_ceilings = measure_ceilings("cuda")
elif record is not None:
    recorded = record["measurements"].get("roofline", {}).get("ceilings", {})
    if record["device"] in recorded:
        gpu_ceilings = Ceilings.from_dict(recorded[record["device"]])

for label, c in (("CPU, live", cpu_ceilings), (gpu_label, gpu_ceilings)):
    if c is not None:
        print(f"{label}: {c.peak_flops_per_s / 1e9:,.1f} GFLOP/s ({c.dtype} {c.matmul_n:,}^3 "
              f"product, TF32 {'on' if c.tf32 else 'off'}), {c.peak_bytes_per_s / 1e9:,.1f} GB/s "
              f"(copy of {c.copy_bytes / 2**20:,.0f} MiB); ridge {c.ridge_intensity:.1f} FLOP/byte")
    elif label is not None:
        print(f"{label}: ceilings not recorded yet (the record predates them). Its points are "
              "shown without them; re-record with `python -m devicelab bench` to add them.")

# %%
# The roofline
# ------------
# Each point sits at its intensity (x) and its achieved FLOP/s (y). A step cannot beat its
# device's roof, the slanted bandwidth line left of the ridge and the flat compute line right
# of it (up to noise: the ceilings are measurements too). A point far below the roof is held
# down by something else: the launch floor, the time the host needs to issue the step's
# operators one by one.
COLORS = {"CPU": "tab:blue", "GPU": "tab:orange"}
MARKERS = {"width": "o", "batch": "s", "deep": "^"}
intensities = np.geomspace(0.5, 2_000, 200)
fig, ax = plt.subplots(figsize=(8, 5))
for name, points, c in (("CPU", cpu, cpu_ceilings), ("GPU", gpu, gpu_ceilings)):
    if points is None:
        continue
    if c is not None:
        roof = np.minimum(c.peak_flops_per_s, c.peak_bytes_per_s * intensities)
        ax.plot(intensities, roof, color=COLORS[name], lw=2,
                label=f"{name} roof (ridge {c.ridge_intensity:.1f} FLOP/byte)")
    for axis, sweep in points.items():
        if sweep:
            ax.plot([p["intensity"] for p in sweep], [p["flops_per_s"] for p in sweep],
                    MARKERS[axis], color=COLORS[name], mfc="none" if name == "GPU" else None,
                    label=f"{name} {axis} sweep")
if gpu is not None and gpu_ceilings is None:
    ax.text(0.02, 0.98, "GPU ceilings: not recorded yet", transform=ax.transAxes, va="top",
            fontsize=8, color=COLORS["GPU"])
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("arithmetic intensity (FLOP per byte moved)")
ax.set_ylabel("achieved FLOP/s")
ax.set_title("The roofline: each device's two ceilings and the sweep points")
ax.legend(fontsize=7, ncol=2, loc="lower right")
fig.tight_layout()

# %%
# Which limit binds, region by region
# -----------------------------------
# :class:`devicelab.roofline.StepCostModel` puts the three limits of one device side by side:
# the launch floor (operators per step times the measured cost of one tiny operator,
# :func:`~devicelab.overheads.launch_cost`), the bandwidth time (bytes over the bandwidth
# ceiling) and the compute time (FLOPs over the compute ceiling). The longest one binds.
# On a CPU the same cores dispatch and compute, one after the other; a GPU computes while its
# host queues the next kernels, so there the limits overlap.
cpu_per_op = launch_cost("cpu").queued.median_s
cpu_model = {deep: StepCostModel("cpu", cpu_ceilings, count_step_ops("cpu", deep=deep).operator_calls,
                                 cpu_per_op, overlap=False) for deep in (False, True)}
gpu_model = {}
if gpu_live:
    gpu_per_op = launch_cost("cuda").queued.median_s
    gpu_model = {deep: StepCostModel("gpu", gpu_ceilings, count_step_ops("cuda", deep=deep).kernels,
                                     gpu_per_op) for deep in (False, True)}
elif record is not None:
    launch = record["measurements"]["launch"]
    gpu_ops = {False: launch["launches_per_step"],
               True: record["measurements"].get("roofline", {}).get("launches_per_step_deep")}
    gpu_model = {deep: StepCostModel("gpu", gpu_ceilings, ops, launch["per_op"]["queued"]["median_s"])
                 for deep, ops in gpu_ops.items() if ops is not None}


def regions(points, key, model):
    """[(bound, first size, last size)] for runs of points under the same limit."""
    found = []
    for p in sorted(points, key=lambda p: p[key]):
        bound = model.bound(p["flops"], p["bytes_moved"])
        if found and found[-1][0] == bound:
            found[-1][2] = p[key]
        else:
            found.append([bound, p[key], p[key]])
    return found


bounds = {}
for name, points, models in (("CPU", cpu, cpu_model), ("GPU", gpu, gpu_model)):
    for axis, (key, fixed, deep) in SWEEPS.items():
        if points is None or not points[axis]:
            continue
        if deep not in models or models[deep].ceilings is None:
            print(f"{name} {axis} sweep: which limit binds is not known, its ceilings or kernel "
                  "count are not recorded yet.")
            continue
        bounds[name, axis] = regions(points[axis], key, models[deep])
        print(f"{name} {axis} sweep ({fixed}): " + "; ".join(
            f"{b} binds {key} {lo:,}" + (f" to {hi:,}" if hi != lo else "")
            for b, lo, hi in bounds[name, axis]))

plateau = max(p["intensity"] for axis in ("width", "batch") for p in cpu[axis])
print(f"\nThe 4-h-3 model's intensity levels off at {plateau:.1f} FLOP/byte.")
for name, c in (("this CPU", cpu_ceilings), ("the GPU", gpu_ceilings)):
    if c is not None:
        verdict = ("below it, so widening never makes the 4-h-3 step compute-bound there"
                   if plateau < c.ridge_intensity
                   else "above it, so the 4-h-3 model's largest steps can become compute-bound")
        print(f"  The ridge of {name} is at {c.ridge_intensity:.1f} FLOP/byte: the plateau is "
              f"{verdict}.")
top_cpu = max(cpu["deep"], key=lambda p: p["hidden"])
print(f"The deep model at hidden {top_cpu['hidden']:,} reaches {top_cpu['intensity']:.0f} "
      f"FLOP/byte, and on this CPU {top_cpu['flops_per_s'] / 1e9:.1f} GFLOP/s, "
      f"{top_cpu['flops_per_s'] / cpu_ceilings.peak_flops_per_s:.0%} of its compute ceiling.")
for hidden in DEEP_HIDDENS[len(DEEP_HIDDENS_CPU):]:
    c = mlp_step_counts(hidden, DEEP_BATCH, deep=True)
    print(f"  Left out of the live CPU run: hidden {hidden:,}, at least "
          f"{cpu_model[True].step_s(c.flops, c.bytes_moved):.1f} s per step by this CPU's roofline.")

gpu_share = None
if gpu is not None and gpu["deep"] and gpu_ceilings is not None:
    top_gpu = max(gpu["deep"], key=lambda p: p["hidden"])
    gpu_share = top_gpu["flops_per_s"] / gpu_ceilings.peak_flops_per_s
    print(f"On the GPU the deep model at hidden {top_gpu['hidden']:,} reaches "
          f"{top_gpu['flops_per_s'] / 1e12:.1f} TFLOP/s, {gpu_share:.0%} of its compute ceiling.")
elif gpu is not None:
    print("On the GPU, the deep model's share of the compute ceiling: not recorded yet "
          "(the record has no deep sweep or no ceilings).")

# sphinx_gallery_start_ignore
# The 4-h-3 sweeps start at the course's step, under the launch floor: all overhead.
assert all(bounds["CPU", axis][0][0] == "launch floor" for axis in ("width", "batch")), bounds
# The deep sweep ends compute-bound on the CPU, by its counts and this CPU's ceilings.
assert bounds["CPU", "deep"][-1][0] == "compute", bounds["CPU", "deep"]
# Shapes alone: the 4-h-3 intensity levels off at a few FLOP/byte (each hidden activation:
# 7 multiply-adds, stored and read back); the deep one goes far past every ridge printed.
assert plateau < 4.3, plateau
assert top_cpu["intensity"] > 3 * cpu_ceilings.ridge_intensity, (top_cpu, cpu_ceilings)
# "never compute-bound there" is printed only where the data shows it
for (name, axis), found in bounds.items():
    ridge = (cpu_ceilings if name == "CPU" else gpu_ceilings).ridge_intensity
    if axis != "deep" and plateau < ridge:
        assert all(b != "compute" for b, _, _ in found), (name, axis, found)
if gpu_share is not None:
    # issue 10: the deep sweep's largest point reaches half the GPU's measured FLOP/s ceiling
    assert gpu_share >= 0.5, gpu_share
    assert top_gpu["intensity"] > gpu_ceilings.ridge_intensity, (top_gpu, gpu_ceilings)
    assert bounds["GPU", "deep"][-1][0] == "compute", bounds["GPU", "deep"]
# sphinx_gallery_end_ignore

# %%
# The crossover, predicted and measured
# -------------------------------------
# The prediction needs no GPU run and times nothing at those sizes:
# :func:`devicelab.predict.predict_step` lists each size's operators once on the ``meta``
# device and prices them with each device's calibration (the same cost model as
# ``devicelab.advise``; see the "Your own model" page for its check against measured steps).
# This CPU is calibrated here, on tiny tensors and a few sizes of each kind of operator. The
# GPU is calibrated live when there is one; otherwise its figures come from the recorded GPU's
# datasheet and its record's launch and sync costs, and the prediction lists what it assumes.
# The measurement is :func:`devicelab.roofline.crossover`: the first measured size from
# which the GPU is faster and stays faster, so the true crossing lies between it and the
# measured size before.
from devicelab.models import MLP, DeepMLP
from devicelab.predict import predict_step

DENSE = {"width": [round(h) for h in np.geomspace(10, 32_000, 16)],
         "batch": [round(b) for b in np.geomspace(120, 1_200_000, 16)],
         "deep": [round(h) for h in np.geomspace(10, DEEP_HIDDENS[-1], 16)]}
GPU_TARGET = "cuda" if gpu_live else ({k: v for k, v in record.items() if k != "_path"}
                                      if record is not None else None)


def predicted_step(axis, size, device):
    """The sweep's step at ``size``, predicted: built on ``meta`` (nothing is allocated), with
    no loss.item() (the sweep's step has none)."""
    key, _, deep = SWEEPS[axis]
    hidden, batch = (size, DEEP_BATCH if deep else 120) if key == "hidden" else (10, size)
    with torch.device("meta"):
        model = (DeepMLP if deep else MLP)(hidden)
        x, y = torch.empty(batch, 4), torch.zeros(batch, dtype=torch.long)
    return predict_step(model, x, targets=y, device=device, syncs=0)


predicted_cpu, predicted_gpu, predicted_crossover, measured_crossover = {}, {}, {}, {}
for axis, (key, fixed, _) in SWEEPS.items():
    predicted_cpu[axis] = [predicted_step(axis, s, "cpu") for s in DENSE[axis]]
    largest = max(cpu[axis], key=lambda p: p[key])
    slower = largest["median_s"] / predicted_step(axis, largest[key], "cpu").step_s
    print(f"\n{axis} sweep ({fixed}): this CPU's measured step at {key} {largest[key]:,} is "
          f"{slower:.2f} times its prediction.")
    if gpu is None or not gpu[axis] or GPU_TARGET is None:
        print("  The GPU's sweep for this model is not recorded yet: no measured crossover.")
        continue
    predicted_gpu[axis] = [predicted_step(axis, s, GPU_TARGET) for s in DENSE[axis]]
    predicted_crossover[axis] = crossover(DENSE[axis], [p.step_s for p in predicted_cpu[axis]],
                                          [p.step_s for p in predicted_gpu[axis]])
    here, there = by_size(cpu[axis], key), by_size(gpu[axis], key)
    sizes = sorted(set(here) & set(there))
    measured = crossover(sizes, [here[s]["median_s"] for s in sizes],
                         [there[s]["median_s"] for s in sizes])
    measured_crossover[axis] = measured
    before = max((s for s in sizes if measured and s < measured), default=None)
    where = (f"{key} {measured:,}" + (f" (GPU slower at {before:,})" if before else "")
             if measured else "the GPU never overtakes in the sweep")
    print(f"  {gpu_label} vs this CPU (live), measured crossover: {where}")
    guess = predicted_crossover[axis]
    ratio = guess / measured if guess and measured else None
    print("  predicted: " + (f"{key} {guess:,}" if guess else "no crossover")
          + (f", {ratio:.2f} times the measured one" if ratio else ""))
    smallest = min(gpu[axis], key=lambda p: p[key])
    gpu_small = predicted_step(axis, smallest[key], GPU_TARGET)
    print(f"  the GPU's smallest step: measured {smallest['median_s'] * 1e6:.0f} us, predicted "
          f"{gpu_small.step_s * 1e6:.0f} us ({gpu_small.step_s / smallest['median_s']:.2f}x; "
          f"host {gpu_small.host_s * 1e6:.0f} us, device {gpu_small.device_s * 1e6:.1f} us)")
if predicted_gpu:
    first = next(iter(predicted_gpu.values()))[0]
    print(f"\nThe GPU side is priced from: {first.provenance}. Assumed: "
          + "; ".join(first.assumptions or ("nothing",)) + ".")
if record is not None:
    u = record["measurements"]["utilization"]
    for axis in ("width", "batch"):
        print(f"{axis}: {record['device_name']} vs its own host CPU (recorded): GPU faster from "
              f"{SWEEPS[axis][0]} = {u[f'crossover_{axis}']:,}")

# sphinx_gallery_start_ignore
# the printed predicted crossover is the crossing of the printed predicted curves
for axis, guess in predicted_crossover.items():
    assert guess == crossover(DENSE[axis], [p.step_s for p in predicted_cpu[axis]],
                              [p.step_s for p in predicted_gpu[axis]])
if record is not None:
    assert record["measurements"]["utilization"]["crossover_width"] is not None
    assert record["measurements"]["utilization"]["crossover_batch"] is not None
# sphinx_gallery_end_ignore

# %%
# When the prediction misses
# --------------------------
# A prediction within 2x of the measured crossover is a usable answer. When it misses by more,
# the page says which term is off, from the numbers above: the GPU's host time (the record's
# host was slower, or busier, than this CPU issuing the same operators plus a launch each), or
# the device time (a datasheet rate that small kernels never reach).
for axis, guess in predicted_crossover.items():
    measured = measured_crossover[axis]
    if guess is None or measured is None:
        print(f"{axis}: no crossover on one side, nothing to compare.")
        continue
    ratio = guess / measured
    smallest = min(gpu[axis], key=lambda p: p[SWEEPS[axis][0]])
    gpu_small = predicted_step(axis, smallest[SWEEPS[axis][0]], GPU_TARGET)
    host_ratio = gpu_small.step_s / smallest["median_s"]
    if 0.5 <= ratio <= 2:
        print(f"{axis}: predicted within 2x of the measured crossover ({ratio:.2f}x).")
    else:
        print(f"{axis}: predicted {ratio:.2f}x the measured crossover. The GPU's smallest step "
              f"is predicted at {host_ratio:.2f}x what was measured, all of it host time: "
              + ("the prediction's host side is too slow, so it sees the GPU win too late."
                 if host_ratio > 1 else
                 "the prediction's host side is too fast: the recorded GPU's host paid more "
                 "per operator than this CPU plus a launch, so the GPU wins later than "
                 "predicted."))

# %%
# The time per step, measured and predicted
# -----------------------------------------
# The dotted lines are :func:`devicelab.predict.predict_step`'s predictions.
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, (axis, (key, fixed, _)) in zip(axes, SWEEPS.items(), strict=True):
    ax.plot([p[key] for p in cpu[axis]], [p["median_s"] * 1e6 for p in cpu[axis]], "o-",
            color=COLORS["CPU"], label="CPU, live")
    ax.plot(DENSE[axis], [p.step_s * 1e6 for p in predicted_cpu[axis]], ":",
            color=COLORS["CPU"], label="CPU, predicted")
    if gpu is not None and gpu[axis]:
        ax.plot([p[key] for p in gpu[axis]], [p["median_s"] * 1e6 for p in gpu[axis]],
                "s-" if gpu_live else "s--", color=COLORS["GPU"], label=gpu_label)
    if axis in predicted_gpu:
        ax.plot(DENSE[axis], [p.step_s * 1e6 for p in predicted_gpu[axis]], ":",
                color=COLORS["GPU"], label="GPU, predicted")
        if predicted_crossover[axis]:
            ax.axvline(predicted_crossover[axis], color="k", lw=0.8, ls=":")
            ax.text(predicted_crossover[axis], 0.98, " predicted\n crossover", fontsize=7,
                    va="top", transform=ax.get_xaxis_transform())
    if record is not None and not gpu_live and axis in ("width", "batch"):
        host = record["measurements"]["utilization"]["sweeps"]["cpu"][axis]
        ax.plot([p[key] for p in host], [p["median_s"] * 1e6 for p in host], "^:", color="grey",
                label="its host CPU, recorded")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{key} ({fixed})")
    ax.set_ylabel("microseconds per training step")
    ax.set_title({"width": "Wider model", "batch": "Bigger batch", "deep": "Deeper, wider"}[axis])
    ax.legend(fontsize=7)
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
#
# Widening the 4-h-3 model moves its points right only up to a plateau of a few FLOP per
# byte: each hidden activation costs 7 multiply-adds and must be stored and read back for the
# backward. The hidden-to-hidden layer, ``hidden`` multiply-adds per activation, carries a
# step far past the ridge, to the compute ceiling.
if gpu is not None:
    flat = [p["median_s"] for p in gpu["width"] if p["hidden"] <= 1_000]
    print(f"GPU time per step from width 10 to 1,000: {min(flat) * 1e6:.0f} to {max(flat) * 1e6:.0f} us "
          f"({max(flat) / min(flat):.1f}x for {1_000 // 10}x the work)")
    peak = max(p["flops_per_s"] for axis in gpu if gpu[axis] for p in gpu[axis])
    print(f"Best achieved: GPU {peak / 1e12:.2f} TFLOP/s, CPU "
          f"{max(p['flops_per_s'] for axis in cpu for p in cpu[axis]) / 1e12:.3f} TFLOP/s")

# sphinx_gallery_start_ignore
if gpu is not None:
    # "flat at first": far less than proportional growth over a 100x wider model
    assert max(flat) / min(flat) < 10, flat
# sphinx_gallery_end_ignore

# %%
# **Is your model on the right device?** Run this sweep at your own shapes:
# ``utilization_sweep("cuda", hiddens=[...], batches=[...])`` against the same on ``"cpu"``,
# or ``python -m devicelab bench`` for the lot. If the GPU's time does not move when you
# double the batch, the GPU is waiting on launches: give it a larger batch, fuse the
# step (:doc:`plot_remedies`), or keep the model on the CPU. If it sits under the bandwidth
# line, more work per byte (a larger batch per weight, fused elementwise steps) is what helps.
