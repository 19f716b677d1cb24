"""The bound and the verdict: which overhead decides a step, and which device wins.

The bound (:func:`devicelab.costmodel.name_bound`) comes from the device's calibration and the
step's counted operators, never from the number of parameters.
"""

from __future__ import annotations

from ..stats import Spread

__all__ = ["REMEDIES", "REMEDIES_PAGE", "VERDICTS", "decide"]

#: The answers :func:`~devicelab.advise.decide` gives.
VERDICTS = ("cpu", "gpu", "either")
#: The remedies page, relative to the site's root.
REMEDIES_PAGE = "auto_examples/overheads/plot_remedies.html"
#: What helps a step under each bound (each measured on :data:`REMEDIES_PAGE`).
REMEDIES: dict[str, list[str]] = {
    "launch/dispatch-bound": [
        "give each operator more work: a larger batch, or several models batched into one",
        "issue fewer operators: fused or hand-written steps, torch.compile, CUDA graphs",
    ],
    "sync-bound": [
        "read the loss (.item()) every N steps, or keep the loss log on the device",
        "never print or branch on a GPU value inside the loop",
    ],
    "memory-bound": [
        "fuse elementwise operators (torch.compile) so activations are read and written once",
        "use lower precision (bfloat16) to halve the bytes moved",
    ],
    "compute-bound": [
        "use the GPU: its compute ceiling is far above a CPU's",
        "allow TF32 or bfloat16 matrix products on the GPU",
    ],
}


def decide(cpu: Spread, gpu: Spread) -> str:
    """``"cpu"`` or ``"gpu"`` for the faster, ``"either"`` when their spreads overlap.

    The rule compares *spreads* (:attr:`devicelab.advise.DeviceReport.spread`,
    :attr:`devicelab.costmodel.StepPrediction.spread`), not confidence intervals: a device wins
    only when its whole range lies below the other's.

    Raises
    ------
    TypeError
        An argument is not a :class:`~devicelab.stats.Spread` (e.g. an interval of a median).
    """
    for name, value in (("cpu", cpu), ("gpu", gpu)):
        if not isinstance(value, Spread):
            raise TypeError(
                f"{name} must be a devicelab.stats.Spread (a step's range), got "
                f"{type(value).__name__}"
            )
    if cpu.high < gpu.low:
        return "cpu"
    if gpu.high < cpu.low:
        return "gpu"
    return "either"
