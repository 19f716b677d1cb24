"""
Reading a CPU: generation, cores, threads, and what this process may use
========================================================================

To judge a CPU for deep learning, look at three things: its generation (which decides the
vector and matrix instructions it has), its physical cores, and its hardware threads. Then
look at a fourth thing most tools hide: how many of those CPUs *this process* may really use.

**What you will learn**

- how to read the vendor, family/model and microarchitecture of a CPU, and turn them into a
  generation a person recognises;
- the difference between physical cores, logical CPUs and the CPUs a process may use (affinity
  mask and container quota);
- which instruction-set extensions torch picks its kernels for;
- that more threads help large tensors and do nothing, or harm, for tiny ones: measured here.
"""

# %%
# This machine's CPU
# ------------------
# :func:`devicelab.hardware.cpu_info` reads ``/proc/cpuinfo`` on Linux, asks
# `archspec <https://github.com/archspec/archspec>`_ for the microarchitecture, psutil for the
# physical cores, the cgroup files for a CPU quota, and torch for its own view.
import os
import shutil
import statistics
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from devicelab.data import load_iris
from devicelab.hardware import cpu_info
from devicelab.models import MLP
from devicelab.timing import compare, measure

start = time.perf_counter()
cpu = cpu_info()
cost_ms = (time.perf_counter() - start) * 1e3

for field in ("vendor", "model_name", "machine", "family", "model", "stepping",
              "microarchitecture", "generation"):
    print(f"{field:>18}: {getattr(cpu, field)}")
print(f"{'cpu_info() took':>18}: {cost_ms:.1f} ms")

# sphinx_gallery_start_ignore
assert cpu.generation and cpu.microarchitecture
assert cost_ms < 1000, "cpu_info() must feel instant"
# sphinx_gallery_end_ignore

# %%
# **Generation.** The marketing name is often masked in a VM ("Intel(R) Xeon(R)
# Processor", "AMD EPYC"), so the generation comes from the CPUID family and model numbers,
# which a hypervisor passes through. A newer generation brings wider vector units and new
# instructions (AVX-512, AMX on Intel; SVE on Arm) and more work per clock. That matters more
# for big matrix products than for the tiny Iris model, whose time goes to overhead.
#
# **Microarchitecture** is archspec's name for the newest target whose features this CPU
# exposes: what a compiler may safely build for. A VM that hides a single flag can make it
# older than the silicon, which is why it can differ from the generation above.

# %%
# Cores, threads, and the CPUs this process may use
# -------------------------------------------------
for field in ("physical_cores", "logical_cpus", "threads_per_core", "usable_cpus", "cpu_quota"):
    print(f"{field:>18}: {getattr(cpu, field)}")
print(f"{'os.cpu_count()':>18}: {os.cpu_count()}")
if hasattr(os, "sched_getaffinity"):
    print(f"{'affinity mask':>18}: CPUs {sorted(os.sched_getaffinity(0))}")

# sphinx_gallery_start_ignore
assert cpu.logical_cpus == os.cpu_count()
assert cpu.usable_cpus is not None and 1 <= cpu.usable_cpus <= cpu.logical_cpus
if cpu.physical_cores and cpu.threads_per_core:
    assert cpu.physical_cores * cpu.threads_per_core == cpu.logical_cpus
# sphinx_gallery_end_ignore

# %%
# - A **physical core** has its own execution units. With simultaneous multithreading
#   (Intel's Hyper-Threading, AMD's SMT) each core runs two **hardware threads** that share
#   those units: good for hiding memory stalls, worth far less than a second core for dense
#   arithmetic.
# - **Usable CPUs** can be fewer than the machine has. A scheduler or ``taskset`` can restrict
#   the affinity mask, and a container's cgroup quota (``docker --cpus=2``, a Kubernetes CPU
#   limit, a CI runner) caps CPU *time* without hiding any CPU. ``os.cpu_count()`` and
#   torch's default thread count ignore the quota, so a container can start more threads
#   than it has time for and run slower than with fewer.

# %%
# Which kernels torch runs, and with how many threads
# ---------------------------------------------------
print(f"{'ISA extensions':>18}: {', '.join(cpu.isa_extensions) or '(none notable)'}")
print(f"{'torch kernels for':>18}: {cpu.torch_cpu_capability}")
print(f"{'torch threads':>18}: {cpu.torch_threads}")

# %%
# ``torch.backends.cpu.get_cpu_capability()`` is the instruction set ATen chose for its
# vectorised kernels at start-up (``AVX512``, ``AVX2``, ``SVE256``, ``DEFAULT``...). Matrix
# products go through oneDNN or a BLAS library, which make their own choice (AMX on recent Xeons).

# %%
# Threads help big work and not tiny work: a measurement
# ------------------------------------------------------
# The same two workloads, timed with :func:`devicelab.timing.measure` (``torch.utils.benchmark``
# underneath) on one thread and on every usable CPU: a tiny one, the size of the Iris hidden
# layer, and a large matrix product.
usable = cpu.usable_cpus or 1
tiny_x, tiny_w = torch.rand(120, 4), torch.rand(10, 4)
big_a, big_b = torch.rand(1024, 1024), torch.rand(1024, 1024)
workloads = {
    "tiny: (120x4) @ (4x10)": lambda: tiny_x @ tiny_w.T,
    "large: (1024x1024) @ (1024x1024)": lambda: big_a @ big_b,
}
timings = {}
for name, work in workloads.items():
    for threads in sorted({1, usable}):
        timings[name, threads] = measure(work, label=name, num_threads=threads, min_run_time=0.3)
        print(f"{name:<34} {threads:>2} thread(s): {timings[name, threads].median_s * 1e6:10.1f} us"
              f"  (IQR {timings[name, threads].iqr_s * 1e6:.1f} us)")

