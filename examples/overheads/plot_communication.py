"""
Overhead 4: talking to other devices
====================================

When a model outgrows one device, the next thing to try is data-parallel training:
``DistributedDataParallel`` (DDP) on two GPUs, or on two machines. Each process trains on its
share of the batch, and at every step the processes add up their gradients, so that they all
take the same step. That sum is an *all-reduce*: messages between processes, at every step,
whatever the size of the batch. For a small model it is the same lesson as the GPU's: a fixed
cost per step, here paid in messages rather than in kernel launches. It is one of the most
asked questions about DDP (pytorch/pytorch#65288 "DDP slower than one GPU";
huggingface/sentence-transformers#2864; pytorch/pytorch#73600 asks PyTorch's documentation for
this very section).

This page measures it between real processes on this machine, with :mod:`torch.distributed`:
gloo between CPU processes (NCCL between GPUs works the same way).

**What you will learn**

- what one all-reduce costs as it grows from 4 bytes to 16 MiB: a latency ``alpha`` and a
  bandwidth ``beta`` (the Hockney model), and the bandwidths nccl-tests reports;
- how DDP on the course's MLP compares with one process, with a confidence interval;
- at what batch two processes start to beat one, measured, and predicted from ``alpha``,
  ``beta`` and the step's own compute;
- what helps: gradient accumulation with ``no_sync()``, larger buckets, and not
  distributing at all, each measured;
- what changes on GPUs with NCCL, and on Windows.
"""

# %%
# Two processes on one machine
# ----------------------------
# :mod:`devicelab.distributed` starts the processes (the *ranks*) with
# :mod:`torch.multiprocessing` and joins them into one process group on a port the system
# picks, so two builds on one machine never collide. Their code lives in the package, not in
# this script: a spawned process imports what it runs, and it cannot import a gallery script.
# Each rank computes on one thread, so that two ranks on two cores do not fight over them;
# the one process they are compared with gets the same total, one thread per rank.
import matplotlib.pyplot as plt
import numpy as np
import torch

from devicelab.data import load_iris
from devicelab.distributed import allreduce_sweep, compare_data_parallel, data_parallel_crossover
from devicelab.hardware import cpu_info
from devicelab.results import provenance, recorded_results

WORLD = 2
print(f"{cpu_info().usable_cpus} usable CPUs here; {WORLD} gloo ranks, one thread each; "
      f"torch {torch.__version__}")

# %%
# One all-reduce, from 4 bytes to 16 MiB
# --------------------------------------
# :func:`~devicelab.distributed.allreduce_sweep` all-reduces float32 tensors of each size.
# In every round, each size is timed once, in a shuffled order: the ranks meet at a barrier,
# each times its own call, and the round keeps the slowest rank's time, because a collective
# is over only when it is over for everybody. Each size gets a median over the rounds, with a
# bootstrap interval.
SIZES = [4 * 16**k for k in range(6)] + [16 * 2**20]  # 4 B ... 4 MiB, 16 MiB
sweep = allreduce_sweep(SIZES, world_size=WORLD, rounds=20)
print(f"{'bytes':>12} {'median':>10} {'95% interval':>22} {'algbw GB/s':>11} {'busbw GB/s':>11}")
for p in sweep.points:
    s = p.seconds
    print(f"{p.size_bytes:>12,} {s.estimate * 1e6:8.0f} us {s.low * 1e6:9.0f} to {s.high * 1e6:6.0f} us "
          f"{p.algbw_bytes_per_s / 1e9:11.4f} {p.busbw_bytes_per_s / 1e9:11.4f}")
alpha, beta = sweep.alpha_s, sweep.beta_bytes_per_s
print(f"Hockney fit: alpha = {alpha.estimate * 1e6:.0f} us (interval {alpha.low * 1e6:.0f} to "
      f"{alpha.high * 1e6:.0f} us), beta = {beta.estimate / 1e9:.2f} GB/s (interval "
      f"{beta.low / 1e9:.2f} to {beta.high / 1e9:.2f} GB/s)")
half = sweep.fit.half_bandwidth_bytes
print(f"Below alpha x beta = {half / 1024:,.0f} KiB, latency costs more than the bytes.")

