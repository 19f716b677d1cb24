"""
The ``loss.item()`` homework: why fewer syncs do not cut the time linearly
==========================================================================

The course's homework: time the 20,000-epoch run while reading the loss every 1, 10, 100 and
1,000 epochs, and only at the end, then explain why calling ``loss.item()`` thousands of
times less often does not make the run anywhere near proportionally faster.

**What you will learn**

- what ``loss.item()`` really does on each device: a read on the CPU, a copy plus a full
  wait for the GPU's queue on a GPU;
- how to read the curve: the cost of one sync, and the floor that no change to
  ``loss.item()`` lowers;
- the idiom that keeps the whole loss curve with one sync: log detached losses on the device,
  copy them once.
"""

# %%
# The sweep
# ---------
# Each run is the course's experiment with a different ``record_every``; the CPU is measured
# live. The every-epoch run is the one :doc:`plot_cpu_vs_gpu` measured: the docs build
# measures it once and both pages show it.
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from devicelab.data import load_iris
from devicelab.models import MLP
from devicelab.overheads import sync_cost
from devicelab.results import provenance, recorded_results
from devicelab.training import course_run, timed_blocks

EVERY = [1, 10, 100, 1000, None]  # None: one loss.item(), after the last epoch
cpu_runs = [course_run("cpu", record_every=k) for k in EVERY]
for run in cpu_runs:
    label = f"every {run.record_every}" if run.record_every else "end only"
    print(f"CPU  {label:<12} {run.syncs:>6} syncs  {run.wall_time_s:6.2f} s  "
          f"{run.epoch_time_s * 1e6:7.1f} us/epoch (IQR {run.epoch_time_iqr_s * 1e6:.1f})")

# %%
# The GPU side, live or recorded:
record = next(iter(recorded_results("cuda")), None)
if torch.cuda.is_available():
    gpu_runs = [course_run(str(torch.device("cuda", 0)), record_every=k) for k in EVERY]
    gpu_points = [(r.syncs, r.wall_time_s) for r in gpu_runs]
    gpu_epochs = [(r.syncs, r.epoch_time_s, r.epochs) for r in gpu_runs]
    gpu_label = f"GPU, live: {torch.cuda.get_device_name(0)}"
elif record is not None:
    rec = record["measurements"]["record_frequency"]["runs"]
    gpu_points = [(r["syncs"], r["wall_time_s"]) for r in rec]
    gpu_epochs = [(r["syncs"], r["epoch_time_s"], r["epochs"]) for r in rec]
    gpu_label = f"GPU, recorded: {record['device_name']}"
    print("No GPU on this machine: GPU figures are RECORDED, not live.")
    print("Source:", provenance(record))
else:
    gpu_points, gpu_epochs, gpu_label = [], [], None
    print("No GPU here and no recorded GPU results: the GPU curve is skipped.")
for syncs, seconds in gpu_points:
    print(f"GPU  {syncs:>6} syncs  {seconds:6.2f} s")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot([r.syncs for r in cpu_runs], [r.wall_time_s for r in cpu_runs], "o-", label="CPU, live")
if gpu_points:
    ax.plot(*zip(*gpu_points, strict=True), "s--" if record and not torch.cuda.is_available() else "s-",
            label=gpu_label)
ax.set_xscale("log")
ax.set_xlabel("loss.item() calls in 20,000 epochs (log scale)")
ax.set_ylabel("seconds for the run")
ax.set_ylim(bottom=0)
ax.set_title("Fewer syncs: a small saving, then a floor")
ax.legend()
fig.tight_layout()


# %%
# Reading the curve
# -----------------
# Two numbers explain it. The **cost of one sync** in the loop is the time saved per
# ``loss.item()`` removed. The **floor** is the time left with a single sync: the forward,
# backward and step themselves, launched as a few dozen operators per epoch. Both come from
# the median time per epoch of each run (robust to a passing hiccup of the machine).
def sync_cost_and_floor(points):
    """points: (syncs, median seconds per epoch, epochs) of each run."""
    (n_many, e_many, epochs), (n_one, e_one, _) = max(points), min(points)
    return (e_many - e_one) * epochs / (n_many - n_one), e_one * epochs


cpu_sync, cpu_floor = sync_cost_and_floor([(r.syncs, r.epoch_time_s, r.epochs) for r in cpu_runs])
one_item = sync_cost("cpu").median_s
print(f"CPU: the curve gives {cpu_sync * 1e6:.2f} us per sync (differences this small are mostly "
      f"noise); one .item() timed on its own: {one_item * 1e6:.3f} us, "
      f"{one_item / cpu_runs[0].epoch_time_s:.2%} of an epoch")
