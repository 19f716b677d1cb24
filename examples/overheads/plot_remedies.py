"""
Remedies: what actually removes the overhead
============================================

What removes the overhead is issuing fewer operators per epoch, because the course's step
pays a fixed cost per operator, not per FLOP: train many models in one batched step, or write
the gradients by hand and let :term:`torch.compile` fuse them (on the CPU) or a
:term:`CUDA graph` replay them (on a GPU). Reading the loss less often leaves every launch in
place, so on its own it changes little.

**What you will learn**

- five :term:`remedies <remedy>`, each as plain PyTorch you can copy: fewer syncs, many models
  in one step (``torch.vmap`` or batched matrix products), hand-written gradients,
  ``torch.compile`` and a CUDA graph;
- that every version reaches the same final loss: the maths is unchanged, only the
  :term:`overhead` goes;
- how large a speed-up each gives on this CPU, live, and on a recorded GPU, each with its
  interval;
- how close the fastest comes to the arithmetic floor: the same epoch with no framework.
"""

# %%
# The course's loop, and reading the loss less often
# --------------------------------------------------
# The baseline is the course's loop: the 4-10-3 MLP trained with SGD on the
# :term:`full batch`, reading ``loss.item()`` every :term:`epoch`. On a GPU each read is a
# :term:`synchronisation`: the :term:`host` waits until the :term:`device` has finished.
# The first remedy reads the loss every ``record_every`` epochs instead; the second keeps
# the whole loss curve on the device and copies it to the host once.
#
# Keep one picture in mind for the whole page. PyTorch runs in :term:`eager mode`: each
# operator runs as Python reaches it, and each pays the same fixed toll (Python, the
# :term:`dispatcher`, and on a GPU a :term:`kernel launch <kernel launch overhead>`),
# however little arithmetic it does. The course's operators do very little, so the tolls
# are most of the time. A remedy either pays fewer tolls per epoch or gets more work per
# toll.
import copy

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


def train(model, optimizer, X, y, epochs, record_every=1):
    """The course's loop; it reads the loss every ``record_every`` epochs."""
    curve = []
    for epoch in range(1, epochs + 1):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % record_every == 0:
            curve.append(loss.item())  # copies the loss to the host: a sync
    return curve


def train_log_on_device(model, optimizer, X, y, epochs):
    """The same loop, with the loss curve kept on the device until the end."""
    log = torch.empty(epochs, device=X.device)
    for epoch in range(epochs):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log[epoch] = loss.detach()  # a copy on the device: no sync
    return log.tolist()  # one copy to the host


# %%
# Many models in one step
# -----------------------
# Iris has no more rows to put in a :term:`batch`, but a sweep over seeds or learning rates
# has more *models*. Stacked, 32 models train with the same number of :term:`operators
# <operator>` as one, each operator 32 times larger. ``torch.func`` does the stacking for
# you: ``stack_module_state`` stacks every weight along a new first dimension, and
# :term:`torch.vmap <vmap>` runs the course's model once per slice, as one batched call.
# ``vmap`` takes a function written for one model and calls it for all 32 at once: each
# operator inside it becomes one batched operator, not 32 calls. ``functional_call`` runs
# the model's ``forward`` with weights passed in as arguments, so that each slice can bring
# its own.
# The second version writes the batched weights out by hand: two batched matrix products
# (``baddbmm``: a matrix product and a bias add per model). The sum of the 32 losses gives
# each model exactly the gradient of its own loss.
from torch.func import functional_call, stack_module_state


def vmapped_losses(models, X, y):
    """A function giving all models' losses in one call, and the stacked weights it trains."""
    params, buffers = stack_module_state(models)  # e.g. fc1.weight: (32, 10, 4)
    skeleton = copy.deepcopy(models[0]).to("meta")  # the structure, with no storage

    def loss_of_one(p, b):
        return F.cross_entropy(functional_call(skeleton, (p, b), (X,)), y)

    return torch.vmap(loss_of_one), params, buffers


