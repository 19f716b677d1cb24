"""
Overhead 3: an under-used GPU, the roofline, and where the GPU starts to win
============================================================================

The course's model gives a GPU far too little work: its step takes as long as its launches,
however much arithmetic it does, so the GPU only wins once the model or the batch is large
enough to keep its units busy. This page finds that size, the :term:`crossover`, predicted
first and then measured.

This is the third of the three overheads the course meets, after
:doc:`moving data <plot_transfer_cost>` and :doc:`launching kernels <plot_launch_overhead>`.
A fourth, communication between devices, lies beyond the course (:doc:`plot_communication`).

A data-center GPU has over a hundred streaming multiprocessors (:term:`SMs <SM>`), each
wanting thousands of threads in flight; the Iris step's largest matrix is 120 by 10. That is
an :term:`under-used GPU`.

**What you will learn**

- Horace He's :term:`batch test`, checked on the sweeps: if more work barely changes the time,
  the run is :term:`overhead-bound`;
- the :term:`roofline`: a device's two ceilings (compute, from a large matrix product, and
  memory :term:`bandwidth`, from a large copy), and the :term:`arithmetic intensity` (FLOPs per
  byte moved) that says which one a step sits under;
- why widening the course's 4-h-3 model leaves it at a few FLOPs per byte, and what takes a
  step to the compute ceiling (a hidden-to-hidden layer);
- the crossover width and batch size, predicted and measured, and which crossover answers
  your question.
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
# Every point also carries its FLOPs and the bytes it must move at least, both from its
# operator list (:func:`devicelab.operators.operator_list`, traced on the :term:`meta device`):
# FLOPs by the formulas of PyTorch's :mod:`torch.utils.flop_counter`, and bytes as inputs and
# parameters read, what autograd saves for the backward written and read back, gradients
# written. Both depend on the shapes only, so a recorded sweep's are counted here too, by
# :func:`devicelab.overheads.recorded_utilization_sweep`.
# The deep sweep's largest points would cost a small CPU far more than this site's build
# budget, so the live CPU run stops before them; a GPU, live or recorded, runs them all.

from itertools import groupby

import matplotlib.pyplot as plt
import numpy as np
import torch

from devicelab.costmodel import price
from devicelab.overheads import (
    recorded_utilization_sweep,
    sweep_step_operators,
    utilization_sweep,
)
from devicelab.predict import device_calibration
from devicelab.results import newest_record, provenance, recorded_ceilings, recorded_overheads
from devicelab.roofline import Ceilings, crossover, measure_ceilings

HIDDENS = [10, 32, 100, 320, 1_000, 3_200, 10_000, 32_000]
BATCHES = [120, 1_200, 12_000, 120_000, 1_200_000]
DEEP_BATCH = 1_024
DEEP_HIDDENS = [10, 32, 100, 320, 1_000, 3_200, 10_000]
DEEP_HIDDENS_CPU = DEEP_HIDDENS[:5]  # the live CPU stops here
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


cpu = run_sweeps("cpu", DEEP_HIDDENS_CPU)
record = newest_record("cuda")
gpu_live = torch.cuda.is_available()
gpu = gpu_label = None
if gpu_live:
    gpu = run_sweeps("cuda", DEEP_HIDDENS)
    gpu_label = f"GPU, live: {torch.cuda.get_device_name(0)}"
elif record is not None:
    gpu = {axis: [p.to_dict() for p in recorded_utilization_sweep(record, axis)]
           for axis in SWEEPS}
    gpu_label = f"GPU, recorded: {recorded_overheads(record).device_name}"
    print("No GPU here: the GPU's sweeps are", provenance(record))
else:
    print("No GPU here and no recorded GPU results: only the CPU is swept.")


# sphinx_gallery_start_ignore
if gpu is not None:  # a recorded deep sweep must be this page's sweep
    assert all(p["batch"] == DEEP_BATCH for p in gpu["deep"]), gpu["deep"]
# sphinx_gallery_end_ignore

# %%
# The batch test, stretched
# -------------------------
# The batch sweep's sizes grow tenfold at each step, a stronger test than doubling. If ten
# times the rows barely moves a device's step time, that device is overhead-bound at the
# course's size. A ratio near 1 means the launches, not the rows, set the time; a ratio near
# 10 means each row costs its share.
for name, points in (("this CPU (live)", cpu), (gpu_label, gpu)):
    if points is not None and points["batch"]:
        t = {p["batch"]: p["median_s"] for p in points["batch"]}
        small = min(t)  # ten times the rows, or the next size up (a quick record sweeps fewer)
        large = min((b for b in t if b >= 10 * small), default=max(t))
        ratio = t[large] / t[small]
        print(f"{name}: batch {large:,} takes x{ratio:.2f} the time of batch {small:,}: "
              + ("overhead-bound" if ratio < 2 else "the arithmetic counts"))

# %%
# The two ceilings
# ----------------
# :func:`devicelab.roofline.measure_ceilings` times a large float32 matrix product and a large
# copy within the device's memory. Their ratio is the :term:`ridge point`: a step whose
# intensity is below it is limited by bandwidth, above it by compute. (Whether :term:`TF32`
# was allowed is printed, since it raises a GPU's float32 ceiling several times.) A GPU record
# older than the ceilings (version 1) has none: its points then stay off the roofline, and
# out of the limits below.
cpu_ceilings = measure_ceilings("cpu")
gpu_ceilings = None
if gpu_live:
    gpu_ceilings = measure_ceilings("cuda")
elif record is not None and recorded_ceilings(record) is not None:
    gpu_ceilings = Ceilings.from_dict(recorded_ceilings(record))
for label, c in (("CPU, live", cpu_ceilings), (gpu_label if gpu else None, gpu_ceilings)):
    if c is not None:
        print(f"{label}: {c.peak_flops_per_s / 1e9:,.1f} GFLOP/s (TF32 {'on' if c.tf32 else 'off'}"
              f"), {c.peak_bytes_per_s / 1e9:,.1f} GB/s; ridge {c.ridge_intensity:.1f} FLOP/byte")
    elif label is not None:
        print(f"{label}: ceilings not recorded")

# %%
# The roofline
# ------------
# Each point sits at its intensity (x) and its achieved FLOP/s (y). A step cannot beat its
# device's roof, the slanted bandwidth line left of the ridge and the flat compute line right
# of it (up to noise: the ceilings are measurements too). A point far below the roof is held
# down by something else: the launch floor, the time the host needs to issue the step's
# operators one by one. A device's points are drawn only against that device's own roof.
COLORS = {"CPU": "tab:blue", "GPU": "tab:orange"}
MARKERS = {"width": "o", "batch": "s", "deep": "^"}
intensities = np.geomspace(0.5, 2_000, 200)


def share_of_roof(points, c):
    return max(p["flops_per_s"] / min(c.peak_flops_per_s, c.peak_bytes_per_s * p["intensity"])
               for p in points)


fig, ax = plt.subplots(figsize=(8, 5.4), layout="constrained")
for name, points, c in (("CPU", cpu, cpu_ceilings), ("GPU", gpu, gpu_ceilings)):
    if points is None or c is None:
        continue
    roof = np.minimum(c.peak_flops_per_s, c.peak_bytes_per_s * intensities)
    ax.plot(intensities, roof, color=COLORS[name], lw=2,
            label=f"{name} roof (ridge {c.ridge_intensity:.1f} FLOP/byte)")
    for axis, sweep in points.items():
        if sweep:
            ax.plot([p["intensity"] for p in sweep], [p["flops_per_s"] for p in sweep],
                    MARKERS[axis], color=COLORS[name], mfc="none" if name == "GPU" else None,
                    label=f"{name} {axis} sweep")
shallow = share_of_roof(cpu["width"] + cpu["batch"], cpu_ceilings)
deep_share = share_of_roof(cpu["deep"], cpu_ceilings)
ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP per byte moved)",
       ylabel="achieved FLOP/s")
ax.set_title(f"On this CPU the 4-h-3 steps reach at most {shallow:.0%} of the roof, "
             f"the deep model {deep_share:.0%}", fontsize=10)
fig.legend(loc="outside lower center", ncol=3, fontsize=7)
plt.show()

# %%
# Which limit binds, region by region
# -----------------------------------
# The cost model (:func:`devicelab.costmodel.price`, behind
# :func:`~devicelab.predict.predict_step`, the crossover's prediction in the next section, and
# ``devicelab.advise``) prices each swept step from its operator list and the device's
# :term:`calibration`, in four terms: the host issuing the operators (launch/dispatch), the
# syncs (none in these sweeps), the device's time on memory-bound operators, and on matrix
# products. The largest term names the bound. On a CPU the same cores dispatch and compute,
# one after the other; a GPU computes while its host queues the next kernels, so there the
# terms overlap. Each line below reads left to right as the size grows: the course's size is
# launch/dispatch-bound, and the size at which memory or compute takes over is where the
# arithmetic starts to count.
calibrations = {"CPU": device_calibration("cpu")}
if gpu is not None:  # a recorded GPU's own calibration, or its datasheet and record's costs
    calibrations["GPU"] = device_calibration("cuda" if gpu_live else record)


def regions(points, key, deep, calibration):
    """[(bound, first size, last size)] for runs of points under the same bound; each point's
    step as swept, with no ``loss.item()``."""
    def bound(p):
        ops = sweep_step_operators(p["hidden"], p["batch"], deep=deep)
        return price(ops, calibration, syncs=0).bound

    runs = groupby(sorted(points, key=lambda p: p[key]), key=bound)
    return [(bound, run[0][key], run[-1][key]) for bound, run in ((b, [*r]) for b, r in runs)]


bounds = {}
for name, points in (("CPU", cpu), ("GPU", gpu)):
    for axis, (key, _, deep) in SWEEPS.items():
        if points is not None and points[axis]:
            bounds[name, axis] = regions(points[axis], key, deep, calibrations[name])
            print(f"{name} {axis} sweep: " + "; ".join(
                f"{b} at {key} {lo:,}" + (f" to {hi:,}" if hi != lo else "")
                for b, lo, hi in bounds[name, axis]))

gpu_share = None
if gpu is not None and gpu["deep"] and gpu_ceilings is not None:
    top_gpu = max(gpu["deep"], key=lambda p: p["hidden"])
    gpu_share = top_gpu["flops_per_s"] / gpu_ceilings.peak_flops_per_s
    print(f"On the GPU the deep model at hidden {top_gpu['hidden']:,} reaches "
          f"{gpu_share:.0%} of its compute ceiling.")

# sphinx_gallery_start_ignore
plateau = max(p["intensity"] for axis in ("width", "batch") for p in cpu[axis])
top_cpu = max(cpu["deep"], key=lambda p: p["hidden"])
# The 4-h-3 sweeps start at the course's step, launch/dispatch-bound: all overhead.
assert all(bounds["CPU", axis][0][0] == "launch/dispatch-bound" for axis in ("width", "batch")
           ), bounds
# The deep sweep ends compute-bound on the CPU, by its operators and this CPU's calibration.
assert bounds["CPU", "deep"][-1][0] == "compute-bound", bounds["CPU", "deep"]
# Shapes alone: the 4-h-3 intensity levels off at a few FLOP/byte (each hidden activation:
# 7 multiply-adds, stored and read back); the deep one goes far past every ridge printed.
assert plateau < 4.3, plateau
assert top_cpu["intensity"] > 3 * cpu_ceilings.ridge_intensity, (top_cpu, cpu_ceilings)
if gpu_share is not None:
    # issue 10: the deep sweep's largest point reaches half the GPU's measured FLOP/s ceiling
    assert gpu_share >= 0.5, gpu_share
    assert top_gpu["intensity"] > gpu_ceilings.ridge_intensity, (top_gpu, gpu_ceilings)
    assert bounds["GPU", "deep"][-1][0] == "compute-bound", bounds["GPU", "deep"]
# sphinx_gallery_end_ignore

# %%
# The crossover, predicted and measured
# -------------------------------------
# The prediction needs no GPU run and times nothing at those sizes:
# :func:`devicelab.predict.predict_step` lists each size's operators once on the
# :term:`meta device` and prices them with each device's :term:`calibration` (the same cost
# model as ``devicelab.advise``; the "Your own model" page checks it against measured steps).
# This CPU is calibrated here. A GPU is calibrated live when there is one; otherwise the
# prediction takes the recorded GPU's datasheet, its record's sync cost and **its recorded
# host**: this CPU's host costs, scaled by the time that host took to issue a tiny operator to
# its GPU over the time this CPU takes to run one. So it predicts the recorded machine, the
# one whose points are drawn below (the "Your own model" page checks it against the course's
# step that the record measured).
#
# The measurement is :func:`devicelab.roofline.crossover`: the first measured size from
# which the GPU is faster and stays faster, so the true crossing lies between it and the
# measured size before.
from devicelab.models import MLP, DeepMLP
from devicelab.predict import predict_step

DENSE = {"width": [round(h) for h in np.geomspace(10, 32_000, 16)],
         "batch": [round(b) for b in np.geomspace(120, 1_200_000, 16)],
         "deep": [round(h) for h in np.geomspace(10, DEEP_HIDDENS[-1], 16)]}
GPU_TARGET = "cuda" if gpu_live else record


def predicted_step(axis, size, device):
    """The sweep's step at ``size``, predicted: built on ``meta`` (nothing is allocated), with
    no loss.item() (the sweep's step has none)."""
    key, _, deep = SWEEPS[axis]
    hidden, batch = (size, DEEP_BATCH if deep else 120) if key == "hidden" else (10, size)
    with torch.device("meta"):
        model = (DeepMLP if deep else MLP)(hidden)
        x, y = torch.empty(batch, 4), torch.zeros(batch, dtype=torch.long)
    return predict_step(model, x, targets=y, device=device, syncs=0)


def said(size, sizes):
    return "nowhere" if size is None else "at every size swept" if size == min(sizes) else (
        f"from {size:,}")


predicted_cpu, predicted_gpu, predicted_crossover, measured_crossover, swept = {}, {}, {}, {}, {}
for axis, (key, fixed, _) in SWEEPS.items():
    predicted_cpu[axis] = [predicted_step(axis, s, "cpu").step_s for s in DENSE[axis]]
    if gpu is None or not gpu[axis] or GPU_TARGET is None:
        print(f"{axis}: no GPU sweep recorded, no crossover.")
        continue
    predicted_gpu[axis] = [predicted_step(axis, s, GPU_TARGET).step_s for s in DENSE[axis]]
    predicted_crossover[axis] = crossover(DENSE[axis], predicted_cpu[axis], predicted_gpu[axis])
    here, there = ({p[key]: p for p in points} for points in (cpu[axis], gpu[axis]))
    sizes = sorted(set(here) & set(there))
    swept[axis] = sizes
    measured_crossover[axis] = crossover(sizes, [here[s]["median_s"] for s in sizes],
                                         [there[s]["median_s"] for s in sizes])
    print(f"{axis} ({fixed}), {key} growing: the GPU beats this CPU "
          f"{said(measured_crossover[axis], sizes)} (measured), "
          f"{said(predicted_crossover[axis], DENSE[axis])} (predicted)")

# %%
# Which crossover answers your question
# -------------------------------------
# One GPU has as many crossovers as there are CPUs to compare it with. The ones above set it
# against **this** CPU, the one that built this page: if you run the page yourself, that is
# your own CPU, and that is the crossover to read when you ask "should my model leave my CPU
# for this GPU?". A record also holds its own crossover, measured against **the host CPU that
# sat beside that GPU**: read that one for a machine like the recorded one, whose CPU is
# already there. The two differ as much as the two CPUs do.
if record is not None and not gpu_live:
    own = recorded_overheads(record)
    for axis, size in (("width", own.crossover_width), ("batch", own.crossover_batch)):
        key = SWEEPS[axis][0]
        print(f"{axis}: {own.device_name} against its own host CPU (recorded): the GPU beats "
              "it " + (f"from {key} {size:,}" if size is not None else "nowhere in the sweep"))

# sphinx_gallery_start_ignore
from devicelab.results import ResultsError, recorded_sweep  # noqa: E402

# the printed predicted crossover is the crossing of the printed predicted curves
for axis, guess in predicted_crossover.items():
    assert guess == crossover(DENSE[axis], predicted_cpu[axis], predicted_gpu[axis])
# "the GPU beats it from <size>" (the record's own crossover, when it has one) holds in the
# record's own two sweeps: at that size and every larger one
if record is not None and not gpu_live:
    for axis in ("width", "batch"):
        size = getattr(own, f"crossover_{axis}")
        try:
            mine, host = recorded_sweep(record, axis), recorded_sweep(record, axis, "cpu")
        except ResultsError:
            continue
        if size is not None:
            assert all(mine[s] < host[s] for s in mine if s >= size), (axis, mine, host)
# sphinx_gallery_end_ignore

# %%
# When the prediction misses
# --------------------------
# A prediction within 2x of the measured crossover is a usable answer. When it misses by more,
# the GPU's smallest step tells which term is off, since all of its predicted time is host
# time. And at the measured crossover, each predicted curve is set beside its measured point:
# the one further from 1.0 is the curve the miss comes from. Each recorded GPU point is also set
# beside its prediction: how many land within 25%, and how far the worst is off. The record
# measured one step twice, since the width sweep's narrowest point and the batch sweep's
# smallest are the same 4-10-3 step at batch 120; how far apart those two are is as close as
# any prediction can come to both.
#
# Read the lines below in that order: the crossovers first, then the two curves at the
# measured crossover, then every recorded point, then the step the record measured twice. A
# prediction is a model of the machine, not a measurement of it: where a printed line and a
# measured curve disagree, the measurement stands, and the line says which term to doubt.
for axis, guess in predicted_crossover.items():
    measured, key = measured_crossover[axis], SWEEPS[axis][0]
    if guess and measured:
        smallest = gpu[axis][0]
        host = predicted_step(axis, smallest[key], GPU_TARGET).step_s / smallest["median_s"]
        at = {name: predicted_step(axis, measured, device).step_s / next(
                  p["median_s"] for p in points if p[key] == measured)
              for name, device, points in (("CPU", "cpu", cpu[axis]),
                                           ("GPU", GPU_TARGET, gpu[axis]))}
        print(f"{axis}: predicted x{guess / measured:.2f} the measured crossover; smallest "
              f"GPU step predicted at x{host:.2f} its measured time; at {key} {measured:,}, "
              f"CPU predicted at x{at['CPU']:.2f} and GPU at x{at['GPU']:.2f} their measured "
              "steps")
for axis in predicted_gpu:
    key = SWEEPS[axis][0]
    ratios = [predicted_step(axis, p[key], GPU_TARGET).step_s / p["median_s"] for p in gpu[axis]]
    print(f"{axis}: {sum(0.75 <= r <= 1.25 for r in ratios)} of {len(ratios)} GPU points "
          f"predicted within 25%; predicted/measured from {min(ratios):.2f} to {max(ratios):.2f}")
twins = [p["median_s"] for axis, key, size in (("width", "hidden", 10), ("batch", "batch", 120))
         for p in (gpu or {}).get(axis, []) if p[key] == size]
if len(twins) == 2:
    print(f"The same step in both sweeps (4-10-3, batch 120): {twins[0] * 1e6:.0f} and "
          f"{twins[1] * 1e6:.0f} µs, x{max(twins) / min(twins):.2f} apart")

# %%
# The time per step, measured and predicted
# -----------------------------------------
# Solid lines are measured (dashed: recorded), dotted lines predicted.
fig, axes = plt.subplots(1, 3, figsize=(13, 4.6), layout="constrained")
for ax, (axis, (key, fixed, _)) in zip(axes, SWEEPS.items(), strict=True):
    host = [p.to_dict() for p in recorded_utilization_sweep(record, axis, "cpu")] if (
        gpu and not gpu_live) else []
    for points, style, color, label in (
            (cpu[axis], "o-", COLORS["CPU"], "this CPU, live"),
            (gpu and gpu[axis], "s-" if gpu_live else "s--", COLORS["GPU"], gpu_label),
            (host, "^:", "grey", "the GPU's own host CPU, recorded")):
        if points:
            ax.plot([p[key] for p in points], [p["median_s"] * 1e6 for p in points], style,
                    color=color, label=label)
    for name, predicted in (("CPU", predicted_cpu), ("GPU", predicted_gpu)):
        if axis in predicted:
            ax.plot(DENSE[axis], [t * 1e6 for t in predicted[axis]], ":", color=COLORS[name],
                    label=f"{name}, predicted" + (" (its recorded host)" if name == "GPU"
                                                   and not gpu_live else ""))
    ax.set(xscale="log", yscale="log", xlabel=f"{key} ({fixed})", ylabel="µs per training step",
           title=f"{axis} sweep")
handles = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels(), strict=True)}
fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=3, fontsize=8)
wins = "; ".join(f"{a} {said(s, swept[a])}" for a, s in measured_crossover.items())
slower = any(s is None or s > swept[a][0] for a, s in measured_crossover.items())
fig.suptitle(f"The GPU beats this CPU: {wins}" + ("; elsewhere its launches make it slower"
             if slower else "") if wins else "This CPU's step as the model and the batch grow")
