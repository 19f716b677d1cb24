"""
Overhead 4, beyond the course: talking to other devices
=======================================================

Data-parallel training adds an exchange of messages to every step: a fixed cost that every step
pays however small the model, like the :term:`kernel launches <kernel launch overhead>` of a
GPU step. So two processes beat one only once each step has enough compute to hide it.

This page goes beyond the course. The course trains on one device and meets three
:term:`overheads <overhead>`: Overhead 1, transfer and :term:`synchronisation`
(:doc:`plot_transfer_cost`); Overhead 2, the kernel launch (:doc:`plot_launch_overhead`); and
Overhead 3, an under-used GPU (:doc:`plot_utilization`). When a model outgrows one device,
the next thing to try is data-parallel training: :term:`DDP` (``DistributedDataParallel``) on
two GPUs, or on two machines. Each process trains on its share of the :term:`batch`, and at every step the
processes add up their gradients, so that they all take the same step. That sum is an
:term:`all-reduce`, and it is **Overhead 4**: talking to other devices or processes. It is one
of the most asked questions about DDP (pytorch/pytorch#65288 "DDP slower than one GPU";
huggingface/sentence-transformers#2864; pytorch/pytorch#73600 asks PyTorch's documentation for
this very section).

This page measures it between real processes on this machine, with :mod:`torch.distributed`:
:term:`gloo` between CPU processes (:term:`NCCL` between GPUs works the same way).

**What you will learn**

- what one all-reduce costs as it grows from 4 bytes to 16 MiB: a :term:`latency` and a
  :term:`bandwidth` (the :term:`Hockney model`), and the bandwidths nccl-tests reports;
- how DDP on the course's MLP compares with one process, with a confidence interval;
- the :term:`batch test` for DDP, and at what batch two processes start to beat one,
  measured, and predicted from the latency, the bandwidth and the step's own compute;
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
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from devicelab.data import load_iris
from devicelab.display import Collapsed
from devicelab.distributed import allreduce_sweep, compare_data_parallel, data_parallel_crossover
from devicelab.distributed.record import summary_lines
from devicelab.hardware import cpu_info
from devicelab.results import provenance, recorded_results

WORLD = 2
print(f"{cpu_info().usable_cpus} usable CPUs here; {WORLD} gloo ranks, one thread each; "
      f"torch {torch.__version__}")

# %%
# Every comparison on this page is printed from the data: two small helpers choose the words
# from 95% intervals, and draw them as error bars.


def which(x, y, more, less, same):
    """``more`` if interval ``x`` lies wholly above ``y`` (a number or an interval), ``less``
    if wholly below, ``same`` if they overlap."""
    low, high = (y.low, y.high) if hasattr(y, "low") else (y, y)
    return more if x.low > high else less if x.high < low else same


def bars(intervals, scale=1.0):
    """Error bars (below, above) of intervals, for ``errorbar``'s ``yerr`` or ``xerr``."""
    return np.array([[i.estimate - i.low, i.high - i.estimate] for i in intervals]).T * scale


# %%
# One all-reduce, from 4 bytes to 16 MiB
# --------------------------------------
# :func:`~devicelab.distributed.allreduce_sweep` all-reduces float32 tensors of each size.
# In every round, the sizes come in a shuffled order, and each is called several times (up to
# 32 for the small ones, once for the largest): before each call the ranks meet at a barrier,
# then each times its own call. Each rank keeps its median call, and the round keeps the
# slowest rank's, because a collective is over only when it is over for everybody. Each size gets a :term:`median` over the rounds,
# with a :term:`bootstrap interval`. The Hockney model fits them with two numbers, the time of
# an all-reduce of ``S`` bytes being ``t(S) = α + S / β``: a latency ``α`` paid by every call,
# and a bandwidth ``β`` at which the bytes then flow.
SIZES = [4 * 16**k for k in range(6)] + [16 * 2**20]  # 4 B ... 4 MiB, 16 MiB
sweep = allreduce_sweep(SIZES, world_size=WORLD, rounds=20)
alpha, beta = sweep.alpha_s, sweep.beta_bytes_per_s
half = sweep.fit.half_bandwidth_bytes
print(f"Hockney fit: α = {alpha.estimate * 1e6:.0f} µs (interval {alpha.low * 1e6:.0f} to "
      f"{alpha.high * 1e6:.0f} µs), β = {beta.estimate / 1e9:.2f} GB/s (interval "
      f"{beta.low / 1e9:.2f} to {beta.high / 1e9:.2f} GB/s)")
