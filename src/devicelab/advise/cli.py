"""What ``python -m devicelab advise`` runs: a model from ``MODULE:CALLABLE``, random inputs."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..models import load_factory
from .report import Advice, advise

__all__ = ["advise_command"]


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"{what} must be comma-separated integers like 64,3,32,32, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise ValueError(f"{what} must be positive integers like 64,3,32,32, got {text!r}")
    return values


def advise_command(
    spec: str,
    input_shapes: Sequence[str],
    *,
    classes: int | None = None,
    batch: str | None = None,
    record: str | None = None,
    gpu: str | None = None,
    inference: bool = False,
) -> Advice:
    """What ``python -m devicelab advise`` runs: build the model from ``MODULE:CALLABLE``,
    random float32 inputs of each shape and random class targets, then :func:`advise`.
    ``gpu`` (a datasheet name) and ``record`` (a results file) are ignored, with a note on
    stderr, when a CUDA GPU is present.

    Raises
    ------
    ValueError
        A malformed spec or shape, a factory that does not return a module, ``classes`` < 1,
        or anything :func:`advise` refuses.
    """
    model = load_factory(spec)()
    if not isinstance(model, nn.Module):
        raise ValueError(f"{spec} returned {type(model).__name__}, not a torch.nn.Module")
    generator = torch.Generator().manual_seed(0)
    inputs = [
        torch.randn(*_ints(shape, "--input-shape"), generator=generator) for shape in input_shapes
    ]
    targets = None
    if not inference:
        if classes is None:
            with torch.no_grad():
                try:
                    classes = model(*inputs).shape[-1]
                except Exception as error:
                    raise RuntimeError(
                        f"{type(model).__name__} raised on inputs of shape "
                        f"{', '.join(input_shapes)}: {error}"
                    ) from error
        if classes < 1:
            raise ValueError(f"--classes must be at least 1, got {classes}")
        targets = torch.randint(0, classes, (inputs[0].shape[0],), generator=generator)
    if (gpu is not None or record is not None) and torch.cuda.is_available():
        given = "--gpu" if gpu is not None else "--record"
        print(
            f"note: {given} is ignored: this machine's CUDA GPU is measured, not predicted",
            file=sys.stderr,
        )
    if gpu is not None and record is not None:
        raise ValueError("pass the GPU to predict as gpu=... or record=..., not both")
    if record is not None:
        from ..results import load_results

        gpu = load_results(record)
    return advise(
        model,
        inputs,
        targets=targets,
        loss_fn=None if inference else F.cross_entropy,
        batch_sizes=_ints(batch, "--batch") if batch else None,
        gpu=gpu,
    )
