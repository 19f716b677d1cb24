"""devicelab: CPU vs GPU, explained and measured.

One concept per module:

- :mod:`devicelab.callables` -- ``Counter`` and ``Adder``, Python's ``__call__`` made visible.
- :mod:`devicelab.hardware` -- reading the CPU and the GPUs.
- :mod:`devicelab.devices` -- choosing a device explicitly, and waiting for it.
- :mod:`devicelab.data` -- Iris as the course prepares it.
- :mod:`devicelab.models` -- the course's 4-10-3 MLP.
- :mod:`devicelab.training` -- the course's loop, timed with the device synchronised.
- :mod:`devicelab.timing` -- warm-up, sync, repeats, median and spread over torch.utils.benchmark.
- :mod:`devicelab.overheads` -- transfer, launch and utilisation, each measured.
- :mod:`devicelab.remedies` -- the course's training rewritten to remove overhead.
- :mod:`devicelab.results` -- the recorded-results format, loading and saving.
- :mod:`devicelab.bench` -- every measurement at once (``python -m devicelab bench``).
"""

from __future__ import annotations

__version__ = "0.1.0"
