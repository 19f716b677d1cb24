"""
Overhead 2: the fixed cost of every operator and kernel launch
==============================================================

Each PyTorch operator costs a fixed amount of CPU time before any arithmetic happens: Python,
the dispatcher, autograd's bookkeeping, and on a GPU the kernel launch through the driver.
A tiny model does so little arithmetic per operator that this fixed cost is most of its time.

**What you will learn**

- the cost of one tiny operator on each device, queued back to back and with a sync after it;
- how many operators and GPU kernels one Iris training step runs, counted by
  :mod:`torch.profiler` rather than guessed;
- the launch floor they imply, set beside the measured epoch time;
- where the rest of the step goes, phase by phase.
"""

# %%
# One tiny operator
# -----------------
# An in-place add on a one-element tensor does almost no arithmetic, so its time is
# overhead. "Queued" issues them back to back and waits once at the end: the throughput a
# training loop sees. "Synced" waits after each one: launch plus round-trip latency.
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from devicelab.data import load_iris
from devicelab.models import MLP
from devicelab.overheads import count_step_ops, launch_cost
from devicelab.results import newest_record, provenance, record_frequency_epoch_times
from devicelab.timing import measure
from devicelab.training import course_run

cpu_cost = launch_cost("cpu")
print(cpu_cost.queued)
print(cpu_cost.synced)

record = newest_record("cuda")
if torch.cuda.is_available():
    cost = launch_cost("cuda")
    gpu = {"name": torch.cuda.get_device_name(0), "live": True,
           "queued_s": cost.queued.median_s, "synced_s": cost.synced.median_s}
elif record is not None:
    launch = record["measurements"]["launch"]
    gpu = {"name": record["device_name"], "live": False,
           "queued_s": launch["per_op"]["queued"]["median_s"],
           "synced_s": launch["per_op"]["synced"]["median_s"]}
    print("No GPU on this machine: GPU figures are RECORDED, not live.")
    print("Source:", provenance(record))
else:
    gpu = None
    print("No GPU here and no recorded GPU results: the GPU side is skipped.")
if gpu:
    print(f"GPU {gpu['name']}: {gpu['queued_s'] * 1e6:.2f} us per tiny op queued, "
          f"{gpu['synced_s'] * 1e6:.2f} us with a sync after each")

# %%
# On the CPU, "launching" an operator is an ordinary function call: the dispatcher picks the
# kernel and runs it on the calling thread. A GPU launch also builds a launch descriptor and
# hands it to the driver and the device's queue. Both take microseconds: thousands of
# floating-point operations' worth of time on a CPU core, millions on a data-center GPU.

# %%
# What one Iris training step launches
# ------------------------------------
# :func:`devicelab.overheads.count_step_ops` profiles one step (forward, loss, ``zero_grad``,
# backward, ``optimizer.step()``) with :mod:`torch.profiler` and counts the top-level ATen
# operators, every ATen call (operators call others), and the GPU kernels.
cpu_ops = count_step_ops("cpu")
print(f"CPU: {cpu_ops.operator_calls} operator calls ({cpu_ops.aten_calls} ATen calls in all)")
for name, count in cpu_ops.operators.items():
    print(f"  {count:>2} x {name}")

if torch.cuda.is_available():
    gpu_ops = count_step_ops("cuda").to_dict()
elif record is not None:
    gpu_ops = record["measurements"]["launch"]["ops"]
if gpu:
    print(f"GPU: {gpu_ops['operator_calls']} operator calls, {gpu_ops['kernels']} CUDA kernels "
          f"({'live' if gpu['live'] else 'recorded'})")

# %%
# ``optimizer.step()`` shows up as four ``add_`` calls on the CPU but one ``_foreach_add_``
# on the GPU: on CUDA, SGD updates all parameters with one multi-tensor kernel, itself a
# remedy for launch overhead.

