"""
The ``loss.item()`` homework: why fewer syncs do not cut the time in proportion
===============================================================================

Reading the loss less often saves only what the dropped syncs cost. On a CPU a sync is a
memory read and costs next to nothing; on a GPU each one makes the host wait, but the
epoch's kernel launches stay, so a GPU epoch with no sync at all is still far from free.

The course's homework: train while reading the loss every 1, 10, 100 and 1,000 epochs, and
only at the end, then explain why a thousand times fewer ``loss.item()`` calls do not make
the run anywhere near a thousand times faster.

**What you will learn**

- what ``loss.item()`` does on each device: a read on the CPU; on a GPU, a wait for the
  whole queue of work and a copy back to the host;
- how to measure a small cost on a machine whose speed drifts: :term:`paired rounds`, and
  the cost of one sync as a slope with an interval;
- what the recorded GPU's points show, and what they cannot show;
- the idiom that keeps the whole loss curve with one sync, and when it does not pay.
"""

# %%
# The homework loop
# -----------------
# The course's data, model and loop, with one change: ``loss.item()`` runs only when
# ``epoch % record_every == 0`` (never when ``record_every`` is None). Everything else is the
# loop of :doc:`plot_train_on_device`, on the device the course's idiom picks.
#
# .. rst-class:: course-code
import time

import torch
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from torch import nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
scaler = MinMaxScaler().fit(X_train)
X_train = torch.tensor(scaler.transform(X_train), dtype=torch.float32).to(device)
y_train = torch.tensor(y_train, dtype=torch.long).to(device)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


criterion = nn.CrossEntropyLoss()


