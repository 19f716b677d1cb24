"""
Reading a CPU: generation, cores, threads, and what this process may use
========================================================================

To judge a CPU for deep learning, read its model and :term:`generation`, count its
:term:`physical cores <physical core>` and :term:`hardware threads <hardware thread>`, and
then ask how many CPUs *this process* may really use. A few lines of Python read all four,
and a measurement at the end shows what extra threads do for the course's tiny model.

**What you will learn**

- how to read the CPU's model name, its cores and threads, and the CPUs this process may use,
  with Python and torch alone;
- the difference between physical cores, logical CPUs and the CPUs a process may use
  (:term:`CPU affinity` and a :term:`cgroup` quota);
- what the package reads beyond that: a generation a person recognises, the instruction sets
  torch's vectorised code uses, and a container's CPU quota;
- whether more threads help a large matrix product, and the course's tiny one: measured here.
"""

# %%
# The CPU's name
# --------------
# The course reads the machine with the tools at hand. ``platform.processor()`` is Python's
# own answer; on Linux it is often empty, and the file ``/proc/cpuinfo`` has the
# marketing name on its ``model name`` lines. macOS and Windows have no such file, so the
# code checks first.
#
# .. rst-class:: course-code
import os
import platform

print("platform.processor():", platform.processor() or "(empty on this system)")

model_name = "(no /proc/cpuinfo: not Linux)"
if os.path.exists("/proc/cpuinfo"):
    model_name = "(no 'model name' line in /proc/cpuinfo)"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
print("model name:", model_name)

# %%
# Cores, threads, and the CPUs this process may use
# -------------------------------------------------
# ``os.cpu_count()`` counts *logical* CPUs: every hardware thread the operating system can
# schedule on. The physical cores are the distinct ``(physical id, core id)`` pairs in
# ``/proc/cpuinfo``; Arm CPUs leave those lines out, and Linux's topology files in
# ``/sys`` say the same thing. ``os.sched_getaffinity(0)`` is the set of CPUs this process
# may run on (Linux only), and ``torch.get_num_threads()`` is how many
# :term:`intra-op threads` torch will use for one :term:`operator`.
#
# .. rst-class:: course-code
import glob
import os

import torch

logical = os.cpu_count()
cores = set()  # distinct (physical id, core id) pairs
package = None
if os.path.exists("/proc/cpuinfo"):
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "physical id":
                package = value.strip()
            elif key.strip() == "core id":
                cores.add((package, value.strip()))
if not cores:  # Arm: the same facts from Linux's topology files
    for topology in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/topology"):
        with open(f"{topology}/physical_package_id") as p, open(f"{topology}/core_id") as c:
            cores.add((p.read().strip(), c.read().strip()))
physical = len(cores) or None