print(f"Below α × β = {half / 1024:,.0f} KiB, the latency costs more than the bytes.")

# %%
# The fit is made to every round on relative errors, so that the smallest messages weigh as
# much as the largest. The :term:`algbw` (algorithm bandwidth) is the size over the time; the
# :term:`busbw` (bus bandwidth) is what nccl-tests prints, ``algbw × 2(p-1)/p``: what each
# link of a ring all-reduce over ``p`` ranks carries, comparable across numbers of ranks. With
# two ranks the two are equal, so the right panel shows one of them.
medians = np.array([p.seconds.estimate for p in sweep.points])
fit_sizes = np.geomspace(SIZES[0], SIZES[-1], 100)
fig, (ax_t, ax_bw) = plt.subplots(1, 2, figsize=(10, 4.2))
for ax in (ax_t, ax_bw):
    ax.axvspan(SIZES[0], half, color="#f2e6c9", alpha=0.6, lw=0,
               label="latency-bound: below α × β")
    ax.set_xscale("log")
    ax.set_xlabel("bytes per rank")
ax_t.errorbar(SIZES, medians * 1e6, yerr=bars([p.seconds for p in sweep.points], 1e6),
              fmt="o", ms=4, capsize=3,
              label="measured (median, 95% interval)")
ax_t.plot(fit_sizes, [sweep.fit.seconds(s) * 1e6 for s in fit_sizes], "k-", lw=1,
          label="fit: α + S / β")
ax_t.set_yscale("log")
ax_t.set_ylabel("µs per all-reduce")
ax_t.legend(fontsize=7, loc="upper left")
ax_bw.plot(SIZES, [p.busbw_bytes_per_s / 1e9 for p in sweep.points], "o-", ms=4,
           label="busbw (= algbw for 2 ranks)")
ax_bw.axhline(beta.estimate / 1e9, color="k", lw=0.8, ls=":", label="β from the fit")
ax_bw.set_yscale("log")
ax_bw.set_ylabel("GB/s")
ax_bw.legend(fontsize=7, loc="upper left")
fig.suptitle(f"An all-reduce costs about {alpha.estimate * 1e6:,.0f} µs below "
             f"{half / 1024:,.0f} KiB; above, its bytes at {beta.estimate / 1e9:.2f} GB/s")
fig.tight_layout()

# %%
# Do the small sizes really cost the same? If the latency is all they pay, their medians
# should stay close to the smallest's, and no size should cost more than a larger one. The
# sentences below are chosen from the medians and their intervals. With two processes on two
# cores, a round that the operating system interrupts slows whichever size it was timing, so
# a single size can stand out; more rounds, or a quieter machine, bring it back in line. The
# table of every size is folded underneath.
first = medians[0]
flat = []  # the sizes, from the smallest up, whose median stays under twice the smallest's
for p in sweep.points:
    if p.seconds.estimate >= 2 * first:
        break
    flat.append(p)
wide = [p for p in flat if p.seconds.high >= 2 * first]
print(f"From {SIZES[0]} B to {flat[-1].size_bytes:,} B, each median is less than twice the "
      f"smallest's ({first * 1e6:.0f} µs): the call, not the bytes, sets their cost."
      if len(flat) > 1 else f"Already the next size costs twice the smallest's median "
      f"({first * 1e6:.0f} µs): in this run the machine, not the bytes, set the small times.")