if gpu_points:
    gpu_sync, gpu_floor = sync_cost_and_floor(gpu_epochs)
    print(f"GPU: one sync costs {gpu_sync * 1e6:.2f} us in the loop; floor {gpu_floor:.2f} s "
          f"({gpu_floor / max(gpu_points)[1]:.0%} of the every-epoch run)")
if record is not None:
    idle = record["measurements"]["sync"]["median_s"]
    rec_runs = record["measurements"]["record_frequency"]["runs"]
    rec_sync, rec_floor = sync_cost_and_floor([(r["syncs"], r["epoch_time_s"], r["epochs"]) for r in rec_runs])
    print(f"Recorded {record['device_name']}: an .item() on an idle GPU takes {idle * 1e6:.1f} us, "
          f"but one in the loop costs {rec_sync * 1e6:.1f} us")

# sphinx_gallery_start_ignore
# The prose below: on the CPU a sync is nearly free (a tiny fraction of an epoch) ...
assert one_item < 0.05 * cpu_runs[0].epoch_time_s, (one_item, cpu_runs[0].epoch_time_s)
# ... and on the recorded GPU one in-loop sync costs far more than an idle round-trip, while
# more than half of the run is left when syncs are gone.
if record is not None:
    assert rec_sync > 2 * idle, (rec_sync, idle)
    every_epoch = next(r for r in rec_runs if r["record_every"] == 1)
    assert rec_floor / (every_epoch["epoch_time_s"] * every_epoch["epochs"]) > 0.5
# sphinx_gallery_end_ignore

# %%
# **On the CPU a "sync" is nearly free.** There is no queue: when ``loss.item()`` runs,
# the loss has already been computed, and reading it is a memory load, a tiny fraction of an
# epoch (printed above). Removing all of them saves almost nothing; the CPU curve is flat
# within the machine's run-to-run noise.
#
# **On a GPU a sync drains the queue.** Normally the CPU runs ahead, queueing kernels while
# the GPU executes earlier ones, so the two overlap. ``loss.item()`` stops that: the CPU waits
# until every queued kernel has finished, copies four bytes over PCIe, and only then queues
# the next epoch. That is why one sync *inside the loop* costs several times a lone
# ``.item()`` on an idle GPU (printed above): it pays the round-trip *and* the lost overlap.
#
# **The floor does not move.** With one sync per run, the GPU still runs a few dozen tiny
# kernels per epoch (counted on the launch page), each paying a launch cost of several microseconds on the CPU side
# (:doc:`../overheads/plot_launch_overhead` measures it). No change to ``loss.item()``
# lowers that; only fewer launches do (:doc:`../overheads/plot_remedies`). So the curve
# falls from 20,000 syncs to 1,000, then flattens: 20,000 times fewer syncs, a fraction of
# the time saved.

# %%
# Keeping the loss curve without a sync per epoch
# -----------------------------------------------
# The course read the loss every epoch to plot it. The curve can be kept on the device:
# write each detached loss into a preallocated device tensor (a tiny copy kernel, no wait),
# and copy the whole curve to the host once.
device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
data = load_iris(device)
torch.manual_seed(0)
model = MLP().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
epochs = 20_000
losses_on_device = torch.empty(epochs, device=device)


def run_epochs(first, last):
    for epoch in range(first, last + 1):
        loss = F.cross_entropy(model(data.X_train), data.y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses_on_device[epoch - 1] = loss.detach()  # stays on the device: no sync


seconds, _ = timed_blocks(run_epochs, epochs, device)
curve = losses_on_device.cpu()  # the one copy, the one sync
print(f"{epochs:,} losses kept on {device} in {seconds:.2f} s, copied once: "
      f"first {curve[0]:.4f}, last {curve[-1]:.4f}")

# sphinx_gallery_start_ignore
assert curve.shape == (epochs,) and torch.isfinite(curve).all()
every_epoch = course_run(str(device), record_every=1)
assert abs(curve[-1].item() - every_epoch.final_loss) < 1e-4, "same training, same losses"
# sphinx_gallery_end_ignore

# %%
# The losses are the ones the course's loop printed, only read once. On a GPU, the copy
# kernel per epoch costs less than a round-trip; on the CPU the two are about equal, because
# there the sync was nearly free to begin with.
