"""The remedies, as a registry: each has a name, the devices it applies to, and a ``prepare``
that returns a :class:`~devicelab.remedies.prepared.Prepared` unit. The variants built on
autograd train with :func:`devicelab.steps.train_step`; the hand-written ones live in
:mod:`devicelab.remedies.fused`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..doctor import compile_unavailable
from ..models import initial_weights
from ..steps import StepSpec, course_step, run_steps, train_step
from ..timing import torch_threads
from .fused import prepare_compiled, prepare_cuda_graph, prepare_manual, prepare_numpy
from .prepared import Prepared, Setting, final_loss, model_from

__all__ = [
    "REMEDIES",
    "BatchedMLP",
    "Remedy",
    "prepare_batched",
    "prepare_course",
    "prepare_loss_log",
    "remedy",
]


def prepare_course(
    setting: Setting, record_every: int | None, label: str, threads: int | None = None
) -> Prepared:
    """The course's loop, ``loss.item()`` every ``record_every`` epochs (None: never inside a
    block), at ``threads`` torch threads (None: the current setting)."""
    model, data = model_from(setting.init, setting.device), setting.data
    spec = course_step(model, data, lr=setting.lr, sync_every=record_every)

    def run(first: int, last: int) -> None:
        with torch_threads(threads):
            run_steps(spec, first, last)

    return Prepared(label=label, run=run, final_loss=lambda: final_loss(model, data))


def prepare_loss_log(setting: Setting) -> Prepared:
    """Keep every epoch's loss in a tensor on the device, copied to the host once after
    training: one small copy kernel per epoch instead of one round-trip."""
    model, data = model_from(setting.init, setting.device), setting.data
    spec = course_step(model, data, lr=setting.lr, sync_every=None)
    log = torch.empty(setting.epochs, device=setting.device)

    def run(first: int, last: int) -> None:
        for epoch in range(first, last + 1):
            log[epoch - 1] = train_step(spec).detach()  # stays on the device: no sync

    def read_final_loss() -> float:
        curve = log.cpu()  # the one copy
        if not torch.isfinite(curve).all():
            raise RuntimeError("the on-device loss log holds a non-finite value")
        return final_loss(model, data)

    return Prepared(label="loss log kept on device", run=run, final_loss=read_final_loss)


class BatchedMLP(nn.Module):
    """``models`` course MLPs as one module: each layer is one batched matrix product. The
    forward returns every model's logits stacked as ``(models * n, 3)``, so a cross-entropy
    against the labels repeated ``models`` times trains each model on its own rows."""

    def __init__(self, inits: list[dict[str, torch.Tensor]]) -> None:
        super().__init__()

        def stack(key: str) -> nn.Parameter:
            return nn.Parameter(torch.stack([w[key] for w in inits]))

        self.W1, self.W2 = stack("fc1.weight"), stack("fc2.weight")
        self.b1 = nn.Parameter(torch.stack([w["fc1.bias"] for w in inits]).unsqueeze(1))
        self.b2 = nn.Parameter(torch.stack([w["fc2.bias"] for w in inits]).unsqueeze(1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits of every model on ``X``, shape ``(models * n, 3)``."""
        Xs = X.expand(self.W1.shape[0], *X.shape)
        h = torch.relu(torch.baddbmm(self.b1, Xs, self.W1.transpose(1, 2)))
        return torch.baddbmm(self.b2, h, self.W2.transpose(1, 2)).reshape(-1, 3)