if wide:
    print("The intervals of " + ", ".join(f"{p.size_bytes:,} B" for p in wide) + " reach past "
          "twice the smallest's median: some of their rounds were slowed by the machine.")
inverted = [(a, b) for a, b in zip(sweep.points, sweep.points[1:], strict=False)
            if a.seconds.estimate > 1.5 * b.seconds.estimate]
if inverted:
    print("Not in order: " + "; ".join(
        f"{a.size_bytes:,} B took {a.seconds.estimate / b.seconds.estimate:.1f} times as long "
        f"as {b.size_bytes:,} B" for a, b in inverted) + ". That is the scheduler, not bytes.")
else:
    print("No size took more than 1.5 times as long as the next larger one.")
grows = sweep.points[-1].seconds.above(sweep.points[0].seconds.high)
print(f"The largest all-reduce costs {medians[-1] / medians[0]:,.0f} times the smallest; "
      + ("their intervals do not overlap." if grows else "their intervals overlap."))

# sphinx_gallery_start_ignore
assert grows, "the page says the time grows with size: the largest and smallest intervals must not overlap"
assert 0 < alpha.low <= alpha.estimate <= alpha.high
assert 0 < beta.low <= beta.estimate <= beta.high
assert half > SIZES[0], "the plot shades a latency-bound region below alpha x beta"
assert flat[0] is sweep.points[0] and all(p.seconds.estimate < 2 * first for p in flat)
assert len(flat) > 1 or sweep.points[1].seconds.estimate >= 2 * first  # "already the next"
assert all(p.seconds.high >= 2 * first for p in wide)  # "reach past twice"
assert all(p.seconds.high < 2 * first for p in flat if p not in wide)
for a, b in zip(sweep.points, sweep.points[1:], strict=False):  # "not in order" names every such pair
    assert (a.seconds.estimate > 1.5 * b.seconds.estimate) == ((a, b) in inverted)
# sphinx_gallery_end_ignore

rows = [f"{'bytes':>12} {'median':>10} {'95% interval':>20} {'algbw GB/s':>11}"]
rows += [f"{p.size_bytes:>12,} {p.seconds.estimate * 1e6:7.0f} µs {p.seconds.low * 1e6:8.0f} to "
         f"{p.seconds.high * 1e6:6.0f} µs {p.algbw_bytes_per_s / 1e9:11.4f}" for p in sweep.points]
Collapsed(f"Every size: median and 95% interval of {sweep.rounds} rounds, and its algbw",
          "\n".join(rows))

# %%
# DDP on the course's MLP, against one process
# --------------------------------------------
# :func:`~devicelab.distributed.compare_data_parallel` trains the course's 4-10-3 MLP on the
# 120 Iris training rows. ``"one process"`` takes the whole batch with two threads;
# under DDP each of the two ranks takes 60 rows on one thread, and DDP all-reduces the
# gradients during the :term:`backward pass`. Both are the package's one training step
# (forward, cross-entropy, backward, SGD, ``loss.item()``), timed in blocks, in
# :term:`paired rounds`, with the remedies further down timed in the same rounds.
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
#
# The course's step is overhead-bound, so two threads on the whole batch should take about as
# long as one thread on half of it. When another program keeps a core busy, two threads wait
# for it at every operator and take several times as long; the comparison then measures that
# crowding as much as the talking. The second line below says which it was.
data = load_iris()
ddp = compare_data_parallel("devicelab.models:MLP", data.X_train, targets=data.y_train,
                            world_size=WORLD, steps=20, rounds=15)
r = ddp.ratio
verdict = which(r, 1, "slower than", "faster than", "not measurably different from")
print(f"DDP on {WORLD} processes is {verdict} one process: a step takes {r.estimate:.2f} times "
      f"as long (95% interval {r.low:.2f} to {r.high:.2f}).")
whole, half_batch = ddp.comparison.intervals["one process"], ddp.comparison.intervals["its share"]
crowd_text = which(whole, half_batch.scaled(3), "another program is keeping a core busy",
                   "short of the slowdown a busy core causes",
                   "the intervals cannot tell whether a core is busy")