print("logical CPUs (os.cpu_count()):", logical)
print("physical cores:", physical or "not reported by this system")
if physical:
    print("hardware threads per core:", logical // physical)
if hasattr(os, "sched_getaffinity"):
    allowed = len(os.sched_getaffinity(0))
    print("CPUs this process may run on (sched_getaffinity):", allowed)
else:
    print("sched_getaffinity: not on this system (macOS, Windows); all CPUs are allowed")
print("torch intra-op threads (torch.get_num_threads()):", torch.get_num_threads())

# %%
# - A **physical core** has its own execution units. With simultaneous multithreading
#   (:term:`SMT`; Intel calls it Hyper-Threading) each core runs two hardware threads that
#   share those units: good for hiding memory stalls, worth far less than a second core for
#   dense arithmetic. A cloud VM often shows one thread per core, because it hands out
#   threads and calls them CPUs.
# - **The CPUs this process may use** can be fewer than the machine has. A scheduler or
#   ``taskset`` can narrow the affinity mask. A container's cgroup quota (``docker --cpus=2``,
#   a Kubernetes CPU limit, a CI runner) caps CPU *time* without hiding any CPU, so no line
#   above sees it. ``os.cpu_count()`` and torch's default thread count ignore the quota, so a
#   container can start more threads than it has time for, and run slower than with fewer.

# %%
# What the package reads beyond that
# ----------------------------------
# The plain reading stops where the files stop. :func:`devicelab.hardware.cpu_info` goes
# three steps further. It turns the CPUID family and model numbers into a generation, because
# a VM often masks the marketing name. It asks
# `archspec <https://github.com/archspec/archspec>`_ for the :term:`microarchitecture`. And it
# reads the cgroup files for a CPU quota, so its count of usable CPUs is the one to size a
# thread pool by.
import shutil
import statistics
import subprocess
import time

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

from devicelab.data import load_iris
from devicelab.display import Collapsed
from devicelab.hardware import cpu_info
from devicelab.models import MLP
from devicelab.timing import compare, measure

start = time.perf_counter()
cpu = cpu_info()
cost_ms = (time.perf_counter() - start) * 1e3

for field in ("vendor", "family", "model", "microarchitecture", "generation", "cpu_quota",
              "usable_cpus"):
    print(f"{field:>17}: {getattr(cpu, field)}")
print(f"{'cpu_info() took':>17}: {cost_ms:.1f} ms")

# sphinx_gallery_start_ignore
assert cpu.generation and cpu.microarchitecture
assert cost_ms < 1000, "cpu_info() must feel instant"
assert cpu.logical_cpus == logical == os.cpu_count()
assert cpu.usable_cpus is not None and 1 <= cpu.usable_cpus <= cpu.logical_cpus
if hasattr(os, "sched_getaffinity"):
    assert cpu.usable_cpus <= allowed
if cpu.physical_cores and cpu.threads_per_core:
    assert cpu.physical_cores * cpu.threads_per_core == cpu.logical_cpus
# sphinx_gallery_end_ignore

# %%
# Both readings count the same cores, from the same Linux files:
agree = physical == cpu.physical_cores
print(f"physical cores: {physical} by hand, {cpu.physical_cores} by cpu_info() -> "
      + ("they agree" if agree else "they differ: psutil read another source here"))

# %%
# **Generation.** The model name above may be a masked one such as "AMD EPYC", while the
# family and model numbers pass through the hypervisor. A newer generation brings wider
# vector units and new instructions (AVX-512 and AMX on Intel, SVE on Arm) and more work per
# clock. That matters for big matrix products more than for the tiny Iris model, whose time
# goes to :term:`overhead`.
#
# **Microarchitecture** is archspec's name for the newest target whose features this CPU
# exposes: what a compiler may safely build for. A VM that hides a single flag can make it
# older than the silicon, which is why it can differ from the generation.
#
# **Usable CPUs** is the affinity mask, capped by the cgroup quota when there is one
# (``cpu_quota`` is ``None`` when no quota is set).

# %%
# Which instruction set torch uses
# --------------------------------
print(f"{'ISA extensions':>17}: {', '.join(cpu.isa_extensions) or '(none notable)'}")
print(f"{'torch kernels for':>17}: {cpu.torch_cpu_capability}")

# %%
# ``torch.backends.cpu.get_cpu_capability()`` is the instruction set that :term:`ATen`
# chose for its vectorised code at start-up (``AVX512``, ``AVX2``, ``SVE256``,
# ``DEFAULT``...). Matrix products go through :term:`oneDNN` or a :term:`BLAS` library,
# which make their own choice (AMX on recent Xeons).

# %%
# Threads help big work and not tiny work: a measurement
# ------------------------------------------------------
# The same two workloads, timed with :func:`devicelab.timing.measure`
# (``torch.utils.benchmark`` underneath) on one thread and on every usable CPU: a tiny one,
# the size of the Iris hidden layer, and a large matrix product. Each bar is the
# :term:`median` of many calls.
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

speedups = {name: timings[name, 1].median_s / timings[name, usable].median_s for name in workloads}
tiny_gain = speedups["tiny: (120x4) @ (4x10)"]
large_gain = speedups["large: (1024x1024) @ (1024x1024)"]
if usable == 1:
    print("Only one CPU is usable here, so there is no thread pool to compare.")
else:
    for name, gain in (("large product", large_gain), ("tiny product", tiny_gain)):
        verdict = "helped" if gain > 1.1 else "hurt" if gain < 0.9 else "made no real difference"
        print(f"{usable} threads {verdict} on the {name}: {gain:.2g}x the speed of 1 thread.")

Collapsed("Median and IQR of each workload at each thread count", "\n".join(
    f"{name:<34} {threads:>2} thread(s): {t.median_s * 1e6:10.1f} µs  (IQR {t.iqr_s * 1e6:.1f} µs)"
    for (name, threads), t in timings.items()))

# %%
# The figure draws the same medians on a log scale: each labelled tick is ten times the one
# before it.


def speed_words(gain):
    return "faster" if gain > 1.1 else "slower" if gain < 0.9 else "no faster"


fig, ax = plt.subplots(figsize=(8, 3.5))
names = list(workloads)
for offset, threads in ((0.2, 1), (-0.2, usable)):  # 1 thread on top, as in the key
    ax.barh([i + offset for i in range(len(names))],
            [timings[n, threads].median_s * 1e6 for n in names], height=0.38,
            label=f"{threads} thread(s)")
ax.set_yticks(range(len(names)), [n.replace(": ", "\n") for n in names])
ax.set_xscale("log")
ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
ax.xaxis.set_minor_formatter(NullFormatter())
ax.set_xlabel("median time per call (µs, log scale)")
chip = cpu.generation.split(" (")[0]
if usable == 1:
    ax.set_title(f"One usable CPU on {chip}: no thread pool to compare")
else:
    ax.set_title(f"On {chip}, {usable} threads ran the large product {speed_words(large_gain)}\n"
                 f"and the tiny one {speed_words(tiny_gain)} than 1 thread")
ax.legend(title="threads", loc="center left", bbox_to_anchor=(1.01, 0.5))
fig.tight_layout()

# %%
# A tiny product of 120x4 by 4x10 finishes in less time than it takes to wake a second
# thread, so torch does not even split it: its parallel loops only divide work above a grain
# size of tens of thousands of elements. A large product splits across cores and, on an idle
# machine, runs faster with more threads. On a busy machine (other jobs, a container quota,
# a noisy neighbour on a VM) extra threads wait for each other and can make *both* slower:
# that is oversubscription, and it is why the page on :term:`remedies <remedy>` tries one
# thread for the course's loop.

# %%
# The course's loop and the thread pool
# -------------------------------------
# Not every tiny operator stays on one thread: some (reductions such as the loss, some
# matrix products) enter a parallel region anyway, and then every pool thread must wake up
# and finish before the operator returns. Measured on the course's :term:`epoch`: blocks of
# 100 epochs at one thread and at every usable CPU, set with ``torch.set_num_threads``,
# alternating in :term:`paired rounds` (:func:`devicelab.timing.compare`), with the CPU time
# the process burned per second of wall time (1.0: one core busy).
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
            loss = torch.nn.functional.cross_entropy(model(iris.X_train), iris.y_train)
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
                   baseline="1 thread", rounds=8, device="cpu")
    ratio = pool.ratios[f"{usable} threads"]
    cores_busy = {n: statistics.median(b) for n, b in busy.items()}
    print(f"course epoch: {usable} threads take x{ratio.estimate:.2f} the time of 1 thread "
          f"(interval {ratio.low:.2f} to {ratio.high:.2f})")
    woke = cores_busy[usable] > 1.5 * cores_busy[1]
    pool_sentence = (
        ("The pool woke up for the course's tiny operators: the process kept "
         f"{cores_busy[usable]:.2f} cores busy on average, against {cores_busy[1]:.2f} at one "
         "thread. " if woke else
         f"The pool stayed mostly asleep here ({cores_busy[usable]:.2f} cores busy on average, "
         f"against {cores_busy[1]:.2f} at one thread). ")
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
# That is why the site compares variants at the same thread setting: on a busy machine the
# pool's wake-ups can cost more than the effect being measured, and which variant ran beside
# which job would decide the result. The remedies page measures the "one thread" remedy
# itself.

# %%
# Compare with the tools you know
# -------------------------------
# ``lscpu`` (Linux) reads the same Linux files as the code above; its CPU lines on this
# machine are folded away below, to compare. ``python -m torch.utils.collect_env``, which
# PyTorch asks for in bug reports, prints the same CPU lines next to torch's own build.
if shutil.which("lscpu"):
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    keep = ("Model name", "CPU(s):", "Thread(s) per core", "Core(s) per socket", "Socket(s)",
            "Vendor ID", "CPU family", "Model:")
    lscpu_lines = [line for line in lscpu.splitlines() if line.strip().startswith(keep)]
else:
    lscpu_lines = ["lscpu is not available on this system (it ships with Linux's util-linux)."]
Collapsed("What lscpu says about this CPU", "\n".join(lscpu_lines))

# %%
# Summary
# -------
# - ``/proc/cpuinfo`` and ``os.cpu_count()`` give the CPU's name, its physical cores and its
#   hardware threads; ``os.sched_getaffinity(0)`` gives the CPUs this process may run on.
# - ``torch.get_num_threads()`` is how many threads one torch operator may use; a container's
#   CPU quota is invisible to all of these, and :func:`devicelab.hardware.cpu_info` reads it.
# - A masked model name still has a generation: the family and model numbers name it.
# - Extra threads can only help an operator big enough to split, and only when the cores are
#   free; the measurements above show what they did here, for a large product and the
#   course's tiny epoch.
#
# Exercises
# ---------
# 1. Run the course's two cells on your own computer. How many hardware threads does each
#    core run? Does ``torch.get_num_threads()`` match the physical cores or the logical CPUs?
# 2. Run the same lines under ``taskset -c 0 python ...`` (Linux). Which numbers change, and
#    which do not?
# 3. Time ``big_a @ big_b`` with ``torch.set_num_threads(1)`` and then with every usable CPU.
#    Then shrink the matrices until the extra threads stop helping: where is that size on your
#    machine?