speedups = {name: timings[name, 1].median_s / timings[name, usable].median_s for name in workloads}
for name, gain in speedups.items():
    print(f"{name}: {usable} threads are {gain:.2f}x the speed of 1 thread")

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
names = list(workloads)
for offset, threads in ((-0.2, 1), (0.2, usable)):
    ax.barh([i + offset for i in range(len(names))],
            [timings[n, threads].median_s * 1e6 for n in names], height=0.38,
            label=f"{threads} thread(s)")
ax.set_yticks(range(len(names)), names)
ax.set_xscale("log")
ax.set_xlabel("median time per call (us, log scale)")
ax.set_title(f"Threads on {cpu.generation}")
ax.legend()
fig.tight_layout()

# %%
# What this machine showed:
tiny_gain = speedups["tiny: (120x4) @ (4x10)"]
large_gain = speedups["large: (1024x1024) @ (1024x1024)"]
if usable == 1:
    print("Only one CPU is usable here, so there is no thread pool to compare.")
else:
    for name, gain in (("large product", large_gain), ("tiny product", tiny_gain)):
        verdict = "helped" if gain > 1.1 else "hurt" if gain < 0.9 else "made no real difference"
        print(f"{usable} threads {verdict} on the {name} ({gain:.2f}x).")

# %%
# A tiny product of 120x4 by 4x10 finishes in less time than it takes to wake a second
# thread, so torch does not even split it: its parallel loops only divide work above a grain
# size of tens of thousands of elements. A large product splits across cores and, on an idle
# machine, runs faster with more threads. On a busy machine (other jobs, a container quota,
# a noisy neighbour on a VM) extra threads wait for each other and can make *both* slower:
# that is oversubscription, and it is why the remedies page tries one thread for the
# course's loop.

# %%
# The course's loop and the thread pool
# -------------------------------------
# Not every tiny operator stays on one thread: some (reductions such as the loss, some
# matrix products) enter a parallel region anyway, and then every pool thread must wake up
# and finish before the operator returns. Measured on the course's epoch: blocks of 100
# epochs at one thread and at every usable CPU, alternating in paired rounds
# (:func:`devicelab.timing.compare`), with the CPU time the process burned per second of
# wall time (1.0: one core busy).
iris = load_iris()


def course_epochs_at(threads, busy):
    """A block of 100 course epochs at ``threads`` threads; appends cores busy to ``busy``."""
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def block():
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        for _ in range(100):
            loss = F.cross_entropy(model(iris.X_train), iris.y_train)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()
        busy.append((time.process_time() - cpu_start) / (time.perf_counter() - wall_start))
        torch.set_num_threads(before)

    return block


if usable > 1:
    busy = {1: [], usable: []}
    pool = compare({"1 thread": course_epochs_at(1, busy[1]),
                    f"{usable} threads": course_epochs_at(usable, busy[usable])},
                   baseline="1 thread", rounds=8)
    ratio = pool.ratios[f"{usable} threads"]
    cores = {n: statistics.median(b) for n, b in busy.items()}
    print(f"course epoch: {usable} threads take x{ratio.estimate:.2f} the time of 1 thread "
          f"(interval {ratio.low:.2f} to {ratio.high:.2f}); cores busy: {cores[1]:.2f} at 1 "
          f"thread, {cores[usable]:.2f} at {usable}")
    woke = cores[usable] > 1.5 * cores[1]
    pool_sentence = (
        ("The pool woke up for the course's tiny operators: the process kept "
         f"{cores[usable]:.2f} cores busy on average, against {cores[1]:.2f} at one thread. "
         if woke else
         "The pool stayed mostly asleep here. ")
        + ("On this machine that also cost wall time: a descheduled pool thread is waited for."
           if ratio.above(1) else
           "Wall time was no better with the pool." if ratio.contains(1) else
           "Wall time was shorter with the pool here."))
    print(pool_sentence)
    # sphinx_gallery_start_ignore
    assert ("woke up" in pool_sentence) == woke
    assert ("also cost wall time" in pool_sentence) == ratio.above(1)
    # sphinx_gallery_end_ignore
else:
    print("Only one CPU is usable here: no pool to wake.")

# %%
# That is why the site compares variants at the same thread setting: on a busy machine the pool's
# wake-ups can cost more than the effect being measured, and which variant ran beside which
# job would decide the result. The remedies page measures the "one thread" remedy itself.

# %%
# Compare with the tools you know
# -------------------------------
# ``lscpu`` (Linux) reads the same sources. ``python -m torch.utils.collect_env`` is what
# PyTorch asks for in bug reports. Here are their CPU lines on this machine.
if shutil.which("lscpu"):
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    keep = ("Model name", "CPU(s):", "Thread(s) per core", "Core(s) per socket", "Socket(s)",
            "Vendor ID", "CPU family", "Model:")
    print("\n".join(line for line in lscpu.splitlines() if line.strip().startswith(keep)))
else:
    print("lscpu is not available on this system (it ships with Linux's util-linux); "
          "cpu_info() read the same facts through archspec and psutil instead.")

# %%
env = subprocess.run([sys.executable, "-m", "torch.utils.collect_env"], capture_output=True,
                     text=True, timeout=120)
lines = env.stdout.splitlines()
wanted = ("PyTorch version", "Is debug build", "CUDA used to build", "OS:", "Python version",
          "Is CUDA available", "Model name", "CPU(s):", "Thread(s) per core")
print("\n".join(line for line in lines if line.strip().startswith(wanted)))