print(f"One process on two threads took {whole.estimate / half_batch.estimate:.2f} times as long "
      f"as one thread on half the batch: {crowd_text}.")

# sphinx_gallery_start_ignore
assert ("slower" in verdict) == r.above(1) and ("faster" in verdict) == r.below(1), (verdict, r)
assert ddp.batch == 120 and ddp.threads == {"one process": 2, "each rank": 1}, "the prose's setting"
assert ("keeping a core busy" in crowd_text) == (whole.low > 3 * half_batch.high), crowd_text
assert ("short of" in crowd_text) == (whole.high < 3 * half_batch.low), crowd_text
assert ddp.buckets == 1, "the prose says the course's gradients fit in one bucket"
assert ddp.gradient_bytes < half, "the summary says the course's all-reduce is all latency"
# sphinx_gallery_end_ignore

rows = [f"{name:<28} {iv.estimate * 1e6:9.0f} µs  ({iv.low * 1e6:.0f} to {iv.high * 1e6:.0f})  "
        f"×{ddp.comparison.ratios[name].estimate:.2f}" for name, iv in ddp.comparison.intervals.items()]
Collapsed(f"Every variant's time per step, with its 95% interval and its ratio to one process "
          f"({ddp.comparison.rounds} paired rounds; {ddp.gradient_bytes} bytes of gradients "
          f"in {ddp.buckets} bucket)", "\n".join(rows))

# %%
# Threads are part of the setting. A process with two threads waits for both at every
# parallel :term:`operator`, so when a core is busy with something else the whole process
# waits, far longer than the operator itself (:doc:`../hardware/plot_inspect_cpu` measures
# what threads do for tiny operators). Each rank here has one thread and waits for nobody but
# the other rank.
#
# Where the extra time goes
# -------------------------
# The same DDP step under ``model.no_sync()`` skips the all-reduce: the difference, paired
# round by round, is what talking adds to a step. Set it beside what the sweep's fit predicts
# for one all-reduce of these gradients, ``α + bytes / β`` per bucket.
spent = ddp.allreduce_s
fitted = ddp.predicted_allreduce_s(sweep)
one = ddp.comparison.intervals["one process"]
adds = f"{spent.estimate * 1e6:,.0f} µs" if spent.estimate > 0 else "no measurable time"
print(f"The all-reduce adds {adds} to a DDP step (interval "
      f"{spent.low * 1e6:,.0f} to {spent.high * 1e6:,.0f} µs); the fit predicts "
      f"{fitted.estimate * 1e6:,.0f} µs ({fitted.low * 1e6:,.0f} to {fitted.high * 1e6:,.0f} µs); a "
      f"whole step of one process takes {one.estimate * 1e6:,.0f} µs.")
inside = which(spent, fitted, "more than the same all-reduce after a barrier",
               "less than the fit of the sweep predicts",
               "what the sweep's fit predicts, within the intervals")
alone = which(spent, one, "more than", "less than", "about as much as")
print(f"Inside a training step, the all-reduce costs {inside}, and alone {alone} a whole step "
      "of one process.")

# sphinx_gallery_start_ignore
assert ("more than the same" in inside) == (spent.low > fitted.high)
assert ("less than the fit" in inside) == (spent.high < fitted.low)
assert (alone == "more than") == (spent.low > one.high)
assert (alone == "less than") == (spent.high < one.low)
# sphinx_gallery_end_ignore

# %%
# Why the two can differ: after a barrier, the two ranks call the all-reduce together. In a
# training step they do not: one finishes its backward pass first and waits for the other,
# and a process that waits is put to sleep by the operating system and must be woken when
# the message comes. DDP also has its own bookkeeping: a :term:`hook` on every gradient,
# buckets to fill and copy back. The sweep measures the best case; a training step pays
# whatever the ranks' timing costs it.

