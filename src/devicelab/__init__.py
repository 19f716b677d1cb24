"""devicelab: CPU vs GPU, explained and measured.

One concept per module:

- :mod:`devicelab.callables` -- ``Counter`` and ``Adder``, Python's ``__call__`` made visible.
- :mod:`devicelab.hardware` -- reading the CPU and the GPUs.
- :mod:`devicelab.devices` -- choosing a device explicitly, and waiting for it.
- :mod:`devicelab.data` -- Iris as the course prepares it.
- :mod:`devicelab.models` -- the course's 4-10-3 MLP.
- :mod:`devicelab.training` -- the course's loop, timed with the device synchronised.
- :mod:`devicelab.timing` -- warm-up, sync, repeats, median and spread over torch.utils.benchmark;
  paired rounds with intervals (``compare``).
- :mod:`devicelab.noise` -- how much the machine drifted while it was measured.
- :mod:`devicelab.overheads` -- transfer, launch and utilisation, each measured.
- :mod:`devicelab.explain` -- one training step split into parts that are measured and add up.
- :mod:`devicelab.floor` -- the course's epoch with no framework: the arithmetic floor.
- :mod:`devicelab.roofline` -- ceilings, counted FLOPs and bytes, and the predicted step time.
- :mod:`devicelab.remedies` -- the course's training rewritten to remove overhead.
- :mod:`devicelab.results` -- the recorded-results format, loading and saving.
- :mod:`devicelab.bench` -- every measurement at once (``python -m devicelab bench``).
- :mod:`devicelab.advise` -- CPU or GPU for your own model (``python -m devicelab advise``).
- :mod:`devicelab.zoo` -- the models of the "Your own model" page.
"""

from __future__ import annotations

__version__ = "0.1.0"
