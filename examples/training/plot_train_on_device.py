"""
Training on a device: move the model and the data
=================================================

To train on a GPU, put the model's parameters and the data on the same :term:`device`, with
``model.to(device)`` and ``X.to(device)``; the loop itself does not change. Mix devices in
one operation and PyTorch stops with an error instead of moving anything for you.

**What you will learn**

- the course's one-line choice of device, and what it picks on this machine;
- the two moves: ``model.to(device)`` for the parameters, ``X.to(device)`` for the data;
- the course's training loop (forward, loss, backward, step) and its loss curve;
- the classic mistake, a model on one device and its data on another, with the message a GPU
  machine prints for it.

Every cell marked "Course code" below is the course's own code: pasted in order into a fresh
Python that has torch, scikit-learn and matplotlib, it trains the network and prints the same
results.
"""

# %%
# Choose the device
# -----------------
# One line, the same in every PyTorch tutorial: the GPU when PyTorch can see one, else the
# CPU. On a machine without a GPU the rest of this page runs unchanged on the CPU, the
# :term:`host` itself.
#
# .. rst-class:: course-code
import torch

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(f"training on: {device}")
if device.type == "cpu":
    print("No GPU here: the GPU moves below are the identity, and the GPU-only demo is quoted.")

# %%
# The data, first on the CPU
# --------------------------
# Iris from scikit-learn: 150 flowers, four measurements each, three species. The split is
# 80/20 with ``random_state=42``, and the min-max scaler is fitted on the training split only,
# so nothing about the test flowers leaks into training. ``torch.tensor`` makes each
# :term:`tensor` on the CPU: float32 for the measurements, int64 (``long``) for the class
# labels, as the loss expects.
#
# .. rst-class:: course-code
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
scaler = MinMaxScaler().fit(X_train)  # fitted on the training split only
X_train = torch.tensor(scaler.transform(X_train), dtype=torch.float32)
X_test = torch.tensor(scaler.transform(X_test), dtype=torch.float32)
y_train = torch.tensor(y_train, dtype=torch.long)
y_test = torch.tensor(y_test, dtype=torch.long)
print(f"train {tuple(X_train.shape)}, test {tuple(X_test.shape)}, on {X_train.device}")

# sphinx_gallery_start_ignore
# The package's loader, used by every measurement on this site, gives the very same tensors.
import devicelab.data

_lab = devicelab.data.load_iris("cpu")
assert torch.equal(_lab.X_train, X_train) and torch.equal(_lab.y_test, y_test)
# sphinx_gallery_end_ignore

# %%
# The model
# ---------
# The course's multilayer perceptron: four inputs, a hidden layer of ten with a ReLU, three
# outputs. No softmax at the end, because the cross-entropy loss applies it itself. Built
# here, its parameters are on the CPU.
#
# .. rst-class:: course-code
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)  # input layer -> hidden layer
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)  # hidden layer -> output layer

    def forward(self, x):
        out = self.fc1(x)
        out = self.relu(out)
        out = self.fc2(out)
        return out


torch.manual_seed(0)
model = MLP()
print(model)
print("parameters on", next(model.parameters()).device)

# %%
# The two moves
# -------------
# ``model.to(device)`` moves every parameter of the model, in place, and returns the model.
# ``tensor.to(device)`` returns a *copy* on the device and leaves the original where it was,
# so the result must be kept. Each move copies the data from :term:`host memory` to
# :term:`GPU memory`, once, before training: a :term:`data transfer`.
#
# .. rst-class:: course-code
model = model.to(device)
X_train, y_train = X_train.to(device), y_train.to(device)
X_test, y_test = X_test.to(device), y_test.to(device)
print("data on", X_train.device, "| parameters on", next(model.parameters()).device)

# sphinx_gallery_start_ignore
assert X_train.device.type == next(model.parameters()).device.type == device.type
# sphinx_gallery_end_ignore

