"""devicelab: CPU vs GPU, explained and measured.

One concept per module:

- :mod:`devicelab.callables` -- ``Counter`` and ``Adder``, Python's ``__call__`` made visible.
- :mod:`devicelab.devices` -- choosing a device explicitly, and waiting for it.
- :mod:`devicelab.data` -- Iris as the course prepares it.
- :mod:`devicelab.models` -- the course's 4-10-3 MLP.
- :mod:`devicelab.training` -- the course's loop, timed with the device synchronised.
"""

from __future__ import annotations

__version__ = "0.1.0"
