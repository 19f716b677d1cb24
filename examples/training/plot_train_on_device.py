"""
Training on a device: move the model and the data
=================================================

Training on a GPU takes two moves: the model's parameters and the data must both live on
the device. Everything else in the loop stays the same.

**What you will learn**

- how to choose a device explicitly, and what ``"auto"`` picks;
- the two moves: ``model.to(device)`` and ``X.to(device)``, ``y.to(device)``;
- the course's loop (forward, loss, backward, step) and its loss curve;
- the classic mistake, a model on one device and its data on another, and its fix.
"""

# %%
# Choose the device
# -----------------
# :func:`devicelab.devices.resolve_device` accepts ``"auto"``, ``"cpu"``, ``"cuda"``,
# ``"cuda:N"`` or ``"mps"``. ``"auto"`` picks a CUDA or ROCm GPU, then Apple's MPS, then the CPU,
# and says which. Asking for a device that is not there is an error, never a silent fallback.
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from devicelab.data import load_iris
from devicelab.devices import DeviceNotAvailableError, resolve_device
from devicelab.models import MLP

device = resolve_device("auto", verbose=True)
if device.type == "cpu":
    print("No GPU here: the same code runs on the CPU. On a GPU machine, this page trains there.")

# %%
# The data and the model, first on the CPU
# ----------------------------------------
# Iris from scikit-learn, split 80/20 with ``random_state=42`` and min-max scaled with the
# scaler fitted on the training split only. Tensors are created on the CPU.
data = load_iris("cpu")
torch.manual_seed(0)
model = MLP(hidden=10)  # fc1 = Linear(4, 10), ReLU, fc2 = Linear(10, 3)
print(model)
print("data on", data.X_train.device, "| parameters on", next(model.parameters()).device)

# %%
# The two moves
# -------------
# ``model.to(device)`` moves every parameter and buffer, in place, and returns the model.
# ``tensor.to(device)`` returns a *copy* on the device; the original stays where it was, so
# the result must be kept.
model = model.to(device)
X_train, y_train = data.X_train.to(device), data.y_train.to(device)
X_test, y_test = data.X_test.to(device), data.y_test.to(device)
print("data on", X_train.device, "| parameters on", next(model.parameters()).device)

# sphinx_gallery_start_ignore
assert X_train.device == next(model.parameters()).device == device
# sphinx_gallery_end_ignore

# %%
# The course's loop
# -----------------
# 20,000 full-batch epochs of SGD with ``lr=0.01``. The course reads ``loss.item()`` every
# epoch; here it is read every 100 epochs, enough for the curve. The next pages measure
# what the per-epoch version costs.
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
epochs, every = 20_000, 100
curve = []
for epoch in range(1, epochs + 1):
    logits = model(X_train)  # forward: Module.__call__ -> MLP.forward
    loss = F.cross_entropy(logits, y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % every == 0:
        curve.append((epoch, loss.item()))  # .item() copies the scalar to the host

with torch.no_grad():
    test_accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
print(f"trained on {device}: final loss {curve[-1][1]:.4f}, test accuracy {test_accuracy:.3f}")

# sphinx_gallery_start_ignore
assert test_accuracy >= 0.9, test_accuracy
assert curve[-1][1] < curve[0][1]
# sphinx_gallery_end_ignore

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(*zip(*curve, strict=True))
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.set_yscale("log")
ax.set_title(f"Iris 4-10-3 MLP on {device}, test accuracy {test_accuracy:.3f}")
fig.tight_layout()

# %%
# The classic mistake: the model and the data on different devices
# ----------------------------------------------------------------
# PyTorch never moves data behind your back. If the model is on one device and the input on
# another, the first layer refuses. On a GPU machine this puts the model on the GPU and
# feeds it CPU data; on a CPU-only machine the GPU half is simulated with the ``meta``
# device (tensors with a shape and no storage), which gives the same kind of error.
other = torch.device("cpu") if device.type != "cpu" else torch.device("meta")
stray_input = data.X_train.to(other)
try:
    model(stray_input)
except (RuntimeError, NotImplementedError) as error:
    message = str(error).splitlines()[0]
    print(f"model on {device}, input on {other}:\n  {type(error).__name__}: {message}")
else:
    raise AssertionError("mixing devices should have failed")

# %%
# The fix is the second move above: put the input where the model is, ``x.to(device)``, or
# the model where the input is. A safe habit is to read the device off the model,
# ``next(model.parameters()).device``, and move each batch there as it arrives.
fixed = model(stray_input.to(device) if other.type != "meta" else data.X_train.to(device))
print("after x.to(device):", tuple(fixed.shape), "on", fixed.device)

# %%
# Asking for a device that does not exist is an error that lists what does:
try:
    resolve_device("cuda:99")
except DeviceNotAvailableError as error:
    print(f"{type(error).__name__}: {error}")
try:
    resolve_device("gpu")
except ValueError as error:
    print(f"{type(error).__name__}: {error}")