plt.show()

# %%
# Reading the curves
# ------------------
# The GPU's curve is flat at first: from the course's width up to widths a hundred times
# larger, its time per step barely moves, because it is paying launch overhead, not doing
# arithmetic. That is the batch test again: when more work costs no more time, the work was not
# the cost. The CPU's curve rises much earlier, because a CPU is busy as soon as there is
# arithmetic to do. Where the curves cross, the GPU starts to win, and from there the gap grows.
#
# Widening the 4-h-3 model moves its points right only up to a plateau of a few FLOP per
# byte: each hidden activation costs 7 multiply-adds and must be stored and read back for the
# backward. The hidden-to-hidden layer, ``hidden`` multiply-adds per activation, carries a
# step far past the ridge, to the compute ceiling.
if gpu is not None:
    flat = [p["median_s"] for p in gpu["width"] if p["hidden"] <= 1_000]
    print(f"GPU step from width 10 to 1,000: x{max(flat) / min(flat):.1f} the time for "
          f"{1_000 // 10}x the work")

# sphinx_gallery_start_ignore
if gpu is not None:
    # "flat at first ... its time per step barely moves": under 2x over a 100x wider model
    assert max(flat) / min(flat) < 2, flat
    # "The CPU's curve rises much earlier": by width 10,000 the CPU's step has grown far more
    # than the GPU's
    _cpu_w = {p["hidden"]: p["median_s"] for p in cpu["width"]}
    _gpu_w = {p["hidden"]: p["median_s"] for p in gpu["width"]}
    if 10 in _gpu_w and 10_000 in _gpu_w:  # a quick record sweeps fewer sizes
        assert _cpu_w[10_000] / _cpu_w[10] > 2 * _gpu_w[10_000] / _gpu_w[10], (_cpu_w, _gpu_w)
