"""
The ``loss.item()`` homework: why fewer syncs do not cut the time linearly
==========================================================================

The course's homework: time the 20,000-epoch run while reading the loss every 1, 10, 100 and
1,000 epochs, and only at the end, then explain why calling ``loss.item()`` thousands of
times less often does not make the run anywhere near proportionally faster.

**What you will learn**

- what ``loss.item()`` really does on each device: a read on the CPU, a copy plus a full
  wait for the GPU's queue on a GPU;
- how to measure a small cost on a machine whose speed drifts: paired, interleaved rounds,
  and the cost of one sync as a slope with a confidence interval;
- the idiom that keeps the whole loss curve with one sync: log detached losses on the device,
  copy them once.
"""

# %%
# The sweep, in paired rounds
# ---------------------------
# Five full runs of 20,000 epochs one after the other would take minutes, and a shared
# machine's speed drifts by more than the effect in that time. So each record frequency
# trains its own model from the same initial weights, in blocks of 1,000 epochs, and the
# blocks alternate: one block of every frequency per round, in an order that changes each
# round (:func:`devicelab.timing.compare`). Drift then slows a whole round, not one frequency.
# The loop in each block is the course's, with ``loss.item()`` every ``sync_every`` epochs
# (the step it runs is :func:`devicelab.steps.train_step`, the same on every page):
#
# .. literalinclude:: ../../../src/devicelab/steps.py
#    :pyobject: run_steps
#
# The same rounds also time the idiom of the last section: every loss kept on the device.
#
# Every variant runs at one torch thread. Threads are part of the setting: these operators
# are tiny, yet some of them wake the intra-op thread pool, and on a busy machine waiting for
# a descheduled pool thread costs more than the sync being measured
# (:doc:`../hardware/plot_inspect_cpu` measures it).
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from devicelab.data import load_iris
from devicelab.models import MLP, initial_weights
from devicelab.overheads import sync_cost
from devicelab.remedies import record_frequency_sweep
from devicelab.results import newest_record, provenance
from devicelab.training import course_run

ROUNDS, BLOCK = 5, 1_000
device = torch.device("cpu")  # the live sweep; the GPU follows below
data = load_iris().to(device)
torch.manual_seed(0)
model = MLP().to(device)  # seed 0: the same initial weights as every frequency's model
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
losses_on_device = torch.empty((1 + ROUNDS) * BLOCK, device=device)  # warm-up block + rounds
done = 0


