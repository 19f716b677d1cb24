"""devicelab: CPU vs GPU, explained and measured.

One concept per module, in five layers; a module imports only from its own layer and the ones
below (``CONTRIBUTING.md`` and the API page describe them).

1. Facts: :mod:`~devicelab.devices` (choosing a device; ``None`` means ``"auto"``
   everywhere), :mod:`~devicelab.data` (Iris), :mod:`~devicelab.models` (the course's MLP and
   its initial weights), :mod:`~devicelab.zoo`, :mod:`~devicelab.hardware` (the CPU and the GPUs),
   :mod:`~devicelab.results` (the recorded-results format) and :mod:`~devicelab.doctor` (what
   the machine lacks, and the fix).
2. Tools: :mod:`~devicelab.steps` (the one training step), :mod:`~devicelab.timing` (the one
   timed block, the thread setting, ``measure`` and ``compare``), :mod:`~devicelab.stats`
   (intervals and spreads), :mod:`~devicelab.operators` (what a step is: its operators,
   FLOPs and bytes) and :mod:`~devicelab.profiling` (what a step did: operators, kernels,
   busy time).
3. Measurements: :mod:`~devicelab.training` (the course's loop), :mod:`~devicelab.overheads`
   (transfer, launch, utilisation), :mod:`~devicelab.roofline` (ceilings and the crossover),
   :mod:`~devicelab.explain` (a step in parts that add up), :mod:`~devicelab.floor` (the
   arithmetic floor), :mod:`~devicelab.noise` (the machine's drift),
   :mod:`~devicelab.remedies` (what removes the overhead), :mod:`~devicelab.first_step`
   (the first step against warm ones) and :mod:`~devicelab.distributed` (talking to other
   devices: the all-reduce and data-parallel training).
4. Answers: :mod:`~devicelab.advise` (CPU or GPU for your own model).
5. Everything at once: :mod:`~devicelab.bench` (``python -m devicelab bench``).
"""

from __future__ import annotations

__version__ = "0.1.0"
