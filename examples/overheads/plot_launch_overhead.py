"""
Overhead 2: the fixed cost of every operator and kernel launch
==============================================================

Every PyTorch operator costs a fixed few microseconds of CPU time before any arithmetic, and
on a GPU each one is also a :term:`kernel` launch. The Iris step runs a few dozen operators
on tiny matrices, so its time is set by how many operators it launches, not by their
arithmetic.

This is the second of the three overheads the course meets, after
:doc:`moving data and waiting for it <plot_transfer_cost>` and before :doc:`a GPU with too
little work <plot_utilization>`.

**What you will learn**

- the cost of one tiny operator, timed with a plain loop, and Horace He's :term:`batch test`
  on the course's training step;
- how many operators and GPU kernels one Iris training step runs, counted by
  :mod:`torch.profiler` rather than guessed;
- the launch floor they imply, set beside the measured epoch;
- where the rest of the step goes, phase by phase.
"""

# %%
# One tiny operator
# -----------------
# An in-place add on a one-element tensor does almost no arithmetic, so its time is
# :term:`overhead`: Python, the :term:`dispatcher` that picks the right :term:`ATen` function
# for the tensor's device and type, and on a GPU the :term:`kernel launch overhead`. The loop
# issues the adds back to back and waits once at the end (a :term:`synchronisation`), as a
# training loop does.
#
# .. rst-class:: course-code
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def wait():
    if device.type == "cuda":
        torch.cuda.synchronize()  # the CPU waits until the GPU's queue is empty


tiny = torch.zeros(1, device=device)
n = 20_000
wait()
start = time.perf_counter()
for _ in range(n):
    tiny.add_(1.0)  # one operator: on a GPU, one kernel launch
wait()
print(f"one tiny add_ on {device}: {(time.perf_counter() - start) / n * 1e6:.2f} µs")

# %%
# The batch test on the course's step
# -----------------------------------
# Horace He's test ("Making Deep Learning Go Brrrr"): if doubling the batch barely changes the
# time of a step, the step is :term:`overhead-bound`, and a faster chip will not make it
# faster. Here is the course's MLP and its training step, timed at the Iris batch (120 rows)
# and at twice that.
#
# .. rst-class:: course-code
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