# "Where the curves cross, the GPU starts to win, and from there the gap grows": the CPU's
# time over the GPU's is larger at the largest size swept than at the crossover
for axis, at in measured_crossover.items():
    if at is not None and at != swept[axis][-1]:
        key, last = SWEEPS[axis][0], swept[axis][-1]
        _c = {p[key]: p["median_s"] for p in cpu[axis]}
        _g = {p[key]: p["median_s"] for p in gpu[axis]}
        assert _c[last] / _g[last] > _c[at] / _g[at], (axis, _c, _g)
# sphinx_gallery_end_ignore

# %%
# Summary
# -------
# - The course's step leaves a GPU idle: its time is its launches, and the batch test shows it
#   barely moves when the work grows.
# - The roofline says what a step could reach: below the ridge point, bandwidth caps it; above,
#   compute. The 4-h-3 model's intensity levels off at a few FLOPs per byte; a hidden-to-hidden
#   layer carries a step far past the ridge.
# - The GPU wins from the crossover on. Read the crossover measured against your own CPU; a
#   record's own crossover holds for a machine like the recorded one.
# - To move your model to the right device: give the GPU a larger batch, fuse the step
#   (:doc:`plot_remedies`), or keep the model on the CPU.
#
# Exercises
# ---------
# 1. Run ``utilization_sweep("cpu", hiddens=[10], batches=[120, 240, 480, 960])`` and print each
#    point's ``median_s``. From which batch does doubling it double the step time?
# 2. Print ``sweep_step_operators(h, 120).intensity`` for ``h`` in 10, 100 and 1,000, then
#    the same with ``deep=True``. Which of the two models can ever pass this CPU's ridge point?
# 3. Predict your own model's step on the recorded GPU with
#    ``predict_step(model, x, targets=y, device=newest_record("cuda"))`` and on ``"cpu"``.
#    Which device does the prediction choose at your batch size?
