"""CPU or GPU for *your* model: measure it here, explain it, and predict a recorded GPU.

:func:`advise` takes any ``nn.Module`` and example inputs and answers the site's question for
that model. The package has four parts, each importing only the ones before it:

- :mod:`devicelab.advise.bounds`: the four terms of a step, the bound they name, the device's
  own measured costs, and the verdict rule (:func:`decide`, which compares spreads);
- :mod:`devicelab.advise.prediction`: the step predicted on a recorded GPU;
- :mod:`devicelab.advise.report`: :func:`advise` itself, the measured devices and the batch
  test (:mod:`devicelab.advise.reasons` writes its sentences);
- :mod:`devicelab.advise.cli`: the command line.
"""

from __future__ import annotations

from .bounds import (
    BOUNDS,
    REMEDIES,
    REMEDIES_PAGE,
    VERDICTS,
    DeviceCosts,
    StepTerms,
    decide,
    device_costs,
    name_bound,
)
from .cli import advice_schema, advise_command, load_factory
from .prediction import Prediction, predict_from_record
from .report import Advice, BatchPoint, DeviceReport, advise

__all__ = [
    "BOUNDS",
    "REMEDIES",
    "REMEDIES_PAGE",
    "VERDICTS",
    "Advice",
    "BatchPoint",
    "DeviceCosts",
    "DeviceReport",
    "Prediction",
    "StepTerms",
    "advice_schema",
    "advise",
    "advise_command",
    "decide",
    "device_costs",
    "load_factory",
    "name_bound",
    "predict_from_record",
]