def train_step(model, optimizer, X, y):
    loss = F.cross_entropy(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def step_time(batch, steps=400):
    torch.manual_seed(0)
    model = MLP().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    X, y = torch.rand(batch, 4, device=device), torch.randint(0, 3, (batch,), device=device)
    times = []
    for _ in range(steps):
        wait()
        start = time.perf_counter()
        train_step(model, optimizer, X, y)
        wait()
        times.append(time.perf_counter() - start)
    return sorted(times)[steps // 2]


ratio = step_time(240) / step_time(120)
verdict = "overhead-bound" if ratio < 1.5 else "not overhead-bound: the arithmetic counts"
print(f"Batch test on {device}: doubling the batch changed the step time by x{ratio:.2f}: "
      f"{verdict}.")

# %%
# On the CPU, launching an operator is an ordinary function call: the dispatcher picks the
# kernel and runs it on the calling thread. A GPU launch also builds a launch descriptor and
# hands it to the driver and the device's queue. Both take microseconds: thousands of
# floating-point operations' worth of time on a CPU core, millions on a data-center GPU.
#
# What one Iris training step launches
# ------------------------------------
# :func:`devicelab.overheads.count_step_ops` runs one step under :mod:`torch.profiler` and
# counts the top-level ATen operators and the GPU kernels. From here on the package does the
# measuring, around the ``train_step`` above: :func:`devicelab.timing.measure` repeats a
# callable until its median settles.
import matplotlib.pyplot as plt

from devicelab.display import Collapsed
from devicelab.overheads import count_step_ops, launch_cost
from devicelab.results import (
    newest_record,
    provenance,
    record_frequency_epoch_times,
    recorded_overheads,
)
from devicelab.timing import measure

cpu_ops = count_step_ops("cpu")
record = newest_record("cuda")
gpu = None  # (name, live?, seconds per tiny op, kernels per step)
if torch.cuda.is_available():
    gpu = (torch.cuda.get_device_name(0), True, launch_cost("cuda").queued.median_s,
           count_step_ops("cuda").kernels)
    if not gpu[3]:  # the profiler saw no kernel: it has no CUPTI here, so it cannot count them
        print(f"The profiler recorded no CUDA kernel on {gpu[0]} (no CUPTI in this torch or "
              "container): the GPU's launch floor is skipped.")
        gpu = None
elif record is not None and recorded_overheads(record).launch_s is not None:
    recorded = recorded_overheads(record)
    gpu = (recorded.device_name, False, recorded.launch_s, recorded.launches_per_step)
    print("No GPU here: the GPU's figures are", provenance(record))
else:
    print("No GPU here and no recorded GPU launches: the GPU side is skipped.")
print(f"One training step: {cpu_ops.operator_calls} operator calls on the CPU" + (
    f", {gpu[3]} CUDA kernels on the GPU ({'live' if gpu[1] else 'recorded'})" if gpu else ""))
Collapsed("The CPU step's operators, by name",
          "\n".join(f"{count:>2} x {name}" for name, count in cpu_ops.operators.items()))

# sphinx_gallery_start_ignore
# The prose below: the CPU's optimizer step is one add_ per parameter tensor (four), and the
# recorded GPU step has one multi-tensor _foreach_add_ instead.
assert cpu_ops.operators.get("aten::add_") == 4, cpu_ops.operators
assert 12 <= cpu_ops.operator_calls <= 60, "the summary says 'a few dozen operators'"
if record is not None and not torch.cuda.is_available():
    assert record["measurements"]["launch"]["ops"]["operators"].get("aten::_foreach_add_") == 1
# sphinx_gallery_end_ignore

# %%
# ``optimizer.step()`` shows up as four ``add_`` calls on the CPU (one per weight and bias)
# but one ``_foreach_add_`` on the GPU: on CUDA, SGD updates all parameters with one
# multi-tensor kernel, itself a :term:`remedy` for launch overhead.
#
# The floor they imply
# --------------------
# Operators per step times the cost of one is the time a step cannot go below, however fast
# the arithmetic. Set it beside one measured training step with no ``loss.item()``: the
# page's own ``train_step``, on the CPU, timed right after the per-op cost so that both see
# the machine at the same speed.
torch.manual_seed(0)
cpu_model = MLP()
cpu_optimizer = torch.optim.SGD(cpu_model.parameters(), lr=0.01)
X, y = torch.rand(120, 4), torch.randint(0, 3, (120,))
cpu_per_op = launch_cost("cpu").queued.median_s
cpu_epoch = measure(lambda: train_step(cpu_model, cpu_optimizer, X, y),
                    label="the course's step on the CPU").median_s
# sphinx_gallery_start_ignore
# A floor above its own epoch means other work on the machine landed on one of the two
# measurements (load only adds time; beside a busy process on 2 cores one pair put the
# launches at nearly twice the epoch). Measure both again, at most twice, before the guard.
for _ in range(2):
    if cpu_ops.operator_calls * cpu_per_op < cpu_epoch:
        break
    cpu_per_op = launch_cost("cpu").queued.median_s
    cpu_epoch = measure(lambda: train_step(cpu_model, cpu_optimizer, X, y),
                        label="the course's step on the CPU").median_s
# sphinx_gallery_end_ignore
bars = {"CPU (live)": (cpu_ops.operator_calls * cpu_per_op, cpu_epoch)}
if gpu:
    if gpu[1]:
        gpu_model = MLP().to("cuda")
        gpu_optimizer = torch.optim.SGD(gpu_model.parameters(), lr=0.01)
        X_gpu, y_gpu = X.to("cuda"), y.to("cuda")
        gpu_epoch = measure(lambda: train_step(gpu_model, gpu_optimizer, X_gpu, y_gpu),
                            label="the course's step on the GPU").median_s
    else:
        gpu_epoch = record_frequency_epoch_times(record)[None]
    bars[f"GPU ({'live' if gpu[1] else 'recorded'})"] = (gpu[3] * gpu[2], gpu_epoch)
for name, (floor, epoch) in bars.items():
    print(f"{name}: launch floor {floor * 1e6:.0f} µs of a {epoch * 1e6:.0f} µs epoch "
          f"({floor / epoch:.0%})")

# sphinx_gallery_start_ignore
# A per-op floor is a lower bound: it can never exceed the measured epoch.
for floor, epoch in bars.values():
    assert 0 < floor < epoch, (floor, epoch)
# sphinx_gallery_end_ignore

# %%
shares = ", ".join(f"{f / e:.0%} of the {name.split()[0]}'s" for name, (f, e) in bars.items())
fig, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
labels = list(bars)
ax.barh(labels, [e * 1e6 for _, e in bars.values()], color="#d0d7e2",
        label="measured epoch, no per-epoch sync")
ax.barh(labels, [f * 1e6 for f, _ in bars.values()], color="#c44e3a", height=0.5,
        label="launch floor: operators x cost of one")
ax.set_xlabel("µs per epoch")
ax.set_title(f"Launches alone are {shares} epoch;\nthe rest is host work per operator",
             fontsize=10)
ax.legend(loc="lower right", fontsize=8)
plt.show()

# %%
# The floor is a lower bound: a one-element ``add_`` exercises only the dispatcher. The rest
# of each epoch is CPU-side work around each operator that it does not exercise.
#
# Where the rest goes
# -------------------
# Here the page needs the package's instrumented step, which the plain ``train_step`` cannot
# give: :func:`devicelab.explain.explain_step` times each phase of the step on its own (the
# :term:`forward pass`, the loss, the :term:`backward pass`, in which the
# :term:`autograd engine` walks the graph recorded during the forward, and the optimizer).
# Divided by the operators the profiler counted, they give a cost per operator to set beside
# the tiny ``add_``. It measures on one thread: these operators are far too small to split
# across threads.
from devicelab.explain import explain_step

step = explain_step(cpu_model, X, targets=y, rounds=11, num_threads=1)
# sphinx_gallery_start_ignore
# Parts that miss the whole step by more than 15% were disturbed by other work on the machine
# (load only adds time, to whichever part it lands in; beside a busy process on 2 cores one
# breakdown's parts summed to 128% of its step). Measure again, at most twice, before the
# guard below judges the breakdown.
for _ in range(2):
    if abs(step.residual_share) <= 0.15:
        break
    step = explain_step(cpu_model, X, targets=y, rounds=11, num_threads=1)
# sphinx_gallery_end_ignore
host_s = sum(seconds for name, seconds in step.parts.items() if name != "sync")
print(f"Host time per operator in a real step: {host_s / step.ops * 1e6:.2f} µs "
      f"({step.ops} operators), against {cpu_per_op * 1e6:.2f} µs for a tiny add_.")
Collapsed("The step, phase by phase (µs per step and share of the measured step)", step.table())

# sphinx_gallery_start_ignore
assert abs(step.residual_share) <= 0.15, step.table()
# The printed claim below: a real step's operators cost more each than a bare add_.
assert host_s / step.ops > cpu_per_op, (host_s / step.ops, cpu_per_op)
# sphinx_gallery_end_ignore

# %%
# An operator inside a training step costs more than a bare ``add_``: the forward pass records
# the autograd graph, the backward pass walks it and allocates the gradients, and the optimizer
# loops over the parameters in Python. None of it is arithmetic. To go faster, launch fewer
# operators: fuse them, capture them, or give each more work. :doc:`plot_utilization` and
# :doc:`plot_remedies` do each in turn.
#
# Summary
# -------
# - Every operator costs a fixed host time before any arithmetic, and on a GPU a kernel launch
#   on top.
# - The course's step runs a few dozen operators; the batch test says whether its time goes to
#   them or to the arithmetic.
# - Operators times the cost of one gives a floor under each epoch; the real operators cost
#   more than a bare ``add_``, because of autograd's and the optimizer's bookkeeping.
# - The remedies launch fewer operators: fused kernels, CUDA graphs, batched models.
#
# Exercises
# ---------
# 1. Run the batch test at larger batches, ``step_time(12_000)`` against ``step_time(24_000)``
#    and beyond. From which batch does doubling it double the step time on your machine?
# 2. Replace ``tiny.add_(1.0)`` in the first loop with ``tiny = tiny + 1.0`` (a new tensor each
#    time). How much does allocating the result add to each operator?
# 3. Build the optimizer with ``torch.optim.SGD(model.parameters(), lr=0.01, foreach=False)``
#    and count ``optimizer.step()``'s operators with ``torch.profiler.profile()`` and
#    ``prof.key_averages()``. Then with ``foreach=True``.