def train_vmapped(all_losses, params, buffers, optimizer, epochs):
    for _ in range(epochs):
        losses = all_losses(params, buffers)  # shape (32,): one loss per model
        optimizer.zero_grad()
        losses.sum().backward()
        optimizer.step()


def train_batched(W1, b1, W2, b2, optimizer, X, y, epochs):
    """The same, written out: W1 (32, 10, 4), b1 (32, 1, 10), W2 (32, 3, 10), b2 (32, 1, 3)."""
    models = W1.shape[0]
    Xs, ys = X.expand(models, *X.shape), y.repeat(models)
    for _ in range(epochs):
        h = torch.relu(torch.baddbmm(b1, Xs, W1.mT))  # (32, 120, 10)
        logits = torch.baddbmm(b2, h, W2.mT).reshape(-1, 3)  # (32 * 120, 3)
        loss = F.cross_entropy(logits, ys) * models  # the sum of the 32 mean losses
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


# %%
# Hand-written gradients
# ----------------------
# ``loss.backward()`` asks the :term:`autograd engine` to record a graph during the forward
# pass and walk it backwards. For two linear layers the chain rule fits in four lines, and
# the SGD update in four more, with no graph at all. For the mean cross-entropy over a
# softmax, the gradient with respect to the logits is ``(softmax - one_hot) / n``.
# ``torch.addmm`` does a matrix product and its bias add as one operator. The weights are
# plain tensors, updated in place, and ``Y`` is the one-hot label matrix.
def hand_written_epoch(W1, b1, W2, b2, X, Y, lr=0.01):
    h = torch.relu(torch.addmm(b1, X, W1.T))  # forward: the hidden layer
    p = torch.softmax(torch.addmm(b2, h, W2.T), dim=1)  # class probabilities
    g = (p - Y) / X.shape[0]  # d(loss)/d(logits)
    gh = (g @ W2) * (h > 0)  # back through fc2, then through the ReLU
    W1 -= lr * (gh.T @ X)
    b1 -= lr * gh.sum(0)
    W2 -= lr * (g.T @ h)
    b2 -= lr * g.sum(0)


@torch.no_grad()
def train_by_hand(W1, b1, W2, b2, X, Y, epochs):
    for _ in range(epochs):
        hand_written_epoch(W1, b1, W2, b2, X, Y)


# %%
# torch.compile, and a CUDA graph
# -------------------------------
# Both take a function that runs a few hand-written epochs and turn it into one call.
# ``torch.compile`` traces it once and generates code with the operators fused: one
# :term:`fused kernel` does the work of several, with no Python between them. On the CPU
# inductor's C++ wrapper also takes Python out of the launcher, and this page compiles and
# runs it at one thread (see "Threads" below).
#
# A CUDA graph records the GPU :term:`kernels <kernel>` that the function launches, once,
# and ``graph.replay()`` launches the whole recording with one call: the per-kernel
# :term:`launch cost <kernel launch overhead>` is paid once per replay. The recipe, with
# public API only: warm up on copies and on a side stream, then capture into static tensors
# (the weights here; ``X`` and ``Y`` stay put). A graph holds memory addresses, not Python:
# a replay reads and writes the very tensors used during the capture. That is why the
# weights must be updated in place, as the hand-written step does, and why new data would
# be copied into the captured input (``X.copy_(batch)``) rather than passed as a new tensor.
# This code runs on a GPU only; on this page's CPU build it is skipped, with the reason
# printed, and the recorded GPU shows its effect.
EPOCHS_PER_CALL = 5


def five_epochs(W1, b1, W2, b2, X, Y):
    for _ in range(EPOCHS_PER_CALL):
        hand_written_epoch(W1, b1, W2, b2, X, Y)


