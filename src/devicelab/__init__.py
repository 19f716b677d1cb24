"""devicelab: CPU vs GPU, explained and measured.

One concept per module, in five layers. A module imports only from its own layer and the ones
below it, never from above, so there is no import cycle. :data:`LAYERS` is the one description
of the layers: this text is written from it, and ``tests/test_layers.py`` checks every import
against it. The examples and the pages sit above all five: they show the lesson's own lines
(``.to(device)``, ``loss.item()``, ``model(x)``) and call the package for everything else.
"""

from __future__ import annotations

from typing import NamedTuple

__version__ = "0.1.0"

__all__ = ["LAYERS", "Layer", "__version__"]


class Layer(NamedTuple):
    """One layer of the package: a title, what its modules share, and the modules."""

    #: What the layer is, e.g. ``"Tools for measuring"``.
    title: str
    #: What its modules have in common, one sentence.
    rule: str
    #: Its modules, each a (name under ``devicelab``, what it holds) pair.
    modules: tuple[tuple[str, str], ...]


#: The five layers, bottom to top. A module not placed here fails ``tests/test_layers.py``.
LAYERS: tuple[Layer, ...] = (
    Layer(
        "Facts about the machine and the inputs",
        "They measure nothing and import nothing from the layers above.",
        (
            ("devices", 'choosing a device; ``None`` means ``"auto"`` everywhere'),
            ("data", "Iris, the course's data"),
            ("models", "the course's MLP and its initial weights"),
            ("zoo", 'models of other shapes to ask "CPU or GPU?" about'),
            ("hardware", "the CPU and the GPUs, their tables as data"),
            ("results", "the recorded-results format, a versioned JSON Schema"),
            ("display", "a long table folded behind its summary"),
            ("gpus", "GPU datasheets, each figure with its source"),
            ("doctor", "what the machine lacks, and the fix; the examples skip with its checks"),
        ),
    ),
    Layer(
        "Tools for measuring",
        "Every measurement of the site is built from these; they import only layer 1.",
        (
            ("steps", "the one training step, and laps for timing its phases"),
            ("timing", "the one timed block, the thread setting, ``measure`` and ``compare``"),
            ("stats", "an ``Interval`` for a claim, a ``Spread`` for how much a step varies"),
            (
                "operators",
                "what a step is: its operator list, the kind, phase, FLOPs and bytes "
                "of each call, traced once on the meta device",
            ),
            ("profiling", "what a step did when it ran: operator calls, kernels, busy time"),
        ),
    ),
    Layer(
        "Measurements, one lesson each",
        "Each runs the step of layer 2 and times it with its clock.",
        (
            ("training", "the course's run"),
            ("overheads", "transfer, launch and utilisation"),
            ("roofline", "the ceilings and the crossover"),
            ("explain", "a step in parts that add up"),
            ("floor", "the arithmetic floor, compiled with numba"),
            ("noise", "the machine's drift"),
            ("remedies", "what removes the overhead, a registry of variants"),
            ("first_step", "the first step in a fresh process against warm ones"),
            ("distributed", "the all-reduce and data-parallel training between processes"),
        ),
    ),
    Layer(
        "Models of cost",
        "They price a step without timing it: its operators, priced by a device.",
        (
            ("costmodel", "the one cost model: host per call, device time per size, overlap"),
            ("calibration", "a device measured for the model, once per process"),
            ("predict", "``predict_step``: this machine, a recorded GPU or a datasheet"),
        ),
    ),
    Layer(
        "Answers and everything at once",
        "They turn the measurements and the predictions into answers.",
        (
            ("advise", "CPU or GPU for your own model: bounds, verdict, report, command line"),
            ("bench", "every measurement into a recorded-results file, a registry of sections"),
            (
                "__main__",
                "the command line: ``report``, ``bench``, ``advise``, ``validate``, ``doctor``",
            ),
        ),
    ),
)


def _describe(layers: tuple[Layer, ...]) -> str:
    """The layers as a numbered reStructuredText list, for this module's docstring."""
    items = []
    for number, layer in enumerate(layers, 1):
        modules = "".join(
            f"\n   - ``{name}``: {what}"
            if name.startswith("_")
            else f"\n   - :mod:`~devicelab.{name}`: {what}"
            for name, what in layer.modules
        )
        items.append(f"{number}. **{layer.title}.** {layer.rule}\n{modules}")
    return "\n\n".join(items)


__doc__ = f"{__doc__ or ''}\n{_describe(LAYERS)}\n"
