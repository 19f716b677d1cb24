"""
Why ``self.fc1(x)`` runs ``forward``: Python's ``__call__``
===========================================================

``self.fc1(x)`` works because Python turns ``obj(x)`` into ``type(obj).__call__(obj, x)``, and
every ``nn.Module`` inherits a ``__call__`` that runs the module's :term:`hooks <hook>` and then
its ``forward``. So a model calls its layers, never their ``.forward``.

In the course's MLP, ``forward`` reads ``out = self.fc1(x)``. ``self.fc1`` is an ``nn.Linear``
*object*, not a function, yet it can be called like one. This page writes the course's two
small classes that show how, then follows one ``model(x)`` through the MLP.

**What you will learn**

- a class with ``__call__`` makes its instances :term:`callable objects <callable object>`,
  and they keep state between calls (``Counter``), or take arguments like a function
  (``Adder``);
- ``layer(x)`` is ``type(layer).__call__(layer, x)``, and for every layer that method is
  ``nn.Module.__call__``;
- why a model calls ``self.fc1(x)`` and not ``self.fc1.forward(x)``: the second skips the hooks;
- the chain of calls that one ``model(x)`` sets off in the course's MLP.
"""

# %%
# A callable object that keeps state: ``Counter``
# -----------------------------------------------
# The course's first class defines ``__call__`` with no arguments besides ``self``. Calling
# the instance, ``counter()``, runs that method. The count is an attribute of the instance, so
# it survives from one call to the next: what a plain function could only do with a global
# variable.
#
# .. rst-class:: course-code
class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        return self.count


counter = Counter()
print(counter())  # 1
print(counter())  # 2
print(counter.count)  # 2

# sphinx_gallery_start_ignore
assert callable(counter) and counter.count == 2
assert not callable(counter.count)
# sphinx_gallery_end_ignore

# %%
# ``counter()`` is shorthand. Python looks ``__call__`` up on the object's *type*, not on the
# object itself, and passes the object as ``self``. Written out, the same call reads:
print(type(counter).__call__(counter))  # 3: the same method, the same state

# %%
# That lookup on the type is why a ``__call__`` attached to one instance afterwards does not
# make it callable: ``callable()`` asks the class. Each ``Counter()`` has its own count, as
# each ``nn.Linear`` has its own weights.

# %%
# A call with arguments: ``Adder``
# --------------------------------
# ``__call__`` takes arguments like any other method. The course's ``Adder`` says what it
# does, then returns the sum, so the call prints a line *and* has a value.
#
# .. rst-class:: course-code
class Adder:
    def __call__(self, a, b):
        result = a + b
        print(f"{a} + {b} = {result}")
        return result


adder = Adder()
total = adder(3, 5)
print("adder(3, 5) returned", total)

# sphinx_gallery_start_ignore
assert total == 8
# sphinx_gallery_end_ignore

# %%
# ``nn.Linear`` is such an object
# -------------------------------
# ``nn.Linear`` does not define ``__call__`` itself: it inherits the one from ``nn.Module``.
# So ``layer(x)`` runs ``nn.Module.__call__``, and that method calls ``Linear.forward``. The
# numbers are the same as a direct ``layer.forward(x)``; the difference is what else runs.
#
# .. rst-class:: course-code
import torch
from torch import nn

torch.manual_seed(0)
layer = nn.Linear(4, 10)
x = torch.rand(2, 4)

print("callable(layer):", callable(layer))
print("type(layer).__call__ is nn.Module.__call__:", type(layer).__call__ is nn.Module.__call__)
print("nn.Linear defines its own __call__:", "__call__" in vars(nn.Linear))
print("layer(x) equals layer.forward(x):", torch.equal(layer(x), layer.forward(x)))

# sphinx_gallery_start_ignore
assert type(layer).__call__ is nn.Module.__call__
assert "__call__" not in vars(nn.Linear)
assert torch.equal(layer(x), layer.forward(x))
# sphinx_gallery_end_ignore

# %%
# Why ``self.fc1(x)`` and not ``self.fc1.forward(x)``: hooks
# ----------------------------------------------------------
# ``nn.Module.__call__`` does more than call ``forward``. It runs the module's *forward
# pre-hooks* before it, and its *forward hooks* after it: functions that anyone may register
# on a module. :term:`Profilers <profiler>`, activation recorders, pruning, quantisation and gradient
# checkpointing all work through them. Calling ``.forward`` yourself gives the same
# numbers and silently skips every hook.
#
# Here two hooks each write one line into a list: one before the :term:`forward pass` of the
# layer, one after it. The same input goes through ``layer(x)`` and then through
# ``layer.forward(x)``.
events = []