def train_epochs(model, optimizer, epochs, record_every, losses):
    """``epochs`` epochs of the course's loop, reading the loss every ``record_every``."""
    for epoch in range(1, epochs + 1):
        outputs = model(X_train)
        loss = criterion(outputs, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if record_every and epoch % record_every == 0:
            losses.append(loss.item())  # the sync: wait for the device, copy the number
    return loss


# %%
# The homework, run once per frequency
# ------------------------------------
# Each frequency trains a fresh model from the same seed, timed with ``time.perf_counter()``.
# To keep this page quick, each run is 2,000 epochs instead of the course's 20,000.
#
# .. rst-class:: course-code
EPOCHS = 2_000
for record_every in (1, 10, 100, 1_000, None):
    torch.manual_seed(0)
    model = MLP().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = []
    start = time.perf_counter()
    loss = train_epochs(model, optimizer, EPOCHS, record_every, losses)
    final = loss.item()  # every run reads the final loss once
    seconds = time.perf_counter() - start
    label = f"every {record_every:,}" if record_every else "never"
    print(f"{label:>11}: {len(losses) + 1:>5} syncs, {seconds / EPOCHS * 1e6:6.0f} µs an epoch, "
          f"final loss {final:.4f}")

# %%
# Every run ends at the same loss: reading a number does not change the training. The times
# are one run each, one after the other on a shared machine whose speed drifts between runs.
# So they cannot say by themselves whether a sync costs anything here. The next section
# measures it properly, around the same ``train_epochs``.
#
# Measuring it: paired rounds
# ---------------------------
# Each frequency gets its own model, from the same seed, and trains it in blocks of 1,000
# epochs. The package's :func:`devicelab.timing.compare` calls the blocks in rounds: one
# block of every frequency per round, in an order that changes each round, after one
# untimed block each of :term:`warm-up`. Drift then slows a whole round, not one frequency.
# The cost of one ``loss.item()`` is the slope of the time per block against the syncs per
# block, fitted round by round (:func:`devicelab.stats.slope_interval`), with a
# :term:`bootstrap interval`.
#
# The same rounds time a sixth variant, the idiom of the last section: every loss kept on the
# device in a preallocated tensor, copied to the host once at the end. Every variant runs at
# one torch thread: these operators are tiny, and on a busy machine waiting for the
# :term:`intra-op threads` to wake can cost more than the sync being measured
# (:doc:`../hardware/plot_inspect_cpu` measures what the threads cost).
from devicelab.stats import slope_interval
from devicelab.timing import compare

ROUNDS, BLOCK = 4, 1_000
FREQUENCIES = {"every 1": 1, "every 10": 10, "every 100": 100, "every 1,000": 1_000,
               "never": None}
runs = {}  # name -> (model, losses read with .item())


def blocks_of(record_every):
    """A callable that trains the next block of a fresh seeded model's epochs."""
    torch.manual_seed(0)
    model = MLP().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = []
    runs[record_every] = (model, losses)
    return lambda: train_epochs(model, optimizer, BLOCK, record_every, losses)


torch.manual_seed(0)
log_model = MLP().to(device)
log_optimizer = torch.optim.SGD(log_model.parameters(), lr=0.01)
loss_log = torch.empty((1 + ROUNDS) * BLOCK, device=device)  # warm-up block + rounds
logged = 0


def loss_log_block():
    """One block of the course's loop that keeps every loss on the device: no sync."""
    global logged
    for epoch in range(logged, logged + BLOCK):
        loss = criterion(log_model(X_train), y_train)
        log_optimizer.zero_grad()
        loss.backward()
        log_optimizer.step()
        loss_log[epoch] = loss.detach()  # a tiny copy on the device, no wait
    logged += BLOCK


variants = {name: blocks_of(every) for name, every in FREQUENCIES.items()}
variants["loss log on device"] = loss_log_block
rounds = compare(variants, baseline="every 1", rounds=ROUNDS, device=device, num_threads=1)
syncs = [BLOCK // every if every else 0 for every in FREQUENCIES.values()]
per_round = [[rounds.samples[name][r] for name in FREQUENCIES] for r in range(rounds.rounds)]
cost = slope_interval(syncs, per_round)


def epoch_us(name):
    """Median µs an epoch of a variant, with its interval."""
    return rounds.intervals[name].scaled(1e6 / BLOCK)


every, never = epoch_us("every 1"), epoch_us("never")
print(f"{device}: {every.estimate:.0f} µs an epoch reading the loss every epoch, "
      f"{never.estimate:.0f} µs never reading it ({rounds.ratios['never'].estimate:.2f}x, "
      f"interval {rounds.ratios['never'].low:.2f} to {rounds.ratios['never'].high:.2f}).")
span = f"interval {cost.low * 1e6:.2f} to {cost.high * 1e6:.2f} µs"
if cost.above(0):
    print(f"One sync costs {cost.estimate * 1e6:.2f} µs in the loop ({span}).")
elif cost.below(0):  # a cost is never negative: no negative number is printed as one
    print("No measurable cost per sync on this machine: the whole interval lies below zero, "
          "which no mechanism explains. It is drift between the rounds, larger than the cost.")
else:
    print(f"No measurable cost per sync on this machine ({span}): the interval reaches zero.")

# sphinx_gallery_start_ignore
# Every frequency trained the same epochs from the same weights: the same final loss. The log
# on the device holds the very losses that the every-epoch variant read with .item().
finals = [criterion(m(X_train), y_train).item() for m, _ in runs.values()]
assert max(finals) - min(finals) < 1e-5, finals
assert torch.allclose(loss_log.cpu(), torch.tensor(runs[1][1]), atol=1e-5)
assert "costs -" not in span
# sphinx_gallery_end_ignore

# %%
# The first line compares the two ends of the homework, every epoch against never, paired
# round by round; the second is the slope through all five frequencies, turned into a
# sentence by its interval. An interval that reaches zero is an honest answer: on this
# machine, the cost of a sync is smaller than what the rounds can resolve. The figure
# further down shows every variant with its interval.
#
# On a CPU, the "sync" is a read of a number the CPU has already computed: no queue, no
# copy. One ``.item()`` timed on its own, with the package's clock around it
# (:func:`devicelab.timing.measure`), is a tiny share of an epoch:
from devicelab.timing import measure

scalar = torch.ones((), device=device)
one_item = measure(scalar.item, label="one .item()", min_run_time=0.1, num_threads=1)
print(f"One .item() on {device}: {one_item.median_s * 1e6:.3f} µs, "
      f"{one_item.median_s / (every.estimate * 1e-6):.2%} of an epoch.")

# sphinx_gallery_start_ignore
if device.type == "cpu":  # the prose: a lone CPU .item() is a tiny fraction of an epoch
    assert one_item.median_s < 0.05 * every.estimate * 1e-6, one_item
# sphinx_gallery_end_ignore

# %%
# The GPU side
# ------------
# On a GPU machine the rounds above ran on the GPU. Here they could not, so the GPU's points
# come from a results file recorded on one (:func:`devicelab.results.recorded_sync_sweep`),
# shown on a GPU machine too, beside its live points.
# The record's own notes say how it timed them: either in paired rounds like the ones above,
# or as separate full runs of 20,000 epochs, one after the other in the order of the points.
# The lines below are printed from the record.
from devicelab.results import (
    newest_record,
    provenance,
    recorded_overheads,
    recorded_remedy_epoch_times,
    recorded_sync_sweep,
)

record = newest_record("cuda")
gpu = recorded_sync_sweep(record) if record is not None else None
if gpu is not None:
    us = [t * 1e6 for t in gpu.epoch_s]
    drops = [a - b for a, b in zip(us, us[1:], strict=False)]
    big = max(range(len(drops)), key=drops.__getitem__)
    removed = [(a - b) / 1_000 for a, b in zip(gpu.syncs_per_1000, gpu.syncs_per_1000[1:],
                                               strict=False)]
    first_cost = drops[0] / removed[0]  # µs a sync, from the first step
    print(f"Recorded, not live: {provenance(record)}")
    print(f"{gpu.device_name}, µs an epoch at {', '.join(f'{s:,}' for s in gpu.syncs_per_1000)}"
          f" syncs per 1,000 epochs: {' -> '.join(f'{u:.0f}' for u in us)}.")
    print(f"The curve {'falls at every step' if min(drops) > 0 else 'does not fall steadily'}; "
          f"its largest drop, {drops[big]:.0f} µs, is the step from "
          f"{gpu.syncs_per_1000[big]:,} to {gpu.syncs_per_1000[big + 1]:,} syncs per 1,000 "
          f"epochs. At the {first_cost:.0f} µs a sync that the first step implies, that step "
          f"should save {first_cost * removed[big]:.2f} µs.")
    if not gpu.paired:
        print("These were separate runs, one after the other in this order, so each point "
              "also carries the machine's drift between runs; this record cannot separate it "
              "from the syncs' saving.")
else:
    print("No recorded GPU results ship with this devicelab: the recorded side is skipped.")

# sphinx_gallery_start_ignore
# The prose below: the recorded steady fall, its largest step not explained by the syncs, and
# the separate runs. A record that says otherwise must change the prose, so the build fails.
if gpu is not None:
    assert min(drops) > 0, us
    assert drops[big] > 10 * first_cost * removed[big], (drops, first_cost)
    assert not gpu.paired
    assert us[-1] / us[0] > 0.5, us  # most of the time is left with no sync at all
    # "The largest drop is the last one ... it should save a fraction of a microsecond."
    assert big == len(drops) - 1, drops
    assert first_cost * removed[big] < 1, (first_cost, removed)
# sphinx_gallery_end_ignore

# %%
# The arithmetic in the third line is the whole argument. The first step, from a sync every
# epoch to one every ten, says what a sync in the loop cost on that GPU, if the step is all
# sync. Every later step removes fewer syncs, so it should save less, and the last step
# removes almost none.
#
# What the recorded points show
# -----------------------------
# The recorded GPU epoch falls at every step as the syncs thin out, yet nowhere near a
# thousandfold: with no sync at all, most of the every-epoch time is still there. But the points do not show a small saving followed by a floor. The largest
# drop is the last one, and the last step removes almost no syncs: the printed arithmetic
# says it should save a fraction of a microsecond. That drop is not the syncs. The runs were
# timed one after the other, in the order of the points, so a machine that got faster as it
# went (clocks, caches, a neighbour finishing) lowers each point in turn, and the record has
# no way to tell that from a saving. The paired rounds above are the remedy for exactly this,
# and the next GPU record is timed that way.
#
# What stays true on any GPU: **a sync drains the queue.** Normally the host runs ahead,
# queueing kernels while the GPU runs earlier ones. ``loss.item()`` stops that: the host waits
# until every queued kernel has finished, copies four bytes back over PCIe, and only then
# queues the next epoch. And **the launches stay.** With no sync at all, the GPU still runs
# a couple of dozen tiny kernels an epoch, each with a :term:`kernel launch overhead` paid on
# the host (:doc:`../overheads/plot_launch_overhead`). That is Overhead 2, and no change to
# ``loss.item()``, which is Overhead 1, can remove it.

# %%
# The figure: each point is a median time per epoch. The live points' bars are bootstrap
# intervals from the paired rounds; the recorded points' bars are the :term:`IQR` of each
# run's blocks. The x axis is :term:`symlog`, so that zero syncs has a place. The title is
# computed from the points.
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(7.5, 4.8))
live = [epoch_us(name) for name in FREQUENCIES]
ax.errorbar(syncs, [t.estimate for t in live],
            yerr=[[t.estimate - t.low for t in live], [t.high - t.estimate for t in live]],
            fmt="o-", capsize=4, color="#3a76c4", label=f"{device}, live (interval)")
if gpu is not None:
    mid = np.array(us)
    ax.errorbar(gpu.syncs_per_1000, mid,
                yerr=[mid - np.array(gpu.low_s) * 1e6, np.array(gpu.high_s) * 1e6 - mid],
                fmt="s--", capsize=4, color="#c44e3a",
                label=f"{gpu.device_name}, recorded (IQR)")
ax.set_xscale("symlog", linthresh=1)
ax.set_xticks([0, 1, 10, 100, 1_000], ["0", "1", "10", "100", "1,000"])
ax.set_xlabel("loss.item() calls per 1,000 epochs (symlog scale)")
ax.set_ylabel("µs per epoch (median)")
ax.set_ylim(bottom=0)
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
live_part = (f"{device}: no measurable change" if rounds.ratios["never"].contains(1) else
             f"{device}: {1 - rounds.ratios['never'].estimate:.0%} less with no sync"
             if rounds.ratios["never"].below(1) else f"{device}: more time with no sync")
gpu_part = (f"recorded GPU: {us[0]:.0f} to {us[-1]:.0f} µs, falling at every step"
            if gpu is not None and min(drops) > 0 else "")
ax.set_title("Fewer syncs, " + "; ".join(p for p in (live_part, gpu_part) if p), fontsize=10)
fig.tight_layout()

# %%
# Keeping the loss curve without a sync per epoch
# -----------------------------------------------
# The course read the loss every epoch to plot it. The "loss log on device" variant kept it on
# the device instead: each detached loss written into a preallocated tensor, a tiny copy and
# no wait, and the whole curve copied to the host once. The losses are the very ones the
# every-epoch variant read with ``.item()`` (a hidden check compares them).
curve = loss_log.cpu()  # the one copy, the one sync
log_vs_item = rounds.ratios["loss log on device"]
print(f"{curve.numel():,} losses kept on {device}, copied once: first {curve[0]:.4f}, "
      f"last {curve[-1]:.4f}. Against reading every loss: {log_vs_item.estimate:.2f}x the "
      f"time (interval {log_vs_item.low:.2f} to {log_vs_item.high:.2f}).")

# %%
# The log is not free: it trades one sync an epoch for one more kernel launch, the copy. On a
# CPU the sync was almost free, so there is little to gain. On a GPU whose epoch is all
# launches, one more launch can cost as much as the sync it saves, or more. The recorded GPU
# says which, in its own runs of the two loops:
if record is not None:
    remedies = recorded_remedy_epoch_times(record)
    step = recorded_overheads(record)
    log_s = next(t for name, t in remedies.items() if name.startswith("loss log"))
    item_s = next(t for name, t in remedies.items() if name.startswith("course loop"))
    no_sync_s = next(t for name, t in remedies.items() if name.startswith("no per-epoch"))
    print(f"{gpu.device_name}: loss log {log_s * 1e6:.0f} µs an epoch, reading every loss "
          f"{item_s * 1e6:.0f} µs: the log was {'slower' if log_s > item_s else 'faster'}. "
          f"One launch queued cost {step.launch_s * 1e6:.1f} µs there, one idle sync "
          f"{step.sync_s * 1e6:.1f} µs.")
    print(f"With no sync, the same record has {us[-1]:.0f} µs an epoch from the record-frequency "
          f"runs above and {no_sync_s * 1e6:.0f} µs from its remedies runs: two runs of one "
          "loop, minutes apart, with the drift between them.")

# sphinx_gallery_start_ignore
# The prose: on the recorded GPU the log did not pay, and a launch cost more than a sync there.
if record is not None:
    assert log_s > item_s, (log_s, item_s)
    assert step.launch_s > step.sync_s, (step.launch_s, step.sync_s)
    # "The gap is larger than one launch"
    assert log_s - item_s > step.launch_s, (log_s, item_s, step.launch_s)
# sphinx_gallery_end_ignore

# %%
# On the recorded GPU the log was slower than reading every loss, and a launch cost more
# there than an idle sync: on a step that is all launches, the extra copy kernel was dearer
# than the wait it removed. The gap is larger than one launch, because these too were
# separate runs with the machine's drift between them. Keep the log when the epoch is long
# enough for the host to run ahead; on a launch-bound step, first cut the launches
# (:doc:`../overheads/plot_remedies`).
#
# Summary
# -------
# - ``loss.item()`` is :term:`synchronisation`: on a GPU the host waits for every queued
#   kernel, then copies the number back. On a CPU it is a plain read.
# - Fewer syncs save only what the syncs cost. The kernel launches of every epoch stay, so
#   a thousand times fewer syncs leave most of a GPU epoch in place.
# - One run per setting cannot show a small effect on a drifting machine; paired rounds and a
#   slope with an interval can. The recorded GPU's separate runs show why.
# - Keeping the losses on the device avoids the syncs but adds a launch an epoch: it pays
#   only when launches are not the bottleneck.
#
# Exercises
# ---------
# 1. Set ``EPOCHS = 20_000`` and run the homework cell twice. Do the five times come out in
#    the same order both times?
# 2. In ``train_epochs``, replace ``losses.append(loss.item())`` with
#    ``losses.append(loss.detach())`` and convert the list once at the end with
#    ``torch.stack(losses).tolist()``. On a GPU, time it against ``record_every = 1``.
# 3. On a GPU machine, call ``torch.cuda.set_sync_debug_mode("warn")`` before the loop: which
#    line does it flag, and how often?
