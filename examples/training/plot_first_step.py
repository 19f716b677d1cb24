"""
Why the first epoch is slow
===========================

The first training step of a run takes longer than the steps after it, on any device: torch
sets things up the first time they are used, and keeps them. In a long run that set-up is a
small share; in a short timing it can be most of what is measured.

This page goes beyond the course. The course timed its 20,000 :term:`epochs <epoch>` as a
whole; here the first of them is taken apart, so the page needs the package's instrumented
step: a clock around each phase of the step, in a fresh Python process. It measures the
first step on this machine's CPU, and says why every timing on this site starts with a
:term:`warm-up`.

**What you will learn**

- how much longer the first step of the course's training takes than a warm one, and which
  phase of the step pays for it;
- what a first call sets up: on the CPU, each :term:`operator`'s first call, :term:`BLAS` and
  :term:`oneDNN`; on a GPU, the CUDA context, the :term:`cuBLAS` handle and each
  :term:`kernel`'s module; and the first call of a :term:`torch.compile`'d function, the
  largest of all;
- which of these the course's 20,000-epoch time includes, and why every timing on this site
  warms up first.
"""

# %%
# The first step, in a fresh process
# ----------------------------------
# This page runs in the process that builds the site, where earlier pages have already used
# every operator of the course. So :func:`devicelab.first_step.measure_first_step` starts a
# new Python process, moves the course's model and data to the device (before the loop, as
# :doc:`plot_train_on_device` does), and times the course's steps one by one, each with
# :func:`devicelab.timing.timed_block`. It uses one thread, as the step breakdown and the
# noise meter do: the step's operators are too small to share, and a second thread on a busy
# machine only waits. A warm step is the :term:`median` of the steps after the first ten.
import statistics

import matplotlib.pyplot as plt
import torch

from devicelab.display import Collapsed
from devicelab.first_step import FirstStep, measure_first_step
from devicelab.results import newest_record, provenance, recorded_results

cpu = measure_first_step("cpu", threads=1)
steps = len(cpu.step_times_s)
print(f"CPU, a fresh process, {cpu.threads} thread, torch {cpu.torch}:")
print(f"  model and data to the CPU  {cpu.to_device_s * 1e6:8.1f} µs")
print(f"  first step                 {cpu.first_s * 1e6:8.1f} µs")
print(f"  second step                {cpu.second_s * 1e6:8.1f} µs")
print(f"  warm step                  {cpu.warm_s * 1e6:8.1f} µs (median of steps "
      f"{cpu.warmup_steps + 1} to {steps})")
print(f"The first step took {cpu.ratio:.1f}× a warm one: {cpu.extra_s * 1e3:.2f} ms of "
      "set-up, paid once per process.")

# sphinx_gallery_start_ignore
# The prose says the first step is the slow one, and the second already close to warm.
assert cpu.first_s > 2 * cpu.warm_s, (cpu.first_s, cpu.warm_s)
assert cpu.second_s < cpu.first_s, cpu.step_times_s[:3]
# sphinx_gallery_end_ignore

fig, ax = plt.subplots(figsize=(8, 3.4))
ax.plot(range(1, steps + 1), [t * 1e6 for t in cpu.step_times_s], marker="o", markersize=3,
        label="CPU, live (a fresh process)")
ax.axhline(cpu.warm_s * 1e6, color="#888888", linestyle="--", label="warm median")
ax.set_yscale("log")
ax.set_xlabel("training step of the course (1 = the first)")
ax.set_ylabel("µs per step (log)")
ax.set_title(f"The first step takes {cpu.ratio:.0f}× a warm one, the second "
             f"{cpu.second_s / cpu.warm_s:.1f}×")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Which phase pays for it
# -----------------------
# Each step is timed in its phases (:class:`devicelab.steps.Laps`): the
# :term:`forward pass`, the loss, the :term:`backward pass`, the optimizer (``zero_grad`` and
# ``step``) and the :term:`synchronisation` (``loss.item()``). The first step against the
# median warm one:
print(f"  {'phase':<10} {'first step':>12} {'warm step':>12} {'extra':>10}")
extra = {}
for phase, first in cpu.first_phases_s.items():
    warm = cpu.warm_phases_s[phase]
    extra[phase] = first - warm
    print(f"  {phase:<10} {first * 1e6:9.1f} µs {warm * 1e6:9.1f} µs {extra[phase] * 1e6:7.1f} µs")