def compiled_for(device):
    """``five_epochs`` compiled for ``device``; it compiles at its first call."""
    options = {"cpp_wrapper": True} if device.type == "cpu" else None
    return torch.compile(five_epochs, options=options)


@torch.no_grad()
def train_compiled(compiled, W1, b1, W2, b2, X, Y, epochs):
    for _ in range(epochs // EPOCHS_PER_CALL):
        compiled(W1, b1, W2, b2, X, Y)


@torch.no_grad()
def capture_cuda_graph(W1, b1, W2, b2, X, Y):
    """Records ``five_epochs`` on the weights as a CUDA graph (GPU only)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up: on copies, on a side stream
        copies = [w.clone() for w in (W1, b1, W2, b2)]
        for _ in range(3):
            five_epochs(*copies, X, Y)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):  # records the kernels; nothing runs yet
        five_epochs(W1, b1, W2, b2, X, Y)
    return graph


def train_graph(graph, epochs):
    for _ in range(epochs // EPOCHS_PER_CALL):
        graph.replay()  # five epochs, one launch


# %%
# Threads
# -------
# The last remedy changes no code, only a setting: ``torch.set_num_threads(1)`` before the
# course's loop. Each of the course's operators is tiny, so a pool of threads has little to
# share, and waking it costs, most on a busy machine
# (:doc:`../hardware/plot_inspect_cpu`).
#
# Is it all the same computation?
# -------------------------------
# Every version above starts from the same weights: ``torch.manual_seed(seed)`` before
# ``MLP()``, seed 0 for the one model, seeds 0 to 31 for the 32. A hidden check trains each
# version for a few epochs, beside the package's copy of the same remedy
# (:mod:`devicelab.remedies`), and asserts that their losses agree. The package keeps its
# own copies because ``python -m devicelab bench`` records them on a GPU machine with no
# docs build: the recorded GPU figures below come from those copies. The versions on this
# page are the ones timed on this page; the check only makes sure that both sets compute
# the same thing, so that the CPU and GPU panels below compare like with like.
from devicelab.data import load_iris

data = load_iris()  # the course's Iris split, as on "Training on a device"


def seeded_mlp(seed):
    torch.manual_seed(seed)
    return MLP()


def weights_of(model):
    return [p.detach().clone() for p in model.parameters()]  # W1, b1, W2, b2


def stacked(models):
    """The models' weights stacked for ``train_batched``, each a trainable leaf."""
    W1, b1, W2, b2 = (torch.stack(ws) for ws in zip(*map(weights_of, models), strict=True))
    return [w.requires_grad_() for w in (W1, b1.unsqueeze(1), W2, b2.unsqueeze(1))]


def weights_loss(weights, X, y):
    """The course's loss for one model's W1, b1, W2, b2."""
    W1, b1, W2, b2 = weights
    with torch.no_grad():
        return F.cross_entropy(torch.relu(X @ W1.T + b1) @ W2.T + b2, y).item()


# sphinx_gallery_start_ignore
from devicelab.models import initial_weights  # noqa: E402
from devicelab.remedies import train_remedy  # noqa: E402

_X, _y, _E = data.X_train, data.y_train, 30
_Y = F.one_hot(_y, 3).float()
assert all(torch.equal(a, b) for a, b in zip(seeded_mlp(0).state_dict().values(),
                                             initial_weights(0).values(), strict=True))


def _package(name, **kw):
    return train_remedy(name, data, initial_weights(0), epochs=_E, **kw).final_loss


_m = seeded_mlp(0)
train(_m, torch.optim.SGD(_m.parameters(), lr=0.01), _X, _y, _E, record_every=10)
assert abs(weights_loss(weights_of(_m), _X, _y) - _package("course loop")) < 1e-6
_m = seeded_mlp(0)
train_log_on_device(_m, torch.optim.SGD(_m.parameters(), lr=0.01), _X, _y, _E)
assert abs(weights_loss(weights_of(_m), _X, _y) - _package("loss log on device")) < 1e-6
_w = weights_of(seeded_mlp(0))
train_by_hand(*_w, _X, _Y, _E)
assert abs(weights_loss(_w, _X, _y) - _package("hand-written gradients")) < 1e-6
_w = weights_of(seeded_mlp(0))
for _ in range(_E // EPOCHS_PER_CALL):  # the function that torch.compile compiles, run eagerly
    with torch.no_grad():
        five_epochs(*_w, _X, _Y)
assert abs(weights_loss(_w, _X, _y) - _package("hand-written gradients")) < 1e-6
_models = [seeded_mlp(s) for s in range(32)]
_f, _p, _b = vmapped_losses(_models, _X, _y)
train_vmapped(_f, _p, _b, torch.optim.SGD(_p.values(), lr=0.01), _E)
_w = stacked(_models)
train_batched(*_w, torch.optim.SGD(_w, lr=0.01), _X, _y, _E)
_by_bmm = [weights_loss([w[i] for w in _w], _X, _y) for i in range(32)]
with torch.no_grad():
    _by_vmap = _f(_p, _b).tolist()
assert max(abs(a - b) for a, b in zip(_by_vmap, _by_bmm, strict=True)) < 1e-5
assert abs(_by_bmm[0] - _package("batched models", models=32)) < 1e-6
del _m, _w, _models, _f, _p, _b
# sphinx_gallery_end_ignore

# %%
# Timing them alike
# -----------------
# A machine's speed drifts, and versions timed one after the other minutes apart can differ
# by more than the remedies do. So each version trains in blocks of ``BLOCK`` epochs, and
# the blocks alternate: one block of every version per round, in an order that changes each
# round. These are :term:`paired rounds`, run by :func:`devicelab.timing.compare`, which
# wraps each block in its clock. Each speed-up is the :term:`median` of the per-round ratios
# to the course's loop, with a 95% :term:`bootstrap interval` over rounds. A block is long
# enough that the clock's own cost is lost in it, and short enough that ten rounds of every
# version fit in a page build.
#
# ``versions(device)`` builds every version above on one device, each from its seeds, as a
# function that trains the next ``BLOCK`` epochs. ``torch.compile`` needs a working C++
# compiler on the CPU (Triton on a GPU), and a CUDA graph needs a GPU. Where one is missing
# the page skips that version and prints why, with the same check as
# ``python -m devicelab doctor`` (:doc:`/your_machine`). The package's
# ``torch_threads(n)`` sets the thread count for a block and restores it.
from devicelab.doctor import compile_unavailable
from devicelab.remedies import RemedyComparison
from devicelab.timing import compare, timed_block, torch_threads

BLOCK, ROUNDS, MODELS = 100, 10, 32


def versions(device):
    """name -> (one block, model 0's weights, models, setup seconds); and what was skipped."""
    X, y = data.X_train.to(device), data.y_train.to(device)
    Y = F.one_hot(y, 3).float()
    mlp = {n: seeded_mlp(0).to(device) for n in ("item", "no sync", "log", "1 thread")}
    sgd = {n: torch.optim.SGD(m.parameters(), lr=0.01) for n, m in mlp.items()}
    w = {n: [t.to(device) for t in weights_of(seeded_mlp(0))] for n in ("hand", "jit", "graph")}
    many = [seeded_mlp(s).to(device) for s in range(MODELS)]
    all_losses, params, buffers = vmapped_losses(many, X, y)
    stack = stacked(many)
    sgd["vmap"] = torch.optim.SGD(params.values(), lr=0.01)
    sgd["bmm"] = torch.optim.SGD(stack, lr=0.01)

    def on(threads, fn, *args, **kwargs):  # one block of fn at `threads` torch threads
        def block():
            with torch_threads(threads):
                fn(*args, **kwargs)
        return block

    out = {
        "course loop (item every epoch)": (on(None, train, mlp["item"], sgd["item"], X, y, BLOCK),
                                           mlp["item"].parameters, 1, 0.0),
        "no per-epoch sync": (on(None, train, mlp["no sync"], sgd["no sync"], X, y, BLOCK,
                                 record_every=BLOCK), mlp["no sync"].parameters, 1, 0.0),
        "loss log kept on device": (on(None, train_log_on_device, mlp["log"], sgd["log"], X, y,
                                       BLOCK), mlp["log"].parameters, 1, 0.0),
        f"{MODELS} models, vmap": (
            on(None, train_vmapped, all_losses, params, buffers, sgd["vmap"], BLOCK),
            lambda: [t[0] for t in params.values()], MODELS, 0.0),
        f"{MODELS} models batched": (on(None, train_batched, *stack, sgd["bmm"], X, y, BLOCK),
                                     lambda: [t[0] for t in stack], MODELS, 0.0),
        "hand-written gradients": (on(None, train_by_hand, *w["hand"], X, Y, BLOCK),
                                   lambda: w["hand"], 1, 0.0),
    }
    skipped = {}
    if why := compile_unavailable(device):
        skipped["torch.compile"] = why
    else:  # on the CPU: compiled and run at one thread
        threads = 1 if device.type == "cpu" else None
        compiled = compiled_for(device)
        print(f"compiling for {device} (a minute or more, once per machine)...", flush=True)
        copies = [t.to(device) for t in weights_of(seeded_mlp(0))]
        setup = timed_block(on(threads, train_compiled, compiled, *copies, X, Y, 10), device)
        name = f"torch.compile, {EPOCHS_PER_CALL} epochs per call" + ", 1 thread" * bool(threads)
        out[name] = (on(threads, train_compiled, compiled, *w["jit"], X, Y, BLOCK),
                     lambda: w["jit"], 1, setup)
    if device.type == "cuda":
        graph = []
        setup = timed_block(lambda: graph.append(capture_cuda_graph(*w["graph"], X, Y)), device)
        out[f"CUDA graph, {EPOCHS_PER_CALL} epochs per replay"] = (
            lambda: train_graph(graph[0], BLOCK), lambda: w["graph"], 1, setup)
    else:
        skipped["CUDA graph"] = (f"a CUDA graph records GPU kernels and this run is on {device}; "
                                 "its code above runs on a GPU only")
    if device.type == "cpu":
        out["course loop, 1 thread"] = (on(1, train, mlp["1 thread"], sgd["1 thread"], X, y,
                                           BLOCK), mlp["1 thread"].parameters, 1, 0.0)
    return out, skipped


def time_versions(device):
    """Every version on ``device`` in paired rounds, after one untimed block each."""
    built, skipped = versions(device)
    X, y = data.X_train.to(device), data.y_train.to(device)
    comparison = compare({name: v[0] for name, v in built.items()}, rounds=ROUNDS,
                         baseline="course loop (item every epoch)", device=device)
    return RemedyComparison(
        device=str(device), block_epochs=BLOCK, epochs=(1 + ROUNDS) * BLOCK,
        comparison=comparison, models={n: v[2] for n, v in built.items()},
        setup_s={n: v[3] for n, v in built.items()},
        final_losses={n: weights_loss(list(v[1]()), X, y) for n, v in built.items()},
        skipped=skipped)


# %%
# On this CPU, live
# -----------------
# The lines below say what was skipped and why. The table of every version is collapsed
# behind its summary: open it for the numbers behind the figure further down.
from devicelab.display import Collapsed
from devicelab.doctor import numba_unavailable
from devicelab.floor import course_floor_s
from devicelab.remedies import remedy_table

cpu = time_versions(torch.device("cpu"))
cpu_rows = cpu.rows()
for name, why in cpu.skipped.items():
    print(f"Skipped on this CPU: {name}: {why}")
compiled_row = next((r for r in cpu_rows if r.name.startswith("torch.compile")), None)
if compiled_row is not None:
    print(f"torch.compile took {compiled_row.setup_s:.1f} s to compile, before any epoch")
no_numba = numba_unavailable()
floor = None if no_numba else course_floor_s(data)
if floor is None:
    print(f"Skipped: the arithmetic floor: {no_numba}")
else:
    print(f"Arithmetic floor (the same epoch as scalar loops compiled by numba, one thread): "
          f"{floor * 1e6:.1f} µs per epoch")

# sphinx_gallery_start_ignore
# A remedy is left out only for a reason printed above: the device, or what this machine lacks.
assert (compiled_row is None) == ("torch.compile" in cpu.skipped), cpu.skipped
# sphinx_gallery_end_ignore
Collapsed(f"Every version on this CPU: {cpu.comparison.rounds} paired rounds of {BLOCK} epochs, "
          f"{cpu.comparison.threads} torch threads", remedy_table(cpu_rows, "CPU, live"))

# %%
# On a GPU, live or recorded
# --------------------------
# On a machine with a GPU the same code runs there, CUDA graph included. Elsewhere the page
# shows the GPU run recorded by ``python -m devicelab bench``, which trains the package's
# copies of the same versions: recorded, not estimated.
from devicelab.remedies import recorded_remedies
from devicelab.results import newest_record, provenance, record_frequency_epoch_times

record = newest_record("cuda")
gpu_rows, gpu_title = None, None
if torch.cuda.is_available():
    gpu = time_versions(torch.device("cuda"))
    gpu_rows, gpu_title = gpu.rows(), f"GPU, live: {torch.cuda.get_device_name(0)}"
    for name, why in gpu.skipped.items():
        print(f"Skipped on the GPU: {name}: {why}")
elif record is not None:
    gpu_rows, gpu_skipped = recorded_remedies(record)
    gpu_title = f"GPU, recorded: {record['device_name']}"
    print("No GPU here: the GPU figures are RECORDED, not live; source:", provenance(record))
    graph_row = next((r for r in gpu_rows if r.name.startswith("CUDA graph")), None)
    if graph_row is not None:
        print(f"Recorded CUDA graph: {graph_row.name}, {graph_row.epoch_time_s * 1e6:.0f} µs "
              f"per epoch, {graph_row.speedup:.1f}x the course's loop on that GPU")
    if gpu_rows[0].speedup_interval is None:
        print("(this record predates paired rounds: its speed-ups have no interval)")
    # One quantity, two runs: the homework pages read the same record's record-frequency runs.
    no_sync = next((r for r in gpu_rows if r.name == "no per-epoch sync"), None)
    homework_s = record_frequency_epoch_times(record).get(None)
    if no_sync is not None and homework_s is not None:
        print(f"The same record's loss.item() homework trained with no sync at "
              f"{homework_s * 1e6:.0f} µs an epoch; here the same loop took "
              f"{no_sync.epoch_time_s * 1e6:.0f} µs ({no_sync.epoch_time_s / homework_s:.2f}x). "
              "They are two runs of one loop at different times of the bench; the gap is the "
              "machine's drift between runs, which is why each page compares only runs timed "
              "side by side.")
        # sphinx_gallery_start_ignore
        # "a machine's drift is larger than some of the effects": this drift, against the
        # smallest effect on the same recorded GPU.
        import math

        drift = abs(math.log(no_sync.epoch_time_s / homework_s))
        assert drift > min(abs(math.log(r.speedup)) for r in gpu_rows[1:]), (drift, gpu_rows)
        # sphinx_gallery_end_ignore
else:
    print("No GPU here and no recorded GPU results: the GPU versions are skipped.")
gpu_table = (Collapsed(f"Every version on the GPU ({gpu_title})", remedy_table(gpu_rows, gpu_title))
             if gpu_rows else "no GPU table")
gpu_table

# %%
# Same final loss everywhere
# --------------------------
# Every version runs the same arithmetic in float32 from the same weights for the same number
# of epochs; only the order of some additions differs. The final losses must agree to
# within 1e-4. This is what makes the speed-ups fair: a version that trained to a different
# loss would be a different computation, not a faster way to do the same one.
TOLERANCE = 1e-4
print(f"CPU: every version trained {cpu.epochs:,} epochs (a warm-up block and "
      f"{cpu.comparison.rounds} rounds)")
for title, table in (("CPU", cpu_rows), ("GPU", gpu_rows)):
    if table:
        spread = max(r.final_loss for r in table) - min(r.final_loss for r in table)
        print(f"{title}: final losses agree within {spread:.1e} (tolerance {TOLERANCE:g})")
        # sphinx_gallery_start_ignore
        assert spread < TOLERANCE, [(r.name, r.final_loss) for r in table]
        # sphinx_gallery_end_ignore

# %%
# Side by side
# ------------
# Each bar is the median time per epoch per model, on one time axis for both machines; the
# black line is its 95% interval. The column on the right gives each speed-up over the
# course's loop on the same machine, with its interval. The dashed line is the arithmetic
# floor of this CPU. The title names the fastest version per model on each machine.
#
# Read each panel from its grey bar, where the course starts: the further left a bar ends,
# the fewer tolls that version pays per epoch. Orange bars share one step among many models,
# so their time per model is the step's time divided by the number of models.
from devicelab.remedies import plot_remedies

cpu_top = max(cpu_rows, key=lambda r: r.speedup)
finding = f"Fastest per model: {cpu_top.name}, {cpu_top.speedup:.0f}x, on this CPU"
if gpu_rows:
    gpu_top = max(gpu_rows, key=lambda r: r.speedup)
    finding += f";\n{gpu_top.name}, {gpu_top.speedup:.0f}x, on the GPU"
panels = [("This CPU, live", cpu_rows)] + ([(gpu_title, gpu_rows)] if gpu_rows else [])
fig = plot_remedies(panels, title=finding, floor_s=floor)


# %%
# What this machine showed
# ------------------------
# Each line below is chosen from the intervals above: "faster" or "slower" only when the
# whole interval of the speed-up lies on one side of 1. Horace He's :term:`batch test` says:
# if doubling the batch barely changes the time, the step is :term:`overhead-bound`. The
# batched models are that test, at 32 times the work.
def verdict(r):
    low, high = r.speedup_interval
    word = "faster than" if low > 1 else "slower than" if high < 1 else "no measurable change from"
    return (f"{r.name}: {word} the course's loop "
            f"({r.speedup:.2f}x, interval {low:.2f} to {high:.2f})")


single = sorted((r for r in cpu_rows[1:] if r.models == 1), key=lambda r: -r.speedup)
for r in [*single[-2:], single[0]]:  # the two least effective, and the best, for one model
    print(verdict(r))
batched, vmapped = (next(r for r in cpu_rows if r.name.startswith(f"{MODELS} models{s}"))
                    for s in (" batched", ", vmap"))
work = MODELS * batched.epoch_time_s / cpu_rows[0].epoch_time_s
print(f"Batch test: {MODELS} models' work per epoch took {work:.1f}x the time of one model's: "
      + ("overhead-bound." if work < MODELS / 2 else "the time grows with the work."))
print(f"The written-out batch ran {batched.speedup / vmapped.speedup:.1f}x as fast as vmap.")
if floor is not None:
    print(f"The best one-model version is {single[0].epoch_time_s / floor:.1f}x the arithmetic "
          f"floor; the course's loop {cpu_rows[0].epoch_time_s / floor:.0f}x.")

# sphinx_gallery_start_ignore
# The opening answer: on this CPU, with a compiler, the fastest version per model batches or
# fuses the operators; on the GPU the batched models win, then the CUDA graph, and reading
# the loss less often alone gains little there.
if compiled_row is not None:
    assert cpu_top.models > 1 or cpu_top is compiled_row, cpu_top
if gpu_rows:
    gpu_by = {r.name.split(",")[0].split(" ")[0]: r.speedup for r in gpu_rows}
    assert gpu_top.models > 1 and gpu_by["CUDA"] == max(
        r.speedup for r in gpu_rows if r.models == 1), gpu_by
    assert gpu_by["no"] < 1.5 and gpu_by["hand-written"] > 1.2, gpu_by
    if "torch.compile" in gpu_by:  # a record made without Triton skipped it
        assert gpu_by["CUDA"] > gpu_by["torch.compile"] > gpu_by["hand-written"], gpu_by
# "Why each remedy helps", on this CPU too: fewer syncs help little on their own; hand-written
# gradients make the time fall; the C++ wrapper and one thread remove most of what is left.
cpu_by = {r.name: r for r in cpu_rows}
assert cpu_by["no per-epoch sync"].speedup < 1.5, cpu_by["no per-epoch sync"]
assert cpu_by["hand-written gradients"].speedup_interval[0] > 1, cpu_by["hand-written gradients"]
if compiled_row is not None:
    assert compiled_row.epoch_time_s < 0.5 * cpu_by["hand-written gradients"].epoch_time_s, (
        compiled_row, cpu_by["hand-written gradients"])
# sphinx_gallery_end_ignore

# %%
# Why each remedy helps, or not
# -----------------------------
# - **Fewer syncs** help little on their own: on the CPU a sync is a memory read, and on a
#   GPU the launches remain (the homework page measured this).
# - **Many models in one step** is the biggest lever when there is more work to batch: 32
#   models cost about the launches of one, so the time per model falls with their number.
#   ``vmap`` writes the batching for you; the products written out do by hand what it
#   does, and the line above says whether its convenience costs time on this machine.
# - **Hand-written gradients** leave out the autograd graph and the optimiser's loop over
#   parameters: about half the operators, and the time falls with them, because each was
#   mostly overhead.
# - **torch.compile** fuses several epochs into one call; on the CPU, the C++ wrapper and one
#   thread remove most of what is left. Its compile time (``setup s`` in the table) must be
#   earned back, and is paid once per machine: torch caches the compiled code on disk.
# - **CUDA graphs** replay a captured sequence of kernels with one launch, which removes the
#   per-kernel launch cost that the GPU's course loop is made of (recorded GPU panel).
# - **Threads** are part of the setting: the "1 thread" row is the course's loop unchanged,
#   so its interval is what the thread pool costs or saves on this machine.
#
# The floor line is the arithmetic of one epoch with no framework at all: the gap between it
# and the fastest version is the overhead that is left.
#
# Summary
# -------
# - Overhead is paid per operator, so the remedies that work issue fewer operators: batch
#   many models into one step, or fuse the hand-written step with ``torch.compile`` or a CUDA
#   graph.
# - Reading the loss less often removes syncs, not launches: on its own it changes little.
# - Every version trains to the same final loss; only the time differs.
# - Compare versions in paired rounds, with intervals: a machine's drift is larger than some
#   of the effects.
# - Every remedy has a price: batching needs many models, hand-written gradients need the
#   maths, ``torch.compile`` needs a compiler and compile time, and a CUDA graph needs a GPU
#   and tensors that stay in place.
#
# Exercises
# ---------
# 1. Change ``MODELS`` to 8 and to 128. How does the time per epoch per model of
#    ``train_batched`` change? At what number does the batch test stop saying
#    "overhead-bound"?
# 2. Set ``EPOCHS_PER_CALL`` to 1 and to 20 and time ``train_compiled`` for 1,000 epochs with
#    ``time.perf_counter``. What does each extra epoch per call save, and what does it cost in
#    compile time?
# 3. Write ``train_by_hand`` for a hidden layer of 100 instead of 10 (only the weights'
#    shapes change). Does its speed-up over the course's loop grow or shrink, and why?
