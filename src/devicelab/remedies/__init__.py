"""What removes the overhead: the course's training, rewritten several ways
(:data:`~devicelab.remedies.variants.REMEDIES`) and timed alike.

Every variant trains the same 4-10-3 MLP from the same initial weights, on the same data,
with the same learning rate and number of epochs, so the final losses must agree (within
float32 rounding) and only the time differs.
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
