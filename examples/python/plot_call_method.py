"""
Why ``self.fc1(x)`` runs ``forward``: Python's ``__call__``
===========================================================

In a PyTorch model we write ``out = self.fc1(x)``, yet the maths lives in a method called
``forward``. Nothing magic joins the two: ``nn.Linear`` is a class whose instances are
*callable*, because ``nn.Module`` defines ``__call__``.

**What you will learn**

- a class with ``__call__`` makes its instances callable, and they keep state between calls;
- ``layer(x)`` is ``type(layer).__call__(layer, x)``, and ``nn.Module.__call__`` runs the
  hooks and then ``forward``;
- why you should call the module, not ``.forward``: calling ``.forward`` skips the hooks;
- ``nn.ReLU()`` is a module wrapped around ``torch.relu``: same numbers, one interface.
"""

# %%
# A callable object keeps state: ``Counter``
# ------------------------------------------
# ``Counter`` defines ``__call__`` with no arguments. Calling the instance runs that method,
# and the count lives on the instance between calls.
import torch
from torch import nn

from devicelab.callables import Adder, Counter

tick = Counter()
print("callable(tick) ->", callable(tick))
print("tick() ->", tick())
print("tick() ->", tick())
print("tick.count ->", tick.count)

# %%
# ``tick()`` is shorthand: Python looks ``__call__`` up on the *type*, not the instance.
print("type(tick).__call__(tick) ->", type(tick).__call__(tick))

# sphinx_gallery_start_ignore
assert callable(tick) and tick.count == 3
assert not callable(tick.count)
# sphinx_gallery_end_ignore

# %%
# A call with arguments: ``Adder``
# --------------------------------
# ``__call__`` takes arguments like any method. ``Adder`` prints what it does and returns the sum.
add = Adder()
result = add(2, 3)
print("result ->", result)

# sphinx_gallery_start_ignore
assert result == 5
# sphinx_gallery_end_ignore

# %%
# ``nn.Linear`` is such an object
# -------------------------------
# ``layer(x)`` does not call ``Linear.forward`` directly. It calls ``nn.Module.__call__``,
# which ``nn.Linear`` inherits; that method runs any hooks, then ``forward``.
torch.manual_seed(0)
layer = nn.Linear(4, 10)
x = torch.rand(2, 4)

print("callable(layer) ->", callable(layer))
print("type(layer).__call__ is nn.Module.__call__ ->", type(layer).__call__ is nn.Module.__call__)
print("'__call__' defined on nn.Linear itself ->", "__call__" in vars(nn.Linear))
print("layer(x) equals layer.forward(x) ->", torch.equal(layer(x), layer.forward(x)))

# sphinx_gallery_start_ignore
assert type(layer).__call__ is nn.Module.__call__
assert "__call__" not in vars(nn.Linear)
assert torch.equal(layer(x), layer.forward(x))
# sphinx_gallery_end_ignore

# %%
# Why ``self.fc1(x)`` and not ``self.fc1.forward(x)``: hooks
# ----------------------------------------------------------
# ``nn.Module.__call__`` does more than forward: it runs *pre-forward* hooks before and
# *forward* hooks after. Profilers, quantisation, pruning, ``torch.compile`` guards and
# libraries such as ``torch.utils.checkpoint`` build on them. Calling ``.forward`` directly
# bypasses all of it, silently.
events: list[str] = []


def before(module, inputs):
    events.append(f"pre-forward hook: input shape {tuple(inputs[0].shape)}")


def after(module, inputs, output):
    events.append(f"forward hook: output shape {tuple(output.shape)}")


handles = [layer.register_forward_pre_hook(before), layer.register_forward_hook(after)]

events.clear()
layer(x)
print("layer(x) ran:", events)
calls_via_module = list(events)

events.clear()
layer.forward(x)
print("layer.forward(x) ran:", events or "no hooks at all")
calls_via_forward = list(events)

for handle in handles:
    handle.remove()

# sphinx_gallery_start_ignore
assert calls_via_module == [
    "pre-forward hook: input shape (2, 4)",
    "forward hook: output shape (2, 10)",
]
assert calls_via_forward == []
# sphinx_gallery_end_ignore

# %%
# ``nn.ReLU`` is a module around ``torch.relu``
# ---------------------------------------------
# The module and the function give identical numbers. The module form exists so an
# activation can sit in ``nn.Sequential``, be hooked, and print in the model's ``repr``.
relu = nn.ReLU()
z = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
print("nn.ReLU()(z) ->", relu(z))
print("torch.relu(z) ->", torch.relu(z))
print("identical ->", torch.equal(relu(z), torch.relu(z)))

# sphinx_gallery_start_ignore
assert torch.equal(relu(z), torch.relu(z))
# sphinx_gallery_end_ignore

# %%
# The course's MLP, and the chain of calls one ``model(x)`` sets off
# ------------------------------------------------------------------
# The course's model, written out: ``fc1 = Linear(4, 10)``, ``ReLU``, ``fc2 = Linear(10, 3)``.
# A forward pre-hook on every submodule records the order in which ``__call__`` reaches them.


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        out = self.fc1(x)  # Module.__call__ -> hooks -> Linear.forward
        out = self.relu(out)  # Module.__call__ -> hooks -> ReLU.forward -> torch.relu
        out = self.fc2(out)
        return out


model = MLP()
chain: list[str] = []
for name, module in model.named_modules():
    label = name or "model"
    module.register_forward_pre_hook(
        lambda mod, inputs, label=label: chain.append(
            f"{label}.__call__ -> {type(mod).__name__}.forward{tuple(inputs[0].shape)}"
        )
    )

batch = torch.rand(5, 4)
logits = model(batch)
print("\n".join(chain))
print("logits shape ->", tuple(logits.shape))

# sphinx_gallery_start_ignore
assert chain == [
    "model.__call__ -> MLP.forward(5, 4)",
    "fc1.__call__ -> Linear.forward(5, 4)",
    "relu.__call__ -> ReLU.forward(5, 10)",
    "fc2.__call__ -> Linear.forward(5, 10)",
]
assert logits.shape == (5, 3)
# sphinx_gallery_end_ignore

# %%
# Takeaways
# ---------
# - ``obj(...)`` means ``type(obj).__call__(obj, ...)``; ``Counter`` and ``Adder`` show it
#   with no torch involved.
# - Every ``nn.Module`` inherits ``__call__`` from ``nn.Module``; it runs hooks and then your
#   ``forward``.
# - Write ``self.fc1(x)``, never ``self.fc1.forward(x)``: the second skips every hook.
