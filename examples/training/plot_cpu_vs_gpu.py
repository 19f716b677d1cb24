"""
CPU vs GPU: the course's experiment, timed properly
===================================================

For the course's tiny network the GPU is slower than the CPU, on a gaming GPU and on a
data-center one alike: each epoch is a few dozen tiny operations, and a GPU spends its time
launching them and waiting for ``loss.item()``, not computing.

**What you will learn**

- the course's experiment as the course wrote it: the 20,000-epoch loop with ``loss.item()``
  every epoch, timed with ``time.perf_counter()`` and ``torch.cuda.synchronize()``;
- how the two devices compare on it, live on this machine's CPU, and on a GPU live or from a
  recorded run;
- how to time such a loop so the number can be trusted: :term:`warm-up`, repeats, the
  :term:`median` and an interval;
- that both devices reach the same final loss: the GPU computes the same thing.
"""

# %%
# The course's experiment
# -----------------------
# The data, the model and the loop of :doc:`plot_train_on_device`, wrapped in two functions:
# ``train_epochs`` is the loop, ``train`` builds everything on a device and times the loop.
#
# A GPU runs its work asynchronously: the host queues each :term:`kernel` and moves on. A
# clock read while work is still queued measures only how long the queueing took, so the
# timing waits for the GPU with ``torch.cuda.synchronize()`` before each clock reading. Here
# ``loss.item()`` already waits at every epoch (a :term:`synchronisation`), but the habit is
# what makes a timing right when the loop has no such wait.
#
# .. rst-class:: course-code
import time

import torch
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from torch import nn


def load_data(device):
    """Iris, split 80/20 and min-max scaled on the training split, as tensors on ``device``."""
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    scaler = MinMaxScaler().fit(X_train)
    X_train = torch.tensor(scaler.transform(X_train), dtype=torch.float32).to(device)
    X_test = torch.tensor(scaler.transform(X_test), dtype=torch.float32).to(device)
    return X_train, X_test, torch.tensor(y_train).to(device), torch.tensor(y_test).to(device)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


criterion = nn.CrossEntropyLoss()
EPOCHS = 20_000  # the course's run


