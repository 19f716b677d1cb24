"""What removes the overhead: the course's training, rewritten several ways and timed alike.

Every variant trains the same 4-10-3 MLP from the same initial weights, on the same data,
with the same learning rate and number of epochs, so the final losses must agree (within
float32 rounding) and only the time differs. The registry
(:data:`~devicelab.remedies.variants.REMEDIES`) names each variant, the devices it applies to,
and how to prepare it:

- ``course loop``: the course's loop, ``loss.item()`` every epoch. The baseline.
- ``no per-epoch sync``: the same loop, reading the loss once at the end.
- ``loss log on device``: keeps the whole loss curve, but on the device, copied once.
- ``batched models``: many models trained at once with batched matrix products: a larger
  batch per step, where Iris has no more data to give.
- ``hand-written gradients``: no autograd: fewer, fused operators
  (:func:`~devicelab.remedies.manual_step`).
- ``torch.compile``: :func:`torch.compile` of several hand-written epochs at once.
- ``one thread``: the course's loop with a one-thread intra-op pool (CPU).
- ``NumPy``: the hand-written maths in NumPy (CPU).
- ``CUDA graph``: several hand-written epochs captured once as a CUDA graph and replayed
  (CUDA).

:func:`train_remedy` trains one of them for a whole run. :func:`compare_remedies` instead
trains every
variant in short blocks of epochs, in paired rounds (:func:`devicelab.timing.compare`), so a
machine's drift cancels out of the speed-ups and each comes with an interval.
:func:`record_frequency_sweep` does the same for the ``loss.item()`` homework: blocks at each
record frequency, and the cost of one sync as a slope with its interval.
:func:`recorded_remedies` reads a record's comparison as rows (:class:`RemedyRow`, as
:meth:`RemedyComparison.rows` gives a live one), and :func:`remedy_table` and
:func:`plot_remedies` show them.
"""

from __future__ import annotations

from .fused import manual_step
from .prepared import Prepared, Setting
from .runs import (
    RECORD_EVERY,
    RemedyComparison,
    RemedyResult,
    RemedyRow,
    SyncSweep,
    compare_remedies,
    record_frequency_sweep,
    recorded_remedies,
    train_remedy,
)
from .show import plot_remedies, remedy_table
from .variants import REMEDIES, Remedy, remedy

__all__ = [
    "RECORD_EVERY",
    "REMEDIES",
    "Prepared",
    "Remedy",
    "RemedyComparison",
    "RemedyResult",
    "RemedyRow",
    "Setting",
    "SyncSweep",
    "compare_remedies",
    "manual_step",
    "plot_remedies",
    "record_frequency_sweep",
    "recorded_remedies",
    "remedy",
    "remedy_table",
    "train_remedy",
]