# %%
# The batch test, and when two processes beat one
# -----------------------------------------------
# Horace He's batch test works here too: if doubling the batch barely changes the time of a
# step, the step is :term:`overhead-bound`, here by talking and launching rather than by its
# rows. Each rank computes half the batch, then talks. A DDP step costs about
# ``compute(B/2) + α + bytes/β``, one process ``compute(B)``. The talking does not grow with
# the batch; the compute does. So the question is at which batch the compute saved pays for
# the talking: the :term:`crossover`.
#
# :func:`~devicelab.distributed.data_parallel_crossover` repeats the rows of Iris to fill
# growing batches and times four things at each, in paired rounds: one process on the whole
# batch (two threads); one process on half of it, one thread, while the other rank idles:
# ``compute(B/2)``; both ranks on their halves at once under ``no_sync()``, which computes
# like DDP but does not talk; and DDP. The prediction adds the fitted all-reduce to the
# measured ``compute(B/2)``.
BATCHES = [120, 240, 1_200, 6_000, 12_000, 24_000, 48_000, 96_000, 192_000, 384_000, 768_000]
cross = data_parallel_crossover("devicelab.models:MLP", data.X_train, targets=data.y_train, batches=BATCHES,
                                costs=sweep, world_size=WORLD, rounds=7)
by_batch = {p.batch: p for p in cross.points}


def doubling(small, large):
    """The batch test on DDP's step: its time at ``large`` rows over its time at ``small``."""
    grew = by_batch[large].ddp_s.estimate / by_batch[small].ddp_s.estimate
    kind = ("shorter: noise, not the batch" if grew < 0.8 else
            "barely changes: overhead-bound" if grew < 1.5 else
            "nearly doubles: compute-bound" if grew > 1.8 else "grows, but less than twice")
    return f"from {small:,} to {large:,} rows a DDP step takes ×{grew:.2f} the time ({kind})"


print(f"The batch test: {doubling(120, 240)}; {doubling(384_000, 768_000)}.")
print(f"Two processes surely beat one: measured {cross.measured}; predicted {cross.predicted}.")

# sphinx_gallery_start_ignore
for pair in ((120, 240), (384_000, 768_000)):
    grew = by_batch[pair[1]].ddp_s.estimate / by_batch[pair[0]].ddp_s.estimate
    text = doubling(*pair)
    assert ("barely" in text) == (0.8 <= grew < 1.5) and ("nearly doubles" in text) == (grew > 1.8)
for p in cross.points:
    assert p.measured == ("slower" if p.ratio.above(1) else "faster" if p.ratio.below(1) else "unclear")
# sphinx_gallery_end_ignore

rows = [f"{p.batch:>8,} rows: one process {p.one_process_s.estimate * 1e3:8.3f} ms, DDP "
        f"{p.ddp_s.estimate * 1e3:8.3f} ms, ×{p.ratio.estimate:.2f} ({p.ratio.low:.2f} to "
        f"{p.ratio.high:.2f}); DDP {p.measured}, predicted {p.predicted}" for p in cross.points]
Collapsed("Every batch: one process and DDP per step, their ratio (95% interval), and which "
          "is faster, measured and predicted", "\n".join(rows))

# %%
# Below the line at 1, DDP is faster. The dotted vertical lines mark the measured and the
# predicted crossover, where there is one. The prediction is the simple sum
# ``compute(B/2) + α + bytes/β``; where the two curves part, a DDP step costs something that
# the sum leaves out, and the next paragraph says what.
batches = [p.batch for p in cross.points]
fig, ax = plt.subplots(figsize=(7.5, 5))
ax.errorbar(batches, [p.ratio.estimate for p in cross.points],
            yerr=bars([p.ratio for p in cross.points]), fmt="o-", ms=4, capsize=3, color="C0",
            label="measured DDP / one process (95% interval)")
ax.plot(batches, [p.predicted_ratio for p in cross.points], "s--", ms=4, color="C1",
        label="predicted: (compute(B/2) + α + bytes/β) / one process")