# %%
# The course's loop
# -----------------
# 20,000 :term:`epochs <epoch>` of plain SGD with ``lr=0.01``, each on the :term:`full batch`
# of 120 training flowers: a :term:`forward pass`, the loss, zeroed gradients, a
# :term:`backward pass`, one optimiser step. The course reads ``loss.item()`` every epoch;
# for the curve, every 100th epoch is enough. The next pages measure what reading it every
# epoch costs.
#
# .. rst-class:: course-code
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
epochs, record_every = 20_000, 100
curve = []
for epoch in range(1, epochs + 1):
    outputs = model(X_train)  # forward: Module.__call__ runs MLP.forward
    loss = criterion(outputs, y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % record_every == 0:
        curve.append((epoch, loss.item()))  # .item() copies the number to the host

with torch.no_grad():
    accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
print(f"trained on {device}: final loss {curve[-1][1]:.4f}, test accuracy {accuracy:.3f}")

# sphinx_gallery_start_ignore
assert accuracy >= 0.9, accuracy
assert curve[-1][1] < curve[0][1] / 2, curve
# "The loss falls steadily": lower at every recorded epoch than at the one before
assert all(b < a for (_, a), (_, b) in zip(curve, curve[1:], strict=False)), curve
# sphinx_gallery_end_ignore

# %%
# The loss falls steadily and the test accuracy is the course's. The figure's title is
# computed from the curve.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(*zip(*curve, strict=True), color="#3a76c4", label=f"training loss on {device}")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy, log scale)")
ax.set_yscale("log")
ax.yaxis.set_major_formatter(plt.FormatStrFormatter("%.2g"))
ax.yaxis.set_minor_formatter(plt.NullFormatter())
ax.legend(loc="upper right")
ax.set_title(f"The loss falls {curve[0][1] / curve[-1][1]:.0f}-fold in {epochs:,} epochs; "
             f"test accuracy {accuracy:.0%}")
fig.tight_layout()

# %%
# The classic mistake: the model and the data on different devices
# ----------------------------------------------------------------
# PyTorch never moves data behind your back. Every :term:`operator` checks that its
# tensors share one device, and refuses if they do not. The commonest way to meet this:
# ``model.to(device)`` was called, but a batch was not moved. On a GPU machine the first
# layer of the model, on ``cuda:0``, receives an input on the CPU, and the matrix product
# inside ``nn.Linear`` stops.
#
# A CPU-only machine has one device, so it cannot make this mistake at all. There the page
# shows the message that a recorded GPU raised (``bench`` keeps it verbatim), or, for a
# record made before that, quotes the message and says where the quote comes from: the
# message template is in torch's source (``aten/src/ATen/core/adaption.cpp``), and the
# argument and method names are those of the matrix product ``nn.Linear`` calls on a
# two-dimensional input, ``addmm``, whose second argument ``mat1`` is the input. A hidden
# check finds the template's words in the torch that builds this page.
QUOTED_CUDA_ERROR = (
    "RuntimeError: Expected all tensors to be on the same device, but got mat1 is on cpu, "
    "different from other tensors on cuda:0 (when checking argument in method "
    "wrapper_CUDA_addmm)"
)
if device.type == "cuda":
    stray = X_train.cpu()  # the mistake: a batch left on the host
    try:
        model(stray)
    except RuntimeError as error:
        print(f"live, on {torch.cuda.get_device_name(0)}:\n  {type(error).__name__}: {error}")
    fixed = model(stray.to(device))  # the fix: move the batch where the model is
    print("after stray.to(device):", tuple(fixed.shape), "on", fixed.device)
else:
    from devicelab.results import newest_record, provenance, recorded_mixed_device_error

    record = newest_record("cuda")
    recorded_error = recorded_mixed_device_error(record) if record else None
    if recorded_error:
        print(f"Recorded, not run here (no GPU): {provenance(record)}")
        print(f"  {recorded_error}")
    else:
        print(f"Quoted, not run here (no GPU; the record predates this capture): torch "
              f"{torch.__version__.split('+')[0]}, aten/src/ATen/core/adaption.cpp, for the "
              "model on cuda:0 and its input on the CPU:")
        print(f"  {QUOTED_CUDA_ERROR}")

# sphinx_gallery_start_ignore
# The quote's template is the one this torch raises: its fixed words are in libtorch_cpu.
import mmap
from pathlib import Path

_lib = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
if _lib.is_file():
    with open(_lib, "rb") as _f, mmap.mmap(_f.fileno(), 0, access=mmap.ACCESS_READ) as _m:
        _at = _m.find(b"Expected all tensors to be on the same device, but got ")
        assert _at >= 0, "the quoted template is not in this torch: re-check the quote"
        _near = _m[_at : _at + 200]
        assert b", different from other tensors on " in _near, _near
        assert b" (when checking argument in method " in _near, _near
# sphinx_gallery_end_ignore

# %%
# The fix is the second move above: put the input where the model is, ``x.to(device)``, or
# the model where the input is. A safe habit is to read the device off the model,
# ``next(model.parameters()).device``, and move each batch there as it arrives.
#
# Asking for a device that does not exist fails when the first tensor is made there, not
# when the ``torch.device`` is written: a ``torch.device`` is only a name. The message
# depends on the build: a CPU-only torch says it has no CUDA, a CUDA build says the device
# ordinal is invalid.
missing = torch.device("cuda:99")
try:
    torch.zeros(1, device=missing)
except (RuntimeError, AssertionError) as error:
    print(f"torch.zeros(1, device={str(missing)!r}) -> {type(error).__name__}: "
          f"{str(error).splitlines()[0]}")

# %%
# Summary
# -------
# - ``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`` picks the GPU
#   when there is one; the same code then runs anywhere.
# - Training on a device takes two moves: ``model.to(device)`` (in place) and
#   ``X = X.to(device)`` (a copy that must be kept). The loop does not change.
# - Both devices compute the same thing: the loss and the accuracy above are the course's.
# - An operator whose tensors sit on two devices raises ``RuntimeError: Expected all tensors
#   to be on the same device``; move the input to the model's device.
#
# Exercises
# ---------
# 1. Print ``X_train.device`` after ``X_train.to(device)`` without assigning the result. Why
#    does it still say ``cpu`` on a GPU machine?
# 2. Replace ``record_every = 100`` with ``1``, as the course had it, and time the loop with
#    ``time.perf_counter()`` on each device you have. :doc:`plot_cpu_vs_gpu` does this.
# 3. On a GPU machine, call ``model(X_test.cpu())`` and read the message: which argument and
#    which method does it name, and why ``mat1``?