ranked = sorted(extra, key=extra.get, reverse=True)
print(f"Most of the extra time is in the {ranked[0]} ({extra[ranked[0]] * 1e6:.0f} µs) and the "
      f"{ranked[1]} ({extra[ranked[1]] * 1e6:.0f} µs).")

# sphinx_gallery_start_ignore
assert extra[ranked[0]] >= extra[ranked[1]] > 0, extra
# sphinx_gallery_end_ignore

# %%
# Every phase pays on its first call, for its own operators: the first call of an operator
# looks up its kernel and fills caches that later calls find; the first matrix product sets up
# :term:`BLAS`; the first backward sets up the :term:`autograd engine`. None of it is arithmetic: the arithmetic
# of the first step is the same as that of every other step.
#
# One first call at a time
# ------------------------
# A second fresh process makes the first calls one at a time, in this order, each timed once
# and then 20 times warm: the first tensor, a 64 MiB buffer, a matrix product of the course's
# shape, a small convolution (which goes through oneDNN, the library torch uses for
# convolutions on the CPU: it creates a *primitive* for each new shape on its first call, then
# reuses it), one course step, and the first call of a ``torch.compile``'d epoch. Each pays
# only for what the calls before it have not set up already. The table of all of them, with
# what each one set up, is folded below the largest.
rows = [c for c in cpu.calls if c.name != "torch.compile"]
slowest = max(rows, key=lambda c: c.first_s - c.warm_s)
print(f"Without torch.compile, the largest one-off cost here is the {slowest.name}'s: "
      f"{(slowest.first_s - slowest.warm_s) * 1e6:,.0f} µs, {slowest.ratio:,.0f}× its warm call.")

# sphinx_gallery_start_ignore
assert cpu.call("course step").first_s > cpu.call("course step").warm_s
assert cpu.call("matmul").first_s > cpu.call("matmul").warm_s
# sphinx_gallery_end_ignore

Collapsed("Every first call: its first time, its warm time, their ratio and what it set up",
          cpu.table())

# %%
# The first compiled call
# -----------------------
# ``torch.compile`` does its work on the first call: Dynamo traces the Python function, and
# Inductor writes C++ for the CPU (Triton kernels for a GPU) and compiles it. torch keeps the
# result in a cache on disk, so a later process on the same machine loads it instead, which is
# much faster than the first compilation ever; the time below is whatever this machine's cache
# allowed. With no C++ compiler (most Windows laptops, Macs without Apple's command-line
# tools), the call fails, and the page says so here instead.
if "torch.compile" in cpu.skipped:
    print(f"Skipped: the first compiled call: {cpu.skipped['torch.compile']}")
else:
    compiled = cpu.call("torch.compile")
    print(f"The first call of the compiled epoch took {compiled.first_s:.2f} s; a warm call "
          f"takes {compiled.warm_s * 1e6:.1f} µs, against {cpu.warm_s * 1e6:.1f} µs for an eager "
          "step.")
    print(f"That first call alone is worth {compiled.first_s / cpu.warm_s:,.0f} warm eager "
          "steps: compiling pays only in a run long enough to earn it back.")

    # sphinx_gallery_start_ignore
    assert compiled.first_s > cpu.first_s, "the prose calls the compiled first call the largest"
    # sphinx_gallery_end_ignore

# %%
# On a GPU
# --------
# On a GPU the first CUDA call creates the context: the driver starts, and maps the device
# into the process. It can take seconds (pytorch/pytorch#22583), and minutes when the driver
# must first compile kernels for a GPU newer than the wheel (pytorch/pytorch#537). Then the
# first matrix product creates the cuBLAS handle, and each kind of kernel loads its module on
# first use (CUDA loads modules lazily). Reader reports of a slow first inference or first
# epoch are this (pytorch/pytorch#44269). The same measurement runs live where torch sees a
# GPU; without one, the page shows a recorded GPU run, or says that none is recorded yet.
gpu, source = None, None
if torch.cuda.is_available():
    gpu, source = measure_first_step("cuda"), f"live: {torch.cuda.get_device_name(0)}"
else:
    for record in recorded_results("cuda"):
        gpu = FirstStep.from_record(record)
        if gpu is not None:
            source = f"RECORDED, not live: {provenance(record)}"
            break
if gpu is None:
    newest = newest_record("cuda")
    print("No GPU on this machine. The GPU's first step: not recorded yet"
          + (f" (the recorded GPU run predates this measurement: {provenance(newest)})."
             if newest else "."))