ax.axhline(1, color="k", lw=0.8, label="as fast as one process")
for found, color, who in ((cross.measured, "C0", "measured"), (cross.predicted, "C1", "predicted")):
    if found.estimate is not None:
        ax.axvline(found.estimate, color=color, lw=0.8, ls=":", label=f"{who} crossover")
ax.set_xscale("log")
ax.set_yscale("log")
ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
ax.yaxis.set_minor_formatter(NullFormatter())
ax.set_xlabel("batch (rows, split between the ranks)")
ax.set_ylabel("time per step, DDP / one process")
ax.set_title(f"DDP first surely beats one process at {cross.measured.high:,} rows"
             if cross.measured.found else
             f"DDP never surely beats one process up to {batches[-1]:,} rows")
ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)
fig.tight_layout()

# %%
# The prediction is the best case twice over. Its all-reduce was measured after a barrier,
# and the previous section showed what a training step adds to it. Its ``compute(B/2)`` was
# measured with the other rank idle, but under DDP both ranks compute at once, on cores and
# a memory that they share. The largest batch shows how much each costs:
big = cross.points[-1]
together = which(big.no_sync_s, big.share_s, "slower than one rank alone: they share the machine",
                 "faster than one rank alone", "as fast as one rank alone, within the intervals")
talking = which(big.ddp_s, big.no_sync_s, "Talking adds time on top of that, even at this batch",
                "DDP is faster than no_sync()", "Talking adds no time the intervals can tell")
print(f"At {big.batch:,} rows: compute(B/2) alone {big.share_s.estimate * 1e3:.1f} ms, both "
      f"ranks at once under no_sync() {big.no_sync_s.estimate * 1e3:.1f} ms, DDP "
      f"{big.ddp_s.estimate * 1e3:.1f} ms. Two ranks computing at once are {together}. "
      f"{talking}.")

# sphinx_gallery_start_ignore
assert ("slower than one rank" in together) == (big.no_sync_s.low > big.share_s.high)
assert ("faster than one rank" in together) == (big.no_sync_s.high < big.share_s.low)
assert ("adds time" in talking) == (big.ddp_s.low > big.no_sync_s.high)
assert ("faster than no_sync" in talking) == (big.ddp_s.high < big.no_sync_s.low)
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
#   and every bucket pays ``α``. The course's gradients fit in one bucket at the default
#   size; the measurement forces one bucket per parameter tensor instead, which is what
#   larger buckets save.
# - **Don't: use one device.** The speed-up of one process over DDP.
names = {"gradient accumulation": f"accumulate {ddp.accumulate} micro-batches with no_sync()",
         "larger buckets": f"larger buckets ({ddp.buckets} instead of {ddp.buckets_per_tensor})",
         "one process": "don't: use one process"}
effects = {}
for key, label in names.items():
    x = ddp.remedies[key]
    effects[key] = (f"{label}: " + which(x, 1, f"{x.estimate:.2f} times as fast as plain DDP",
                                         f"slower than plain DDP, {x.estimate:.2f} times its speed",
                                         "no measurable effect")
                    + f" (95% interval {x.low:.2f} to {x.high:.2f})")
    print(effects[key])

# sphinx_gallery_start_ignore
assert ddp.accumulate == 4, "the prose says four micro-batches per update"
for key, text in effects.items():
    x = ddp.remedies[key]
    assert ("times as fast" in text) == x.above(1) and ("slower" in text) == x.below(1), text
# The summary: "Fewer all-reduces help (gradient accumulation with no_sync(), larger buckets)".
for key in ("gradient accumulation", "larger buckets"):
    assert ddp.remedies[key].estimate > 1, (key, ddp.remedies[key])
# sphinx_gallery_end_ignore

# %%
# The same measurements as bars: grey is one process (the whole batch, and one rank's share
# alone), red is DDP with and without its all-reduce, blue is DDP with a remedy.
KIND = {"one process": "#8c8c8c", "its share": "#8c8c8c", "DDP": "#c44e3a",
        "DDP, no_sync()": "#c44e3a"}