# %%
# The floor they imply
# --------------------
# Operators per step times the cost of one is the time a step cannot go below, however fast
# the arithmetic. Set it beside one measured training step with no ``loss.item()``, timed
# seconds after the per-op cost so that both see the machine at the same speed.
data = load_iris()
torch.manual_seed(0)
model = MLP()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def course_step():
    loss = F.cross_entropy(model(data.X_train), data.y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


cpu_floor = cpu_ops.operator_calls * cpu_cost.queued.median_s
cpu_epoch = measure(course_step, label="one course step on cpu").median_s
print(f"CPU: floor {cpu_floor * 1e6:.1f} us = {cpu_ops.operator_calls} ops x "
      f"{cpu_cost.queued.median_s * 1e6:.2f} us; measured epoch {cpu_epoch * 1e6:.1f} us "
      f"(floor = {cpu_floor / cpu_epoch:.0%} of it)")
bars = {"CPU (live)": (cpu_floor, cpu_epoch)}
if gpu:
    gpu_floor = gpu_ops["kernels"] * gpu["queued_s"]
    if gpu["live"]:
        gpu_epoch = course_run("cuda", record_every=None).epoch_time_s
    else:
        gpu_epoch = record_frequency_epoch_times(record)[None]
    print(f"GPU: floor {gpu_floor * 1e6:.1f} us = {gpu_ops['kernels']} kernels x "
          f"{gpu['queued_s'] * 1e6:.2f} us; measured epoch {gpu_epoch * 1e6:.1f} us "
          f"(floor = {gpu_floor / gpu_epoch:.0%} of it)")
    bars[f"GPU ({'live' if gpu['live'] else 'recorded'})"] = (gpu_floor, gpu_epoch)

# sphinx_gallery_start_ignore
# A per-op floor is a lower bound: it can never exceed the measured epoch.
for floor, epoch in bars.values():
    assert 0 < floor < epoch, (floor, epoch)
# sphinx_gallery_end_ignore

# %%
fig, ax = plt.subplots(figsize=(7, 3))
labels = list(bars)
ax.barh(
    labels,
    [e * 1e6 for _, e in bars.values()],
    color="#d0d7e2",
    label="measured epoch, no per-epoch sync",
)
ax.barh(labels, [f * 1e6 for f, _ in bars.values()], color="#c44e3a", height=0.5,
        label="launch floor: ops x cost per op")
ax.set_xlabel("microseconds per epoch")
ax.set_title("How much of an epoch is launch overhead")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()

# %%
# The floor is a lower bound: a one-element ``add_`` exercises only the dispatcher. The rest
# of each epoch is CPU-side work around each operator that it does not exercise.
#
# Where the rest goes
# -------------------
# :func:`devicelab.explain.explain_step` times each phase of the real step on its own: the
# forward pass, the loss, the backward pass (the autograd engine walking the graph it
# recorded during the forward) and the optimizer. Divided by the operators the profiler
# counted, each phase gives a cost per operator, to set beside the tiny ``add_``. It measures
# on one thread: these operators are far too small to split across threads, and on a busy
# machine a second thread only makes the first wait.
from devicelab.explain import explain_step

step = explain_step(model, data.X_train, data.y_train, rounds=11, num_threads=1)
print(step.table())
host_s = sum(seconds for name, seconds in step.parts.items() if name != "sync")
print(f"host time per operator in a real step: {host_s / step.ops * 1e6:.2f} us "
      f"({step.ops} operators), against {cpu_cost.queued.median_s * 1e6:.2f} us for a tiny add_")

# sphinx_gallery_start_ignore
assert abs(step.residual_share) <= 0.15, step.table()
# The printed claim below: a real step's operators cost more each than a bare add_.
assert host_s / step.ops > cpu_cost.queued.median_s, (host_s / step.ops, cpu_cost.queued.median_s)
# sphinx_gallery_end_ignore

# %%
# An operator inside a training step costs more than a bare ``add_``: the forward pass records
# the autograd graph, the backward pass walks it and allocates the gradients, and the optimizer
# loops over the parameters in Python. None of it is arithmetic. To go faster, launch fewer
# operators: fuse them, capture them, or give each more work. :doc:`plot_utilization` and
# :doc:`plot_remedies` do each in turn.