def before(module, inputs):
    events.append(f"pre-hook saw input {tuple(inputs[0].shape)}")


def after(module, inputs, output):
    events.append(f"hook saw output {tuple(output.shape)}")


handles = [layer.register_forward_pre_hook(before), layer.register_forward_hook(after)]

events.clear()
layer(x)
print("layer(x) ran:        ", events)
via_call = list(events)

events.clear()
layer.forward(x)
print("layer.forward(x) ran:", events or "no hook at all")
via_forward = list(events)

for handle in handles:
    handle.remove()

# sphinx_gallery_start_ignore
assert via_call == ["pre-hook saw input (2, 4)", "hook saw output (2, 10)"]
assert via_forward == []
# sphinx_gallery_end_ignore

# %%
# The hooks ran only on the call through the module. A model whose ``forward`` wrote
# ``self.fc1.forward(x)`` would work today and break, without an error, the day someone
# profiles or prunes it.

# %%
# The course's MLP, and the chain of calls one ``model(x)`` sets off
# ------------------------------------------------------------------
# The course's model: ``fc1 = nn.Linear(4, 10)``, a ``ReLU``, ``fc2 = nn.Linear(10, 3)``. Its
# ``forward`` calls each layer as an object. ``nn.ReLU()`` is a thin module around the
# function ``torch.relu``: same numbers, but as a module it can sit in the model like the
# layers, print in its ``repr`` and carry hooks.
#
# .. rst-class:: course-code
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        out = self.fc1(x)  # nn.Module.__call__ -> hooks -> Linear.forward
        out = self.relu(out)  # nn.Module.__call__ -> hooks -> ReLU.forward -> torch.relu
        out = self.fc2(out)
        return out


torch.manual_seed(0)
model = MLP()
features = torch.rand(5, 4)  # five flowers, four measurements each
logits = model(features)
print("model(features) has shape", tuple(logits.shape))

# sphinx_gallery_start_ignore
assert logits.shape == (5, 3)
z = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
assert torch.equal(nn.ReLU()(z), torch.relu(z))
# sphinx_gallery_end_ignore

# %%
# To see the chain, register a forward pre-hook on the model and on each of its layers. Each
# hook writes which object's ``__call__`` was reached and which ``forward`` it is about to
# run, with the shape of the input. ``named_modules()`` yields the model itself (with the
# empty name) and then its layers.
chain = []
for name, module in model.named_modules():
    label = name or "model"
    module.register_forward_pre_hook(
        lambda mod, inputs, label=label: chain.append(
            f"{label}.__call__ -> {type(mod).__name__}.forward{tuple(inputs[0].shape)}"
        )
    )

model(features)
print("\n".join(chain))

# sphinx_gallery_start_ignore
assert chain == [
    "model.__call__ -> MLP.forward(5, 4)",
    "fc1.__call__ -> Linear.forward(5, 4)",
    "relu.__call__ -> ReLU.forward(5, 10)",
    "fc2.__call__ -> Linear.forward(5, 10)",
]
# sphinx_gallery_end_ignore

# %%
# One ``model(features)`` is four trips through ``nn.Module.__call__``: one for the model,
# whose ``forward`` then calls each layer in turn, and one for each layer. Every trip checks
# for hooks before it reaches the arithmetic: Python work, paid on every call, that the
# :term:`overhead` pages of this site put a price on.

# %%
# Summary
# -------
# - ``obj(...)`` means ``type(obj).__call__(obj, ...)``. A class that defines ``__call__``
#   makes callable objects, which can keep state between calls (``Counter``) or take
#   arguments (``Adder``).
# - Every layer and model inherits ``__call__`` from ``nn.Module``; it runs the hooks, then
#   your ``forward``.
# - Write ``self.fc1(x)`` and ``model(x)``, never ``.forward(x)``: the numbers are the same,
#   but the hooks are skipped.
# - One call to the course's MLP passes through ``nn.Module.__call__`` once for the model and
#   once for each of its three layers.
#
# Exercises
# ---------
# 1. Give ``Counter`` a ``reset()`` method, make two counters, call one three times and the
#    other once, and print both counts. Why are they independent?
# 2. Add a ``name`` argument to ``Adder.__init__`` and print it in ``__call__``. Then set
#    ``adder.__call__ = lambda a, b: 0`` on one instance and call ``adder(1, 2)``: which
#    method runs, and why?
# 3. Register a forward hook on ``model.relu`` that counts how many outputs are exactly zero,
#    run ``model(features)``, then run ``model.relu.forward(...)`` yourself on the same
#    input. When does the hook count?