labels = list(ddp.comparison.intervals)
times = [ddp.comparison.intervals[n] for n in labels]
fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.barh(labels, [t.estimate * 1e6 for t in times], xerr=bars(times, 1e6),
        color=[KIND.get(n, "#4c72b0") for n in labels], capsize=3)
ax.set_xlabel("µs per step (per micro-batch for accumulation), 95% interval")
ax.set_title(f"DDP on the course's MLP: {verdict} one process (×{r.estimate:.2f} its step)")
ax.legend([Patch(color=c) for c in ("#8c8c8c", "#c44e3a", "#4c72b0")],
          ["one process", "DDP", "DDP with a remedy"], fontsize=7, ncol=3,
          loc="upper center", bbox_to_anchor=(0.5, -0.22))
ax.invert_yaxis()
fig.tight_layout()

# %%
# On GPUs, with NCCL
# ------------------
# Between GPUs, DDP uses NCCL: each rank owns one GPU, the all-reduce runs as kernels on the
# GPUs over NVLink or PCIe, and DDP overlaps it with the backward pass on a separate CUDA
# stream. The lesson is the same, with another ``α`` and ``β``, which only a measurement can
# give: ``python -m devicelab bench --only distributed`` on a machine with two GPUs records
# them, and this section then shows that record.
nccl = [(record, line) for record in recorded_results("cuda")
        for line in summary_lines(record["measurements"].get("distributed", {}))
        if "nccl" in line]
if torch.cuda.device_count() >= WORLD:
    live = allreduce_sweep(SIZES, world_size=WORLD, backend="nccl", rounds=20)
    print(f"NCCL between {WORLD} GPUs (live): α {live.alpha_s.estimate * 1e6:.1f} µs, "
          f"β {live.beta_bytes_per_s.estimate / 1e9:.1f} GB/s")
elif nccl:
    record, line = nccl[0]
    print(f"No two GPUs here: the NCCL figures are RECORDED, not live ({provenance(record)}).")
    print(line)
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
#
# Summary
# -------
# - Data-parallel training all-reduces the gradients at every step. That is Overhead 4, beyond
#   the course's three: a cost per step that the batch does not shrink, like a kernel launch.
# - An all-reduce costs a latency ``α`` per call plus its bytes over a bandwidth ``β``; for
#   gradients as small as the course's, the latency is all of it.
# - Two processes beat one only when the compute they split outweighs the talking: check
#   with the batch test, then measure the crossover rather than assume it.
# - Fewer all-reduces help (gradient accumulation with ``no_sync()``, larger buckets); for a
#   small model, one process, with no all-reduce at all, is the simplest remedy to try (the
#   verdict printed above says whether it won on this machine). On your own model,
#   :func:`devicelab.advise.advise` says whether two processes would speed it up, and from
#   which batch (:doc:`../your_model/plot_advise`).
#
# Exercises
# ---------
# 1. Run the sweep again with more rounds, ``allreduce_sweep(SIZES, world_size=2,
#    rounds=60)``. Do the sizes that were out of order fall into line? What does that say
#    about measuring on a machine with as many processes as cores?
# 2. Try a model with far more gradients: ``wide = compare_data_parallel(
#    "devicelab.zoo:wide_mlp", torch.randn(128, 1024), torch.randint(0, 10, (128,)),
#    world_size=2, steps=4, rounds=3)``. Compare ``wide.gradient_bytes`` with ``half`` (α × β)
#    and say whether its all-reduce is latency-bound or bandwidth-bound; then check
#    ``wide.predicted_allreduce_s(sweep)`` against ``wide.allreduce_s``.
# 3. On a machine with four or more CPUs, run the sweep with ``world_size=4`` (this page's
#    machine refuses: more ranks than CPUs would time the scheduler). Predict the ratio of
#    busbw to algbw from ``2(p-1)/p``, and check it on ``sweep.points``.