# %%
# The fit is ``t(S) = alpha + S / beta``, fitted to every round on relative errors, so that
# the smallest messages weigh as much as the largest. The *algorithm bandwidth* is the size
# over the time; the *bus bandwidth* is what nccl-tests prints, ``algbw x 2(p-1)/p``: what
# each link of a ring all-reduce over ``p`` ranks carries, comparable across numbers of
# ranks. With two ranks the two are equal.
fit_sizes = np.geomspace(SIZES[0], SIZES[-1], 100)
fig, (ax_t, ax_bw) = plt.subplots(1, 2, figsize=(10, 4))
medians = np.array([p.seconds.estimate for p in sweep.points])
errors = np.array([[p.seconds.estimate - p.seconds.low, p.seconds.high - p.seconds.estimate]
                   for p in sweep.points]).T
ax_t.errorbar(SIZES, medians * 1e6, yerr=errors * 1e6, fmt="o", ms=4, capsize=3,
              label="measured (median, 95% interval)")
ax_t.plot(fit_sizes, [sweep.fit.seconds(s) * 1e6 for s in fit_sizes], "k-", lw=1,
          label="fit: alpha + S / beta")
for ax in (ax_t, ax_bw):
    ax.axvspan(SIZES[0], half, color="#f2e6c9", alpha=0.6, lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("bytes per rank")
ax_t.text(SIZES[0] * 2, medians.max() * 1e6 * 0.5, "latency-bound", fontsize=8)
ax_t.text(half * 2, medians.min() * 1e6 * 0.8, "bandwidth-bound", fontsize=8)
ax_t.set_yscale("log")
ax_t.set_ylabel("microseconds per all-reduce")
ax_t.legend(fontsize=7, loc="upper left")
ax_bw.plot(SIZES, [p.busbw_bytes_per_s / 1e9 for p in sweep.points], "o-", ms=4, label="busbw")
ax_bw.axhline(beta.estimate / 1e9, color="k", lw=0.8, ls=":")
ax_bw.text(SIZES[0], beta.estimate / 1e9 * 1.1, "beta from the fit", fontsize=8)
ax_bw.set_yscale("log")
ax_bw.set_ylabel("GB/s")
ax_bw.legend(fontsize=7, loc="lower right")
fig.suptitle(f"All-reduce between {WORLD} gloo processes on this machine")
fig.tight_layout()

# %%
cheapest = medians.min()
flat = [p.size_bytes for p in sweep.points if p.seconds.estimate < 2 * cheapest]
edge = max(flat)
if edge >= SIZES[1]:
    print(f"All-reduces from 4 B to {edge:,} B cost less than twice the cheapest one "
          f"({cheapest * 1e6:.0f} us): their cost is the call, not the bytes.")
else:
    print(f"Only the smallest all-reduce ({cheapest * 1e6:.0f} us) stayed under twice the "
          f"cheapest in this run: the next sizes were slowed by the machine, not by their "
          f"bytes (the fit puts the latency region below {half / 1024:,.0f} KiB).")
grows = sweep.points[-1].seconds.above(sweep.points[0].seconds.high)
print(f"The largest all-reduce costs {medians[-1] / medians[0]:,.0f} times the smallest; "
      + ("their intervals do not overlap." if grows else "their intervals overlap."))

# sphinx_gallery_start_ignore
assert grows, "the page says the time grows with size: the largest and smallest intervals must not overlap"
assert 0 < alpha.low <= alpha.estimate <= alpha.high
assert 0 < beta.low <= beta.estimate <= beta.high
assert half > SIZES[0], "the plot shades a latency-bound region below alpha x beta"
# sphinx_gallery_end_ignore

# %%
# DDP on the course's MLP, against one process
# --------------------------------------------
# :func:`~devicelab.distributed.compare_data_parallel` trains the course's 4-10-3 MLP on the
# 120 Iris training rows. ``"one process"`` takes the whole batch with two threads;
# under DDP each of the two ranks takes 60 rows on one thread, and DDP all-reduces the
# gradients during the backward pass. Both are the package's one training step (forward,
# cross-entropy, backward, SGD, ``loss.item()``), timed in blocks, in paired rounds, with
# the remedies further down timed in the same rounds.
#
# What each rank runs is what a DDP tutorial shows:
#
# .. code-block:: python
#
#    model = DistributedDataParallel(MLP())       # in each rank, after init_process_group
#    loss = F.cross_entropy(model(x_share), y_share)
#    optimizer.zero_grad()
#    loss.backward()                              # the all-reduce happens in here
#    optimizer.step()
data = load_iris()
ddp = compare_data_parallel("devicelab.models:MLP", data.X_train, data.y_train,
                            world_size=WORLD, steps=20, rounds=15)
print(ddp.comparison)
print(f"gradients: {ddp.gradient_bytes} bytes in {ddp.buckets} bucket(s) per step; threads: "
      f"{ddp.threads}")
r = ddp.ratio
if r.above(1):
    verdict = (f"DDP on {WORLD} processes is slower than one process: a step takes {r.estimate:.2f} "
               f"times as long (95% interval {r.low:.2f} to {r.high:.2f}).")
elif r.below(1):
    verdict = (f"DDP on {WORLD} processes is faster than one process: a step takes {r.estimate:.2f} "
               f"times as long (95% interval {r.low:.2f} to {r.high:.2f}).")
else:
    verdict = (f"DDP and one process are not measurably different here: the ratio's interval, "
               f"{r.low:.2f} to {r.high:.2f}, contains 1.")
print(verdict)

# The course's step is overhead-bound: two threads on the whole batch should take about as
# long as one thread on half of it. When another program keeps a core busy, they do not.
whole, half_batch = ddp.comparison.intervals["one process"], ddp.comparison.intervals["its share"]
times = whole.estimate / half_batch.estimate
if whole.low > 3 * half_batch.high:
    crowd_text = (f"One process on two threads took {times:.0f} times as long as one thread on half "
                  "the batch: another program is keeping a core busy, and two threads wait for it "
                  "at every operator. Here the comparison measures that crowding as much as the "
                  "talking.")
elif whole.high < 3 * half_batch.low:
    crowd_text = (f"One process on two threads took {times:.2f} times as long as one thread on half "
                  "the batch, short of the several-fold slowdown that a busy core causes.")
else:
    crowd_text = (f"One process on two threads took {times:.2f} times as long as one thread on half "
                  "the batch: the intervals cannot tell whether another program is crowding a core.")
print(crowd_text)

# sphinx_gallery_start_ignore
assert ("slower" in verdict) == r.above(1) and ("faster" in verdict) == r.below(1), (verdict, r)
assert ddp.batch == 120 and ddp.threads == {"one process": 2, "each rank": 1}, "the prose's setting"
assert ("keeping a core busy" in crowd_text) == (whole.low > 3 * half_batch.high), crowd_text
assert ("short of" in crowd_text) == (whole.high < 3 * half_batch.low), crowd_text
# sphinx_gallery_end_ignore

# %%
# Threads are part of the setting. A process with two threads waits for both at every
# parallel operator, so when a core is busy with something else the whole process waits, far
# longer than the operator itself (:doc:`../hardware/plot_inspect_cpu` measures what threads
# do for tiny operators). Each rank here has one thread and waits for nobody but the other
# rank.

# %%
# Where the extra time goes
# -------------------------
# The same DDP step under ``model.no_sync()`` skips the all-reduce: the difference, paired
# round by round, is what talking adds to a step. Set it beside what the sweep's fit predicts
# for one all-reduce of these gradients, ``alpha + bytes / beta`` per bucket.
spent = ddp.allreduce_s
fitted = ddp.predicted_allreduce_s(sweep)
one = ddp.comparison.intervals["one process"]
adds = (f"adds {spent.estimate * 1e6:.0f} us to a DDP step" if spent.estimate > 0
        else "adds no measurable time to a DDP step")
print(f"the all-reduce {adds} (interval {spent.low * 1e6:.0f} to {spent.high * 1e6:.0f} us); the "
      f"fit predicts {fitted.estimate * 1e6:.0f} us ({fitted.low * 1e6:.0f} to "
      f"{fitted.high * 1e6:.0f} us); one whole step of one process takes {one.estimate * 1e6:.0f} us")
if spent.low > fitted.high:
    inside = ("Inside a training step, the all-reduce costs more than the same all-reduce "
              "after a barrier.")
elif spent.high < fitted.low:
    inside = ("Inside a training step, the all-reduce costs less than the fit of the sweep "
              "predicts.")
else:
    inside = ("Inside a training step, the all-reduce costs what the sweep's fit predicts, "
              "within the intervals.")
if spent.low > one.high:
    alone = "The all-reduce alone costs more than a whole step of one process."
elif spent.high < one.low:
    alone = "The all-reduce alone costs less than a whole step of one process."
else:
    alone = "The all-reduce alone costs about as much as a whole step of one process."
print(inside, alone)

# sphinx_gallery_start_ignore
assert ("more than the same" in inside) == (spent.low > fitted.high)
assert ("less than the fit" in inside) == (spent.high < fitted.low)
assert ("more than a whole" in alone) == (spent.low > one.high)
assert ("less than a whole" in alone) == (spent.high < one.low)
# sphinx_gallery_end_ignore

# %%
# Why the two can differ: after a barrier, the two ranks call the all-reduce together. In a
# training step they do not: one finishes its backward pass first and waits for the other,
# and a process that waits is put to sleep by the operating system and must be woken when
# the message comes. DDP also has its own bookkeeping: hooks on every gradient, buckets to
# fill and copy back. The sweep measures the best case; a training step pays whatever the
# ranks' timing costs it.

# %%
# When do two processes beat one?
# -------------------------------
# Each rank computes half the batch, then talks. A DDP step costs about
# ``compute(B/2) + alpha + bytes/beta``, one process ``compute(B)``. The talking does not grow
# with the batch; the compute does. So the question is at which batch the compute saved pays
# for the talking. :func:`~devicelab.distributed.data_parallel_crossover` repeats the rows of
# Iris to fill growing batches and times four things at each, in paired rounds: one process
# on the whole batch (two threads); one process on half of it, one thread, while the other
# rank idles: ``compute(B/2)``; both ranks on their halves at once under ``no_sync()``, which
# computes like DDP but does not talk; and DDP. The prediction adds the fitted all-reduce to
# the measured ``compute(B/2)``.
BATCHES = [120, 1_200, 6_000, 12_000, 24_000, 48_000, 96_000, 192_000, 384_000, 768_000]
cross = data_parallel_crossover("devicelab.models:MLP", data.X_train, data.y_train, BATCHES,
                                costs=sweep, world_size=WORLD, rounds=7)
print(f"{'batch':>8} {'one process':>12} {'compute(B/2)':>13} {'no_sync()':>10} {'DDP':>10} "
      f"{'predicted':>10} {'DDP / one, 95% interval':>24}  measured / predicted")
for p in cross.points:
    print(f"{p.batch:>8,} {p.one_process_s.estimate * 1e3:9.3f} ms {p.share_s.estimate * 1e3:10.3f} ms "
          f"{p.no_sync_s.estimate * 1e3:7.3f} ms {p.ddp_s.estimate * 1e3:7.3f} ms "
          f"{p.predicted_ddp_s.estimate * 1e3:7.3f} ms "
          f"{p.ratio.estimate:8.2f} ({p.ratio.low:.2f} to {p.ratio.high:.2f})  "
          f"{p.measured} / {p.predicted}")
print(f"measured crossover: {cross.measured}")
print(f"predicted crossover: {cross.predicted}")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
batches = [p.batch for p in cross.points]
ax.errorbar(batches, [p.ratio.estimate for p in cross.points],
            yerr=np.array([[p.ratio.estimate - p.ratio.low, p.ratio.high - p.ratio.estimate]
                           for p in cross.points]).T,
            fmt="o-", ms=4, capsize=3, label="measured DDP / one process (95% interval)")
ax.plot(batches, [p.predicted_ratio for p in cross.points], "s--", ms=4,
        label="predicted: (compute(B/2) + alpha + bytes/beta) / one process")
ax.axhline(1, color="k", lw=0.8)
for found, color in ((cross.measured, "C0"), (cross.predicted, "C1")):
    if found.estimate is not None:
        ax.axvline(found.estimate, color=color, lw=0.8, ls=":")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("batch (rows, split between the ranks)")
ax.set_ylabel("time per step, DDP / one process")
ax.set_title("Below 1, two processes beat one")
ax.legend(fontsize=7)
fig.tight_layout()

# %%
if cross.measured.found and cross.predicted.found:
    order = ("The prediction expects the crossover earlier than it comes."
             if cross.predicted.high <= (cross.measured.low or 0) else
             "The prediction expects the crossover later than it comes."
             if cross.measured.high <= (cross.predicted.low or 0) else
             "The prediction and the measurement bracket the crossover in overlapping ranges.")
elif cross.predicted.found:
    order = ("The prediction expects DDP to win within the sweep; the measurement never shows "
             "it surely winning.")
elif cross.measured.found:
    order = "DDP wins within the sweep, which the prediction did not expect."
else:
    order = "Neither the prediction nor the measurement has DDP surely winning within the sweep."
print(order)

# sphinx_gallery_start_ignore
for p in cross.points:
    assert p.measured == ("slower" if p.ratio.above(1) else "faster" if p.ratio.below(1) else "unclear")
if "earlier" in order:
    assert cross.predicted.high <= cross.measured.low
if "later" in order:
    assert cross.measured.high <= cross.predicted.low
# sphinx_gallery_end_ignore

# %%
# The prediction is the best case twice over. Its all-reduce was measured after a barrier,
# and the previous section showed what a training step adds to it. Its ``compute(B/2)`` was
# measured with the other rank idle, but under DDP both ranks compute at once, on cores and
# a memory that they share. The largest batch shows how much each costs:
big = cross.points[-1]
print(f"at {big.batch:,} rows: compute(B/2) alone {big.share_s.estimate * 1e3:.1f} ms "
      f"({big.share_s.low * 1e3:.1f} to {big.share_s.high * 1e3:.1f}); both ranks at once under "
      f"no_sync() {big.no_sync_s.estimate * 1e3:.1f} ms ({big.no_sync_s.low * 1e3:.1f} to "
      f"{big.no_sync_s.high * 1e3:.1f}); DDP {big.ddp_s.estimate * 1e3:.1f} ms "
      f"({big.ddp_s.low * 1e3:.1f} to {big.ddp_s.high * 1e3:.1f})")
if big.no_sync_s.low > big.share_s.high:
    together = "Two ranks computing at once are slower than one rank alone: they share the machine."
elif big.no_sync_s.high < big.share_s.low:
    together = "Two ranks computing at once are faster than one rank alone."
else:
    together = "Two ranks computing at once are as fast as one rank alone, within the intervals."
if big.ddp_s.low > big.no_sync_s.high:
    talking = "Talking adds time on top of that, even at this batch."
else:
    talking = "At this batch, talking adds no time that the intervals can tell from noise."
print(together, talking)

# sphinx_gallery_start_ignore
assert ("slower than one rank" in together) == (big.no_sync_s.low > big.share_s.high)
assert ("faster than one rank" in together) == (big.no_sync_s.high < big.share_s.low)
assert ("adds time" in talking) == (big.ddp_s.low > big.no_sync_s.high)
# sphinx_gallery_end_ignore

# %%
# What helps
# ----------
# Three remedies were timed in the same rounds as DDP itself, each against plain DDP:
#
# - **Gradient accumulation with** ``no_sync()``: run the forward and backward of several
#   micro-batches under ``model.no_sync()``, which skips the all-reduce and lets the
#   gradients add up, and talk only on the last one before ``optimizer.step()``. Here four
#   micro-batches per update: the all-reduce is paid once for four of them. It changes the
#   training (fewer, larger steps), so adjust the learning rate as for a larger batch.
# - **Larger buckets** (``bucket_cap_mb``): DDP all-reduces the gradients bucket by bucket,
#   and every bucket pays ``alpha``. The course's gradients fit in one bucket at the default
#   size; the measurement forces one bucket per parameter tensor instead, which is what
#   larger buckets save.
# - **Don't: use one device.** The speed-up of one process over DDP.
names = {"gradient accumulation": f"accumulate {ddp.accumulate} micro-batches with no_sync()",
         "larger buckets": f"larger buckets ({ddp.buckets} instead of {ddp.buckets_per_tensor})",
         "one process": "don't: use one process"}
effects = {}
for key, label in names.items():
    x = ddp.remedies[key]
    if x.above(1):
        effects[key] = f"{label}: {x.estimate:.2f} times as fast as plain DDP (95% interval {x.low:.2f} to {x.high:.2f})"
    elif x.below(1):
        effects[key] = f"{label}: slower than plain DDP, {x.estimate:.2f} times its speed (95% interval {x.low:.2f} to {x.high:.2f})"
    else:
        effects[key] = f"{label}: no measurable effect (95% interval {x.low:.2f} to {x.high:.2f} contains 1)"
    print(effects[key])

# sphinx_gallery_start_ignore
assert ddp.accumulate == 4, "the prose says four micro-batches per update"
assert ddp.buckets == 1, "the prose says the course's gradients fit in one bucket"
for key, text in effects.items():
    x = ddp.remedies[key]
    assert ("times as fast" in text) == x.above(1) and ("slower" in text) == x.below(1), text
# sphinx_gallery_end_ignore

# %%
labels = list(ddp.comparison.intervals)
times = [ddp.comparison.intervals[n] for n in labels]
fig, ax = plt.subplots(figsize=(7, 3.4))
ax.barh(labels, [t.estimate * 1e6 for t in times],
        xerr=np.array([[t.estimate - t.low, t.high - t.estimate] for t in times]).T * 1e6,
        color=["#8c8c8c", "#b0b0b0", "#c44e3a", "#d98c7a", "#4c72b0", "#dd8452"], capsize=3)
ax.set_xlabel("microseconds per step (per micro-batch for accumulation)")
ax.set_title("The course's MLP: one process, DDP and the remedies")
ax.invert_yaxis()
fig.tight_layout()

# %%
# On GPUs, with NCCL
# ------------------
# Between GPUs, DDP uses NCCL: each rank owns one GPU, the all-reduce runs as kernels on the
# GPUs over NVLink or PCIe, and DDP overlaps it with the backward pass on a separate CUDA
# stream. The lesson is the same, with other values of ``alpha`` and ``beta``, which only a
# measurement can give: ``python -m devicelab bench --only distributed`` on a machine with two
# GPUs records them, and this section then shows that record.
nccl = next(((record, run) for record in recorded_results("cuda")
             for run in record["measurements"].get("distributed", {}).get("runs", [])
             if run["backend"] == "nccl"), None)
if torch.cuda.device_count() >= WORLD:
    live = allreduce_sweep(SIZES, world_size=WORLD, backend="nccl", rounds=20)
    print(f"NCCL between {WORLD} GPUs (live): alpha {live.alpha_s}, beta {live.beta_bytes_per_s}")
elif nccl is not None:
    record, run = nccl
    fit = run["sweep"]["fit"]
    print("No two GPUs here: the NCCL figures are RECORDED, not live.")
    print("Source:", provenance(record))
    print(f"NCCL between {run['world_size']} GPUs: alpha {fit['alpha_s']['estimate'] * 1e6:.1f} us, "
          f"beta {fit['beta_bytes_per_s']['estimate'] / 1e9:.1f} GB/s")
else:
    print(f"{torch.cuda.device_count()} GPU(s) here, and no recorded NCCL run: NCCL between GPUs "
          "is not recorded yet.")

# %%
# On Windows
# ----------
# Windows builds of PyTorch have gloo only: no NCCL, so DDP between GPUs on Windows goes
# through gloo, or through WSL. And since PyTorch 2.4 the rendezvous store
# (:class:`torch.distributed.TCPStore`) asks for a libuv server by default, which Windows
# builds do not include: ``init_process_group`` then fails with "use_libuv was requested but
# PyTorch was built without libuv support" (pytorch/pytorch#139990). PyTorch's tutorial
# `Introduction to Libuv TCPStore Backend
# <https://docs.pytorch.org/tutorials/intermediate/TCPStore_libuv_backend.html>`_ gives the
# ways out: set the environment variable ``USE_LIBUV=0``, add ``?use_libuv=0`` to the
# ``init_method`` URL (``init_method="env://?use_libuv=0"``), or create the store yourself with
# ``TCPStore(..., use_libuv=False)``. devicelab does the last on Windows. Windows (and macOS)
# also start processes by *spawning* them: a script that starts ranks needs its code under
# ``if __name__ == "__main__":``, and the function it runs in them must be importable.

# %%
# The figures, on this machine
# ----------------------------
def span(x, scale=1.0, unit="", digits=2):
    return (f"{x.estimate * scale:.{digits}f}{unit} (95% interval {x.low * scale:.{digits}f} to "
            f"{x.high * scale:.{digits}f}{unit})")


print(f"alpha (latency per all-reduce): {span(alpha, 1e6, ' us', 0)}")
print(f"beta (bandwidth): {span(beta, 1e-9, ' GB/s')}")
print(f"bus bandwidth at {SIZES[-1] / 2**20:.0f} MiB: {sweep.busbw_bytes_per_s / 1e9:.2f} GB/s")
print(f"DDP / one process on the course's MLP: {span(ddp.ratio)}")
print(f"two processes beat one, measured: {cross.measured}")
print(f"two processes beat one, predicted: {cross.predicted}")
for text in effects.values():
    print(text)

# %%
# Data parallel pays off when each step has enough compute to hide the talking: the same
# rule as for the GPU's fixed costs on :doc:`plot_launch_overhead`. For your own model,
# :func:`devicelab.advise.advise` says whether two processes would speed it up, and from
# which batch (:doc:`../your_model/plot_advise`).