def _summed_cross_entropy(models: int, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The sum of the per-model mean losses: each model gets exactly its own gradient."""
    return F.cross_entropy(logits, targets) * models


def prepare_batched(setting: Setting) -> Prepared:
    """Train ``setting.models`` independent MLPs in one set of batched matrix products: each
    operator ``models`` times bigger for about the same launch cost. Model 0 starts from
    ``setting.init`` (its final loss must match the course loop's), the others from seeds 1,
    2, ..."""
    models, data = setting.models, setting.data
    hidden = setting.init["fc1.weight"].shape[0]
    inits = [setting.init] + [initial_weights(seed, hidden) for seed in range(1, models)]
    module = BatchedMLP(inits).to(setting.device)
    optimizer = torch.optim.SGD(module.parameters(), lr=setting.lr)
    loss_fn = functools.partial(_summed_cross_entropy, models)
    spec = StepSpec(
        model=module,
        inputs=(data.X_train,),
        targets=data.y_train.repeat(models),
        loss_fn=loss_fn,
        optimizer=optimizer,
        sync_every=None,
        device=setting.device,
    )

    def read_final_loss() -> float:
        with torch.no_grad():
            return F.cross_entropy(module(data.X_train)[: len(data.y_train)], data.y_train).item()

    return Prepared(
        label=f"{models} models batched",
        run=lambda first, last: run_steps(spec, first, last),
        final_loss=read_final_loss,
        models=models,
    )


@dataclass(frozen=True, kw_only=True)
class Remedy:
    """One remedy of the registry.

    Attributes
    ----------
    why_not:
        Why it does not apply to other device types (``{device}`` is filled in).
    unrolled:
        Whether it trains ``setting.unroll`` epochs per call.
    missing:
        What this machine lacks to run it on a device, or None: the doctor's check
        (:func:`devicelab.doctor.compile_unavailable` for ``torch.compile``).
    """

    name: str
    device_types: tuple[str, ...] = ("cpu", "cuda", "mps")
    why_not: str = ""
    prepare: Callable[[Setting], Prepared]
    unrolled: bool = False
    missing: Callable[[torch.device], str | None] = lambda device: None  # nothing missing

    def applies_to(self, device: torch.device) -> bool:
        """Whether this remedy runs on ``device``, on this machine."""
        return device.type in self.device_types and self.missing(device) is None

    def reason(self, device: torch.device) -> str:
        """Why it was skipped on ``device``: the device type, or what this machine lacks."""
        if device.type not in self.device_types:
            return self.why_not.format(device=device)
        return self.missing(device) or ""


#: Every remedy, in the order the pages show them; the course's loop, the baseline, first.
REMEDIES: dict[str, Remedy] = {
    r.name: r
    for r in (
        Remedy(
            name="course loop",
            prepare=lambda s: prepare_course(s, 1, "course loop (item every epoch)"),
        ),
        Remedy(
            name="no per-epoch sync", prepare=lambda s: prepare_course(s, None, "no per-epoch sync")
        ),
        Remedy(name="loss log on device", prepare=prepare_loss_log),
        Remedy(name="batched models", prepare=prepare_batched),
        Remedy(name="hand-written gradients", prepare=prepare_manual),
        Remedy(
            name="torch.compile",
            prepare=prepare_compiled,
            unrolled=True,
            missing=compile_unavailable,
        ),
        Remedy(
            name="one thread",
            device_types=("cpu",),
            why_not="the thread pool is a CPU setting; the GPU run does not use it",
            prepare=lambda s: prepare_course(s, 1, "course loop, 1 thread", threads=1),
        ),
        Remedy(
            name="NumPy",
            device_types=("cpu",),
            why_not="NumPy runs on the CPU only",
            prepare=prepare_numpy,
        ),
        Remedy(
            name="CUDA graph",
            device_types=("cuda",),
            why_not="CUDA graphs need a CUDA device; this run is on {device}",
            prepare=prepare_cuda_graph,
            unrolled=True,
        ),
    )
}


def remedy(name: str) -> Remedy:
    """The remedy called ``name``.

    Raises
    ------
    ValueError
        An unknown name; the message lists the known ones.
    """
    if name not in REMEDIES:
        raise ValueError(f"unknown remedy {name!r}; known: {', '.join(REMEDIES)}")
    return REMEDIES[name]
