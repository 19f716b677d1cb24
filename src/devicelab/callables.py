"""Two tiny classes that make Python's ``__call__`` protocol visible.

``nn.Module`` relies on the same protocol: ``layer(x)`` is ``type(layer).__call__(layer, x)``,
and ``nn.Module.__call__`` runs the hooks and then ``forward``. These classes show the idea
without torch in the way.
"""

from __future__ import annotations

__all__ = ["Adder", "Counter"]


class Counter:
    """A callable that counts how many times it has been called.

    The count lives on the instance, so it survives between calls: the thing a plain
    function cannot do without a global.

    Examples
    --------
    >>> tick = Counter()
    >>> tick(), tick(), tick.count
    (1, 2, 2)
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        """Add one to the count and return the new count."""
        self.count += 1
        return self.count


class Adder:
    """A callable that adds its two arguments and says so.

    Parameters
    ----------
    name:
        A label printed with each call, so several adders can be told apart.

    Examples
    --------
    >>> add = Adder()
    >>> add(2, 3)
    Adder: 2 + 3 = 5
    5
    """

    def __init__(self, name: str = "Adder") -> None:
        self.name = name

    def __call__(self, a: float, b: float) -> float:
        """Print ``a + b = result`` and return ``a + b``."""
        result = a + b
        print(f"{self.name}: {a} + {b} = {result}")
        return result
