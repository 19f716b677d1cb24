"""CPU or GPU for *your* model: measure it here, explain it, and predict a recorded GPU.

:func:`advise` takes any ``nn.Module`` and example inputs and answers the site's question for
that model. The package has five parts, each importing only the ones before it:

- :mod:`devicelab.advise.bounds`: the remedies for each bound, and the verdict rule
  (:func:`decide`, which compares spreads);
- :mod:`devicelab.advise.reasons`: the advice's sentences, each with the number it rests on;
- :mod:`devicelab.advise.data_parallel`: whether two processes would speed up the training
  step, and from which batch;
- :mod:`devicelab.advise.report`: :func:`advise` itself: the measured devices, each with its
  prediction from :func:`devicelab.predict.predict_step`, the GPU that is not here, predicted,
  and the batch test;
- :mod:`devicelab.advise.cli`: the command line.
"""

from __future__ import annotations

from .bounds import BOUNDS, REMEDIES, REMEDIES_PAGE, VERDICTS, StepTerms, decide, name_bound
from .cli import advice_schema, advise_command
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
    "advice_schema",
    "advise",
    "advise_command",
    "decide",
    "name_bound",
]