else:
    print(f"GPU, {source}")
    print(f"  model and data to the GPU (the context is created here): "
          f"{gpu.to_device_s * 1e3:.1f} ms")
    print(f"  first step {gpu.first_s * 1e3:.2f} ms, warm {gpu.warm_s * 1e6:.1f} µs "
          f"({gpu.ratio:.0f}×)")
    print(gpu.table())

# %%
# What the course's 20,000-epoch time includes
# --------------------------------------------
# The site's own figure for the course's loop (:func:`devicelab.training.course_run`) runs 50
# warm-up epochs on a throw-away copy of the model first, so its 20,000 epochs include none of
# this. A script that starts its clock just before its loop includes the first step's set-up
# once: the first call of every operator, BLAS, autograd's engine and the optimizer, and on a
# GPU the cuBLAS handle and each kernel's module. The CUDA context is not in it when the model
# and the data moved to the GPU before the clock started, as in :doc:`plot_train_on_device`;
# ``torch.compile``'s first call is, when the loop calls a compiled function.
EPOCHS = 20_000
loop_s = cpu.extra_s + EPOCHS * cpu.warm_s
share = cpu.extra_s / loop_s
print(f"On this CPU: {cpu.extra_s * 1e3:.2f} ms of set-up in a {EPOCHS:,}-epoch loop of "
      f"{loop_s:.2f} s, {share:.2%} of it.")
if gpu is not None:
    gpu_loop = gpu.extra_s + EPOCHS * gpu.warm_s
    print(f"On the GPU: {gpu.extra_s * 1e3:.1f} ms of set-up in {gpu_loop:.2f} s, "
          f"{gpu.extra_s / gpu_loop:.2%} of it.")
per_epoch_first_100 = (cpu.extra_s + 100 * cpu.warm_s) / 100
print(f"Timed over its first 100 epochs instead, the same loop would seem to take "
      f"{per_epoch_first_100 * 1e6:.1f} µs per epoch, not {cpu.warm_s * 1e6:.1f} µs.")
share_of_5 = cpu.extra_s / (cpu.extra_s + 5 * cpu.warm_s)
print(f"In a benchmark that times only its first 5 steps, the set-up is {share_of_5:.0%} "
      f"of what it measures.")

# sphinx_gallery_start_ignore
# The paragraph below: small in a long run, large in a short one (at least a quarter of
# five steps' time, and many times its share of the long run).
assert share < 0.05, share
assert per_epoch_first_100 > cpu.warm_s
assert share_of_5 > max(0.25, 10 * share), (share_of_5, share)
assert statistics.median(cpu.step_times_s[-10:]) < cpu.first_s
# sphinx_gallery_end_ignore

# %%
# In a run of 20,000 epochs the set-up is a small share; in a short run, or a benchmark of a
# few steps, it is a large share of what is measured (printed above), and it changes with the
# number of steps timed.
# That is why every timing on this site warms up first and then measures many steps: a warm
# step is the same on every page, for every epoch count, and the set-up is a cost of its own,
# measured on this page. The GPU pages warm up for the same reason, with more to set up.
#
# On your own machine, ``python -m devicelab doctor`` checks what the compiled parts need (a
# C++ compiler, Triton on a GPU); :doc:`/your_machine` explains each finding.
#
# Summary
# -------
# - The first step of a process pays a one-off set-up: each operator's first call, BLAS,
#   oneDNN and the autograd engine on the CPU; the CUDA context, cuBLAS and each kernel's
#   module on a GPU. None of it is arithmetic.
# - The first call of a ``torch.compile``'d function is the largest one-off cost of all: a
#   compiled loop pays off only in a run long enough to earn it back.
# - In a long run the set-up is a small share; in a benchmark of a few steps it is a large share
#   of what is measured. So time warm steps, after a warm-up, and measure the set-up on its own.
#
# Exercises
# ---------
# 1. Time the course's loop as a learner would, with ``time.perf_counter()`` around all of it,
#    for 10, 100 and 20,000 epochs in fresh processes. How does the time per epoch change with
#    the epoch count, and why?
# 2. Run ``measure_first_step("cpu", threads=2)`` and compare the matmul's first call with the
#    one-thread run above: what does a second thread add to the set-up?
# 3. On a machine with a GPU, run ``measure_first_step("cuda")`` and find which first call pays
#    for the CUDA context. Then move the model to the GPU before starting your clock, as
#    :doc:`plot_train_on_device` does, and check that the context is out of your timing.