def train_epochs(model, optimizer, X_train, y_train, epochs):
    """The course's loop: ``epochs`` full-batch epochs, reading the loss every epoch."""
    for _ in range(epochs):
        outputs = model(X_train)
        loss = criterion(outputs, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()  # the course reads the loss every epoch: the host waits for the device
    return loss


def train(device, epochs=EPOCHS):
    """Train a seeded model on ``device``; return seconds, final loss and test accuracy."""
    X_train, X_test, y_train, y_test = load_data(device)
    torch.manual_seed(0)
    model = MLP().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    if device.type == "cuda":
        torch.cuda.synchronize()  # nothing queued from before
    start = time.perf_counter()
    loss = train_epochs(model, optimizer, X_train, y_train, epochs)
    if device.type == "cuda":
        torch.cuda.synchronize()  # wait for every queued kernel
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    return seconds, loss.item(), accuracy


# %%
# One run on each device
# ----------------------
# The CPU always; the GPU when there is one. The course printed the total time of each run.
#
# .. rst-class:: course-code
cpu_s, cpu_loss, cpu_accuracy = train(torch.device("cpu"))
print(f"CPU: {cpu_s:.2f} s for {EPOCHS:,} epochs, final loss {cpu_loss:.5f}, "
      f"test accuracy {cpu_accuracy:.3f}")
if torch.cuda.is_available():
    gpu_s, gpu_loss, gpu_accuracy = train(torch.device("cuda"))
    print(f"GPU: {gpu_s:.2f} s for {EPOCHS:,} epochs, final loss {gpu_loss:.5f}, "
          f"{gpu_s / cpu_s:.2f}x the CPU's time")
else:
    print("No GPU here: the GPU run is skipped; a recorded GPU run follows below.")

# sphinx_gallery_start_ignore
assert cpu_accuracy >= 0.9, cpu_accuracy
# sphinx_gallery_end_ignore

# %%
# The GPU: recorded, when it cannot be live
# -----------------------------------------
# This site is built on machines without a GPU, so the GPU side comes from a results file
# recorded on a GPU machine, read by :func:`devicelab.results.recorded_course_runs`. The
# record ran the same loop on the GPU and on that machine's own CPU, one after the other.
from devicelab.results import newest_record, provenance, recorded_course_runs

record = newest_record("cuda")
recorded = recorded_course_runs(record) if record is not None else None
if recorded is not None:
    gpu_run, host_run = recorded.device, recorded.host
    print(f"Recorded, not live: {provenance(record)}")
    print(f"  {recorded.device_name}: {gpu_run.wall_s:.2f} s; its host CPU: "
          f"{host_run.wall_s:.2f} s. The GPU took {recorded.device_over_host:.2f}x "
          "the time of the CPU beside it.")
else:
    print("No recorded GPU run ships with this devicelab: the recorded GPU side is skipped.")

# sphinx_gallery_start_ignore
# The opening sentence and the prose below: the recorded GPU was slower than its own host CPU,
# and it computed the same thing.
if recorded is not None:
    assert recorded.device_over_host > 1, recorded.device_over_host
    assert abs(gpu_run.final_loss - cpu_loss) < 1e-3, (gpu_run.final_loss, cpu_loss)
if torch.cuda.is_available():
    assert abs(gpu_loss - cpu_loss) < 1e-3, (gpu_loss, cpu_loss)
# sphinx_gallery_end_ignore

# %%
# Both devices start from the same seeded weights and run the same float32 arithmetic, in a
# slightly different order, so their final losses agree to rounding: a hidden check holds
# them within a thousandth of each other. The GPU is not wrong, only slow.
#
# Timing it so the number can be trusted
# --------------------------------------
# A single run of a loop is one sample. The first epochs pay one-off costs (the first calls
# of each :term:`operator`, on a GPU the context and the :term:`cuBLAS` handles), and a
# shared machine's speed drifts while it runs. So the package's clock times *the same
# function*, ``train_epochs``, after one untimed block of :term:`warm-up`, in blocks of 500
# epochs, and reports the median block with a :term:`bootstrap interval`
# (:func:`devicelab.timing.timed_blocks`, :func:`devicelab.stats.bootstrap_median`). It
# replaces nothing in the loop: it only calls it.
from devicelab.stats import bootstrap_median
from devicelab.timing import timed_blocks

X_cpu, _, y_cpu, _ = load_data(torch.device("cpu"))
torch.manual_seed(0)
cpu_model = MLP()
cpu_optimizer = torch.optim.SGD(cpu_model.parameters(), lr=0.01)


def cpu_epochs(first, last):
    """Epochs ``first`` to ``last`` of the page's loop, on the CPU."""
    train_epochs(cpu_model, cpu_optimizer, X_cpu, y_cpu, last - first + 1)


cpu_epochs(1, 500)  # warm-up, untimed
_, per_epoch = timed_blocks(cpu_epochs, 5_000, torch.device("cpu"), blocks=10)
cpu_epoch = bootstrap_median(per_epoch)
print(f"CPU: {cpu_epoch.estimate * 1e6:.0f} µs an epoch (median of {len(per_epoch)} blocks, "
      f"interval {cpu_epoch.low * 1e6:.0f} to {cpu_epoch.high * 1e6:.0f} µs); the single run "
      f"above averaged {cpu_s / EPOCHS * 1e6:.0f} µs.")

# %%
# The median of the blocks and the average of the single run need not agree. The single run
# includes its first epochs and every pause the machine took while it ran; the median of
# the blocks ignores a slow block or two, and its interval says how far the typical block
# could be from the printed figure. When the two disagree by more than the interval, the
# machine's speed changed between them: a reason to distrust any one run, on any device.
#
# With a GPU, the two devices are compared in :term:`paired rounds`: blocks of the same loop
# on each device, alternating (:func:`devicelab.timing.compare`), so drift slows both sides
# of a round alike and cancels out of their ratio.
if torch.cuda.is_available():
    from devicelab.timing import compare

    def blocks_on(device, epochs=1_000):
        """A callable running the next ``epochs`` epochs of the page's loop on ``device``."""
        X_train, _, y_train, _ = load_data(device)
        torch.manual_seed(0)
        model = MLP().to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        return lambda: train_epochs(model, optimizer, X_train, y_train, epochs)

    paired = compare({"cpu": blocks_on(torch.device("cpu")),
                      "gpu": blocks_on(torch.device("cuda"))},
                     baseline="cpu", rounds=6, device="cuda")
    ratio = paired.ratios["gpu"]
    verdict = ("slower" if ratio.above(1) else "faster" if ratio.below(1)
               else "not measurably different")
    print(f"In {paired.rounds} paired rounds the GPU took {ratio.estimate:.2f}x the CPU's time "
          f"(interval {ratio.low:.2f} to {ratio.high:.2f}): here the GPU is {verdict}.")
else:
    print("Only the CPU is live here, so there are no paired rounds of the two devices; "
          "the GPU side is the record above.")

# %%
# The comparison, with the course's own figures
# ---------------------------------------------
# The course ran the same loop on an Intel Core i9-12900KF and an NVIDIA RTX 3080 Ti. Those
# figures are quoted from the course notes, not measured by this site. Blue bars are CPUs,
# red bars GPUs; a hatched bar was recorded or quoted, a plain one ran as this page was
# built. The title is computed from the GPU runs in the figure.
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

COURSE_REPORTED_S = {  # quote: the course notes' reported run times, not measured here
    "course: i9-12900KF CPU": 3.0,
    "course: RTX 3080 Ti GPU": 11.0,
}
bars = [("this CPU (live)", cpu_s, "cpu", "")]  # label, seconds, kind, hatch
pairs = {"the RTX 3080 Ti": COURSE_REPORTED_S["course: RTX 3080 Ti GPU"]
         / COURSE_REPORTED_S["course: i9-12900KF CPU"]}  # GPU time over its CPU's
if torch.cuda.is_available():
    bars.append(("this GPU (live)", gpu_s, "gpu", ""))
    pairs["this GPU"] = gpu_s / cpu_s
if recorded is not None:
    bars += [(f"{recorded.device_name} (recorded)", gpu_run.wall_s, "gpu", "//"),
             ("its host CPU (recorded)", host_run.wall_s, "cpu", "//")]
    pairs[f"the {recorded.device_name.removeprefix('NVIDIA ')}"] = recorded.device_over_host
bars += [(name, s, "gpu" if "GPU" in name else "cpu", "//")
         for name, s in COURSE_REPORTED_S.items()]
slower = all(r > 1 for r in pairs.values())
title = (("Every" if slower else "Not every") + " GPU here was slower than the CPU beside it: "
         + ", ".join(f"{name} {r:.1f}x" for name, r in pairs.items()))

colours = {"cpu": "#3a76c4", "gpu": "#c44e3a"}
fig, ax = plt.subplots(figsize=(8.5, 1.4 + 0.45 * len(bars)))
labels, values, kinds, hatches = zip(*bars, strict=True)
ax.barh(labels, values, color=[colours[k] for k in kinds], hatch=hatches, edgecolor="white")
for i, value in enumerate(values):
    ax.text(value, i, f" {value:.1f} s", va="center")
ax.invert_yaxis()
ax.set_xlabel(f"seconds for {EPOCHS:,} epochs with loss.item() every epoch")
ax.set_xlim(0, max(values) * 1.3)
ax.legend(handles=[Patch(color=colours["cpu"], label="CPU"),
                   Patch(color=colours["gpu"], label="GPU"),
                   Patch(facecolor="white", edgecolor="grey", hatch="//",
                         label="recorded or quoted, not live")],
          loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
ax.set_title(title, fontsize=10, wrap=True)
fig.tight_layout()

# %%
# Read the figure by pairs: each GPU against the CPU in the same machine. The course's pair
# and the recorded pair are a gaming GPU and a data-center GPU, far apart in size and price,
# and the title gives the same verdict for both. A bigger GPU does not help, because
# the loop never asks it for much work: it asks for many tiny pieces of work, one after
# another, and waits after each epoch. This machine's own CPU sits among the others, a
# reminder that the time of a tiny loop depends on the CPU that drives it, on either device.

# %%
# Why the GPU loses
# -----------------
# The GPU is not short of arithmetic. One epoch of this network is a few tens of thousands
# of floating-point operations (:doc:`../overheads/plot_utilization` counts them), nothing
# for either chip. Its time goes to the three overheads the course names, each measured on a
# page of its own:
#
# - **Overhead 1, transfer and synchronisation:** ``loss.item()`` makes the host wait for the
#   GPU's queue to drain and copies the number back, every epoch (:doc:`plot_record_frequency`).
# - **Overhead 2, kernel launch:** every operator is a separate launch, with a fixed cost on
#   the host whatever the size of the work (:doc:`../overheads/plot_launch_overhead`).
# - **Overhead 3, an under-used GPU:** 120 flowers of four numbers leave almost all of the
#   GPU idle (:doc:`../overheads/plot_utilization`).

# %%
# Summary
# -------
# - The course's loop runs unchanged on either device; only ``device`` changes.
# - Time GPU work with ``torch.cuda.synchronize()`` before each clock reading, after a
#   warm-up, and over repeats: report the median and an interval, not one run.
# - For this network the GPU is slower than its own host CPU, as the title of the figure
#   shows from the runs in it; the final losses agree.
# - The time goes to overheads, not arithmetic: the next page starts with ``loss.item()``.
#
# Exercises
# ---------
# 1. Call ``train(torch.device("cpu"), epochs=2_000)`` three times in a row. How much do the
#    times vary, and does the first call differ from the others?
# 2. Delete the ``loss.item()`` line in ``train_epochs`` and time the loop again on each
#    device you have. On a GPU, remove the ``torch.cuda.synchronize()`` calls as well: what
#    does the clock measure then?
# 3. Change ``nn.Linear(4, 10)`` and ``nn.Linear(10, 3)`` to a hidden width of 1,000. Which
#    device gains more time, and why? :doc:`../overheads/plot_utilization` answers.