def loss_log_block():
    """One block of the course's loop that keeps every loss on the device: no sync."""
    global done
    for epoch in range(done, done + BLOCK):
        loss = F.cross_entropy(model(data.X_train), data.y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses_on_device[epoch] = loss.detach()  # a tiny copy kernel, no wait
    done += BLOCK


sweep = record_frequency_sweep(data, initial_weights(0), device=device, block_epochs=BLOCK,
                               rounds=ROUNDS, extra={"loss log on device": loss_log_block},
                               num_threads=1)
print(f"{sweep.comparison.rounds} paired rounds of {BLOCK:,} epochs per variant, "
      f"{sweep.comparison.threads} torch threads, {sweep.comparison.confidence:.0%} intervals")
print(f"  {'variant':<20} {'syncs/1,000 ep':>14} {'us/epoch':>9}  {'interval':>17}  vs every epoch")
for name in sweep.comparison.samples:
    t, ratio = sweep.epoch_time(name), sweep.comparison.ratios[name]
    syncs = sweep.syncs_per_block.get(name, 0) * 1_000 // BLOCK
    print(f"  {name:<20} {syncs:>14,} {t.estimate * 1e6:9.1f}  "
          f"[{t.low * 1e6:7.1f}, {t.high * 1e6:7.1f}]  x{ratio.estimate:.3f} "
          f"[{ratio.low:.3f}, {ratio.high:.3f}]")

# sphinx_gallery_start_ignore
# Every frequency trained the same epochs from the same weights: the same final loss, anywhere.
assert max(sweep.final_losses.values()) - min(sweep.final_losses.values()) < 1e-5
# sphinx_gallery_end_ignore


# %%
# The cost of one sync
# --------------------
# The cost of one ``loss.item()`` in the loop is the slope of time per block against syncs
# per block, fitted round by round, with a bootstrap interval over rounds. When the
# interval contains zero, this machine could not tell a sync from noise.
def verdict(slope, where):
    """The sentence for a cost-per-sync interval (seconds): never a negative cost."""
    span = f"interval {slope.low * 1e6:.2f} to {slope.high * 1e6:.2f} us"
    if slope.above(0):
        return f"{where}: one sync costs {slope.estimate * 1e6:.2f} us in the loop ({span})"
    if slope.contains(0):
        return f"{where}: no measurable cost per sync on this machine ({span})"
    return (f"{where}: no measurable cost per sync on this machine: the interval ({span}) lies "
            "below zero, which no mechanism explains, so it is the machine's drift")


cpu_verdict = verdict(sweep.cost_per_sync, "CPU")
print(cpu_verdict)
one_item = sync_cost(device).median_s
print(f"One .item() timed on its own on the CPU: {one_item * 1e6:.3f} us, "
      f"{one_item / sweep.epoch_time('every 1').estimate:.3%} of an epoch")

# sphinx_gallery_start_ignore
# The sentence follows the interval, and no negative cost is ever printed as a finding.
assert ("one sync costs" in cpu_verdict) == sweep.cost_per_sync.above(0), cpu_verdict
assert "costs -" not in cpu_verdict
# The prose below: a lone CPU .item() is a tiny fraction of an epoch (a memory read).
assert one_item < 0.05 * sweep.epoch_time("every 1").estimate, one_item
# sphinx_gallery_end_ignore

# %%
# One real run of the course's 20,000 epochs
# -------------------------------------------
# The figures above are per epoch, from short blocks. The course states a total, so here is
# one real run of 20,000 epochs with ``loss.item()`` every epoch (at torch's default thread
# count, as the course ran it), beside what the sweep's per-epoch figure predicts for it.
full = course_run("cpu")
predicted = sweep.epoch_time("every 1").scaled(full.epochs)
agree = predicted.contains(full.wall_time_s)
print(f"Real run: {full.wall_time_s:.2f} s for {full.epochs:,} epochs (measured). "
      f"Sweep per-epoch figure x {full.epochs:,}: {predicted.estimate:.2f} s "
      f"[{predicted.low:.2f}, {predicted.high:.2f}] (predicted).")
print("The real run falls inside the prediction's interval." if agree else
      f"The real run is {full.wall_time_s / predicted.estimate:.2f}x the prediction: this "
      "machine's speed changed between the sweep and the run, the drift that paired rounds "
      "keep out of the comparison.")

# %%
# The GPU side, live or recorded
# ------------------------------
record = newest_record("cuda")
gpu = None  # (label, syncs per 1,000 epochs, us per epoch, low, high, slope or None)
if torch.cuda.is_available():
    live = record_frequency_sweep(load_iris(), initial_weights(0), device="cuda",
                                  block_epochs=BLOCK, rounds=ROUNDS)
    names = list(live.record_every)
    gpu = (f"GPU, live: {torch.cuda.get_device_name(0)}",
           [live.syncs_per_block[n] * 1_000 // BLOCK for n in names],
           *(np.array([getattr(live.epoch_time(n), f) for n in names]) * 1e6
             for f in ("estimate", "low", "high")), live.cost_per_sync)
elif record is not None:
    print("No GPU on this machine: GPU figures are RECORDED, not live.")
    print("Source:", provenance(record))
    rec = record["measurements"]["record_frequency"]
    if "sweep" in rec:  # recorded in paired rounds, with intervals
        rows = rec["sweep"]["variants"]
        slope = rec["sweep"]["cost_per_sync_s"]
        from devicelab.stats import Interval

        gpu = (f"GPU, recorded: {record['device_name']}",
               [r["syncs_per_block"] * 1_000 // rec["sweep"]["block_epochs"] for r in rows],
               *(np.array([r["epoch_time_s"][f] for r in rows]) * 1e6
                 for f in ("estimate", "low", "high")),
               Interval(**slope))
    else:  # recorded as separate full runs: medians and IQRs, no interval for a slope
        print("This record predates paired rounds: its runs were timed one after the other, "
              "so its error bars are the spread (IQR) of blocks, and it has no slope interval.")
        rows = rec["runs"]
        mid = np.array([r["epoch_time_s"] for r in rows]) * 1e6
        iqr = np.array([r["epoch_time_iqr_s"] for r in rows]) * 1e6
        gpu = (f"GPU, recorded: {record['device_name']}",
               [r["syncs"] * 1_000 // r["epochs"] if r["record_every"] else 0 for r in rows],
               mid, mid - iqr / 2, mid + iqr / 2, None)
else:
    print("No GPU here and no recorded GPU results: the GPU curve is skipped.")
if gpu is not None:
    for syncs, us, low, high in zip(gpu[1], gpu[2], gpu[3], gpu[4], strict=True):
        print(f"  GPU {syncs:>6,} syncs/1,000 epochs  {us:7.1f} us/epoch [{low:.1f}, {high:.1f}]")
    if gpu[5] is not None:
        print(verdict(gpu[5], gpu[0]))

# %%
# The figure: each point is a median time per epoch with its interval (the error bar).
fig, ax = plt.subplots(figsize=(7, 4))
names = list(sweep.record_every)
x = [sweep.syncs_per_block[n] * 1_000 // BLOCK for n in names]
cpu_t = [sweep.epoch_time(n) for n in names]
ax.errorbar(x, [t.estimate * 1e6 for t in cpu_t],
            yerr=[[(t.estimate - t.low) * 1e6 for t in cpu_t],
                  [(t.high - t.estimate) * 1e6 for t in cpu_t]],
            fmt="o-", capsize=4, label="CPU, live")
if gpu is not None:
    ax.errorbar(gpu[1], gpu[2], yerr=[gpu[2] - gpu[3], gpu[4] - gpu[2]], capsize=4,
                fmt="s-" if torch.cuda.is_available() else "s--", label=gpu[0])
ax.set_xscale("symlog", linthresh=1)
ax.set_xlabel("loss.item() calls per 1,000 epochs (symmetric log scale)")
ax.set_ylabel("us per epoch (median, interval)")
ax.set_ylim(bottom=0)
ax.set_title("Fewer syncs: a small saving, then a floor")
ax.legend()
fig.tight_layout()

# sphinx_gallery_start_ignore
# The prose below on the GPU: on the recorded GPU an in-loop sync costs far more than an idle
# round-trip, and most of the every-epoch time is left when the syncs are gone.
if record is not None and gpu is not None and not torch.cuda.is_available():
    idle = record["measurements"]["sync"]["median_s"]
    every, none = gpu[2][int(np.argmax(gpu[1]))], gpu[2][int(np.argmin(gpu[1]))]
    per_sync_s = (every - none) * 1e-6 / (max(gpu[1]) / 1_000)
    assert per_sync_s > 2 * idle, (every, none, idle)
    assert none / every > 0.5, (none, every)
# sphinx_gallery_end_ignore

# %%
# Reading the curve
# -----------------
# **On the CPU a "sync" is a memory read.** There is no queue: when ``loss.item()`` runs, the
# loss has already been computed, and reading it takes the time printed above for a lone
# ``.item()``, a tiny fraction of an epoch. Whether the sweep can see it at all is the CPU
# verdict printed above, read from its interval.
#
# **On a GPU a sync drains the queue.** Normally the CPU runs ahead, queueing kernels while
# the GPU executes earlier ones, so the two overlap. ``loss.item()`` stops that: the CPU waits
# until every queued kernel has finished, copies four bytes over PCIe, and only then queues
# the next epoch. So one sync *inside the loop* costs more than a lone ``.item()`` on an idle
# GPU: it pays the round-trip *and* the lost overlap.
#
# **The floor does not move.** With no sync per epoch, the GPU still runs a few dozen tiny
# kernels per epoch, each paying a launch cost on the CPU side
# (:doc:`../overheads/plot_launch_overhead` measures it). No change to ``loss.item()``
# lowers that; only fewer launches do (:doc:`../overheads/plot_remedies`). So the curve
# falls from one sync per epoch to one per thousand, then flattens: a thousand times fewer
# syncs, a fraction of the time saved.

# %%
# Keeping the loss curve without a sync per epoch
# -----------------------------------------------
# The course read the loss every epoch to plot it. The "loss log on device" variant above
# kept it on the device instead: each detached loss written into a preallocated device
# tensor (a tiny copy kernel, no wait), and the whole curve copied to the host once.
curve = losses_on_device.cpu()  # the one copy, the one sync
print(f"{curve.numel():,} losses kept on {device}, copied once: first {curve[0]:.4f}, "
      f"last {curve[-1]:.4f}")
log_vs_item = sweep.comparison.ratios["loss log on device"]
if log_vs_item.contains(1):
    print(f"On the CPU here, the log costs the same as reading every loss (x{log_vs_item.estimate:.3f},"
          f" interval {log_vs_item.low:.3f} to {log_vs_item.high:.3f}): the sync was nearly free.")
else:
    side = "more" if log_vs_item.above(1) else "less"
    print(f"On the CPU here, the log took {side} time than reading every loss "
          f"(x{log_vs_item.estimate:.3f}, interval {log_vs_item.low:.3f} to "
          f"{log_vs_item.high:.3f}).")

# sphinx_gallery_start_ignore
# The same training as the course's loop: the same losses, epoch by epoch.
course_curve = torch.tensor([value for _, value in full.losses[: curve.numel()]])
assert curve.shape == course_curve.shape and torch.isfinite(curve).all()
assert torch.allclose(curve, course_curve, atol=1e-5), (curve[-1], course_curve[-1])
# sphinx_gallery_end_ignore

# %%
# The losses are the ones the course's loop printed, epoch by epoch, only read once. On a
# GPU, the copy kernel per epoch costs less than a round-trip, which is why the idiom exists;
# on a CPU there is little to save, as the ratio above shows.
