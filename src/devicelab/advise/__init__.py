"""CPU or GPU for *your* model: measure it here, explain it, and predict a recorded GPU.

:func:`advise` takes any ``nn.Module`` and example inputs and answers the site's question for
that model. Its submodules (bounds, reasons, data_parallel, report, cli) each import only the
ones listed before them.
"""

from __future__ import annotations

from ..costmodel import BOUNDS, StepTerms, name_bound
from .bounds import REMEDIES, REMEDIES_PAGE, VERDICTS, decide
from .cli import advise_command
from .report import Advice, BatchPoint, DeviceReport, advise

__all__ = [
    "BOUNDS",
    "REMEDIES",
    "REMEDIES_PAGE",
    "VERDICTS",
    "Advice",
    "BatchPoint",
    "DeviceReport",
    "StepTerms",
    "advise",
    "advise_command",
    "decide",
    "name_bound",
]
