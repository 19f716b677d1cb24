"""Timing the remedies: one variant for a whole run, or all of them in paired rounds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..data import IrisData
from ..devices import resolve_device
from ..results import ResultsError
from ..stats import Comparison, Interval, slope_interval
from ..timing import BlockTimes, compare, timed_blocks
from .prepared import Prepared, Setting, check_unroll
from .variants import REMEDIES, prepare_course, remedy

__all__ = [
    "RECORD_EVERY",
    "RemedyComparison",
    "RemedyResult",
    "RemedyRow",
    "SyncSweep",
    "compare_remedies",
    "record_frequency_sweep",
    "recorded_remedies",
    "train_remedy",
]


@dataclass(frozen=True, kw_only=True)
class RemedyResult(BlockTimes):
    """One variant's timed training run: seconds per epoch in each timed block, the untimed
    one-off ``setup_s`` (compilation, graph capture), and the final training loss (model 0
    when several train at once)."""

    name: str
    device: str
    epochs: int
    models: int
    wall_time_s: float
    block_epoch_times_s: list[float]
    setup_s: float
    final_loss: float

    @property
    def epoch_time_per_model_s(self) -> float:
        """Median seconds per epoch divided by the number of models trained at once."""
        return self.epoch_time_s / self.models


def _check(epochs: int, lr: float) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")


def _setting(
    data: IrisData, init: dict[str, torch.Tensor], lr: float, device: torch.device, **sizes: int
) -> Setting:
    """The :class:`~devicelab.remedies.prepared.Setting` of a run, data moved to ``device``."""
    return Setting(data=data.to(device), init=init, lr=lr, device=device, **sizes)


def train_remedy(
    name: str,
    data: IrisData,
    init: dict[str, torch.Tensor],
    *,
    epochs: int = 20_000,
    lr: float = 0.01,
    device: str | torch.device | None = "cpu",
    unroll: int = 20,
    models: int = 32,
) -> RemedyResult:
    """Train the remedy ``name`` (a key of :data:`~devicelab.remedies.variants.REMEDIES`) once,
    for the whole run, timed in blocks of epochs.

    Raises
    ------
    ValueError
        An unknown remedy, one that does not apply to ``device`` (the message says why), a
        non-positive ``epochs``, ``lr`` or ``models``, or, for an unrolled remedy, an ``unroll``
        that does not divide ``epochs``.
    """
    _check(epochs, lr)
    chosen = remedy(name)
    device = resolve_device(device)
    if not chosen.applies_to(device):
        raise ValueError(f"{name} does not run on {device}: {chosen.reason(device)}")
    if models < 1:
        raise ValueError(f"models must be at least 1, got {models}")
    if chosen.unrolled:
        check_unroll(epochs, unroll)
    unit = chosen.prepare(
        _setting(data, init, lr, device, epochs=epochs, unroll=unroll, models=models)
    )
    per_call = unit.epochs_per_call  # timed in blocks of whole calls

    def calls(first: int, last: int) -> None:
        unit.run((first - 1) * per_call + 1, last * per_call)

    wall, call_times = timed_blocks(calls, epochs // per_call, device)
    return RemedyResult(
        name=unit.label,
        device=str(device),
        epochs=epochs,
        models=unit.models,
        wall_time_s=wall,
        block_epoch_times_s=[t / per_call for t in call_times],
        setup_s=unit.setup_s,
        final_loss=unit.final_loss(),
    )


def _paired_blocks(
    units: list[Prepared],
    block_epochs: int,
    rounds: int,
    device: torch.device,
    num_threads: int | None,
    extra: dict[str, Callable[[], object]] | None = None,
) -> Comparison:
    """Every unit's next ``block_epochs`` epochs (and every ``extra`` callable), timed in
    ``rounds`` paired rounds after one untimed block, against the first unit."""

    def unit_for(prepared: Prepared) -> Callable[[], None]:
        done = 0

        def block() -> None:
            nonlocal done
            prepared.run(done + 1, done + block_epochs)
            done += block_epochs

        return block

    return compare(
        {u.label: unit_for(u) for u in units} | dict(extra or {}),
        baseline=units[0].label,
        rounds=rounds,
        warmup=1,
        device=device,
        num_threads=num_threads,
    )


@dataclass(frozen=True, kw_only=True)
class RemedyRow:
    """One variant of a remedies comparison, live or recorded, as a page shows it: median
    seconds per epoch per model and the speed-up per model over the course's loop, each with
    its interval (None for a record that timed each variant once, with no rounds)."""

    name: str
    models: int
    epoch_time_s: float
    epoch_time_interval_s: tuple[float, float] | None
    speedup: float
    speedup_interval: tuple[float, float] | None
    setup_s: float
    final_loss: float


@dataclass(frozen=True, kw_only=True)
class RemedyComparison:
    """The remedies timed in paired rounds of short blocks (:func:`compare_remedies`):
    ``comparison`` holds seconds per block, against the course's loop; ``epochs`` counts every
    epoch each variant trained (warm-up included), after which ``final_losses`` are read."""

    device: str
    block_epochs: int
    epochs: int
    comparison: Comparison
    models: dict[str, int]
    setup_s: dict[str, float]
    final_losses: dict[str, float]
    skipped: dict[str, str]

    @property
    def baseline(self) -> str:
        """The course's loop, which every speed-up is relative to."""
        return self.comparison.baseline

    def epoch_time(self, name: str) -> Interval:
        """Seconds per epoch per model of ``name``: its median block time and interval."""
        return self.comparison.intervals[name].scaled(1 / (self.block_epochs * self.models[name]))

    def speedup(self, name: str) -> Interval:
        """How many times faster per model than the course's loop, paired by round."""
        return self.comparison.speedups[name].scaled(self.models[name])

    def rows(self) -> list[RemedyRow]:
        """One :class:`RemedyRow` per variant, the course's loop first."""
        return [_row(v) for v in self.to_dict()["variants"]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the comparison and, per variant, epoch time and speed-up."""
        variants = [
            {
                "name": name,
                "models": self.models[name],
                "setup_s": self.setup_s[name],
                "final_loss": self.final_losses[name],
                "epoch_time_per_model_s": self.epoch_time(name).to_dict(),
                "speedup": self.speedup(name).to_dict(),
            }
            for name in self.comparison.samples
        ]
        return {
            "device": self.device,
            "block_epochs": self.block_epochs,
            "epochs": self.epochs,
            "baseline": self.baseline,
            "variants": variants,
            "skipped": self.skipped,
            "comparison": self.comparison.to_dict(),
        }


def compare_remedies(
    data: IrisData,
    init: dict[str, torch.Tensor],
    *,
    device: str | torch.device | None = "cpu",
    block_epochs: int = 200,
    rounds: int = 10,
    unroll: int = 20,
    models: int = 32,
    lr: float = 0.01,
    num_threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RemedyComparison:
    """Every remedy that applies to ``device``, timed against the course's loop in paired rounds.

    Each variant trains from ``init`` in blocks of ``block_epochs`` epochs, in ``rounds`` paired
    rounds (:func:`devicelab.timing.compare`), at ``num_threads`` (None: the current setting)
    except "one thread" and the compiled step on the CPU, which run at one thread.

    Raises
    ------
    ValueError
        ``block_epochs`` is not a positive multiple of ``unroll``, or ``rounds`` < 2.
    """
    _check(block_epochs, lr)
    check_unroll(block_epochs, unroll)
    device = resolve_device(device)
    epochs = (1 + rounds) * block_epochs
    setting = _setting(data, init, lr, device, epochs=epochs, unroll=unroll, models=models)
    units, skipped = [], {}
    for name, variant in REMEDIES.items():
        if not variant.applies_to(device):
            skipped[name] = variant.reason(device)
            continue
        if progress:
            progress(f"remedy: preparing {name} on {device}")
        units.append(variant.prepare(setting))
    if progress:
        progress(f"remedies: {rounds} paired rounds of {block_epochs} epochs on {device}")
    return RemedyComparison(
        device=str(device),
        block_epochs=block_epochs,
        epochs=epochs,
        comparison=_paired_blocks(units, block_epochs, rounds, device, num_threads),
        models={u.label: u.models for u in units},
        setup_s={u.label: u.setup_s for u in units},
        final_losses={u.label: u.final_loss() for u in units},
        skipped=skipped,
    )


def recorded_remedies(record: dict[str, Any]) -> tuple[list[RemedyRow], dict[str, str]]:
    """A record's remedies, whatever its version: one :class:`RemedyRow` per variant, and the
    remedies it skipped with the reason.

    Raises
    ------
    ResultsError
        The record has no remedies measurement.
    """
    measured = record.get("measurements", {}).get("remedies")
    if measured is None:
        raise ResultsError(f"{record.get('device_name', 'this record')} has no remedies measured")
    rows = [_row(v) for v in measured.get("variants", measured.get("results", []))]
    return rows, dict(measured.get("skipped", {}))


def _row(v: dict[str, Any]) -> RemedyRow:
    """A variant as :meth:`RemedyComparison.to_dict` writes it, or (no intervals) as an older
    record's one full run per variant."""
    time, speedup = v["epoch_time_per_model_s"], v["speedup"]
    paired = isinstance(time, dict)
    return RemedyRow(
        name=v["name"],
        models=v["models"],
        epoch_time_s=time["estimate"] if paired else time,
        epoch_time_interval_s=(time["low"], time["high"]) if paired else None,
        speedup=speedup["estimate"] if paired else speedup,
        speedup_interval=(speedup["low"], speedup["high"]) if paired else None,
        setup_s=v["setup_s"],
        final_loss=v["final_loss"],
    )


# -- the loss.item() homework: record frequencies in paired rounds -----------------------------
RECORD_EVERY: tuple[int | None, ...] = (1, 10, 100, 1000, None)


@dataclass(frozen=True, kw_only=True)
class SyncSweep:
    """The ``loss.item()`` frequency sweep in paired rounds (:func:`record_frequency_sweep`).
    ``cost_per_sync`` is the seconds one ``loss.item()`` adds: the slope of seconds per block
    against syncs per block (:func:`devicelab.stats.slope_interval`)."""

    device: str
    block_epochs: int
    epochs: int
    record_every: dict[str, int | None]
    syncs_per_block: dict[str, int]
    comparison: Comparison
    cost_per_sync: Interval
    final_losses: dict[str, float]

    def epoch_time(self, name: str) -> Interval:
        """Median seconds per epoch of ``name`` with its interval."""
        return self.comparison.intervals[name].scaled(1 / self.block_epochs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the slope, and per variant its syncs and seconds per epoch."""
        variants = [
            {
                "name": name,
                "record_every": self.record_every.get(name),
                "syncs_per_block": self.syncs_per_block.get(name),
                "epoch_time_s": self.epoch_time(name).to_dict(),
                "ratio_to_every_epoch": self.comparison.ratios[name].to_dict(),
            }
            for name in self.comparison.samples
        ]
        return {
            "device": self.device,
            "block_epochs": self.block_epochs,
            "epochs": self.epochs,
            "cost_per_sync_s": self.cost_per_sync.to_dict(),
            "variants": variants,
            "final_losses": self.final_losses,
            "comparison": self.comparison.to_dict(),
        }


def record_frequency_sweep(
    data: IrisData,
    init: dict[str, torch.Tensor],
    *,
    device: str | torch.device | None = "cpu",
    every: tuple[int | None, ...] = RECORD_EVERY,
    block_epochs: int = 1_000,
    rounds: int = 5,
    lr: float = 0.01,
    extra: dict[str, Callable[[], object]] | None = None,
    num_threads: int | None = None,
) -> SyncSweep:
    """The course's loop with ``loss.item()`` every ``k`` epochs, for each ``k`` in ``every``,
    timed in paired rounds of ``block_epochs`` epochs, and the cost of one sync.

    A machine's drift shifts a round's points together and leaves their slope alone, so the
    cost of one sync is the slope fitted per round; an interval containing 0: no measurable cost.

    Parameters
    ----------
    every:
        Record frequencies; None reads the loss only after the run.
    block_epochs:
        A multiple of every ``k``, so each block of a frequency makes the same number of syncs.
    extra:
        More variants, each a callable that trains one block; not part of the slope.

    Raises
    ------
    ValueError
        ``block_epochs`` is not a multiple of every ``k``, fewer than two distinct sync
        counts, a name clash with ``extra``, or ``rounds`` < 2.
    """
    _check(block_epochs, lr)
    device = resolve_device(device)
    bad = [k for k in every if k is not None and (k < 1 or block_epochs % k)]
    if bad:
        raise ValueError(
            f"block_epochs={block_epochs} must be a multiple of every record "
            f"frequency so each block makes the same syncs; not of {bad}"
        )
    names = {(f"every {k}" if k else "end only"): k for k in every}
    syncs = {name: block_epochs // k if k else 0 for name, k in names.items()}
    if len(set(syncs.values())) < 2:
        raise ValueError(f"a slope needs at least two different sync counts, got {syncs}")
    clash = sorted(set(extra or {}) & set(names))
    if clash:
        raise ValueError(f"extra variants must not reuse the frequencies' names: {clash}")
    setting = _setting(data, init, lr, device, epochs=(1 + rounds) * block_epochs)
    units = [prepare_course(setting, k, name) for name, k in names.items()]
    comparison = _paired_blocks(units, block_epochs, rounds, device, num_threads, extra)
    per_round = [[comparison.samples[name][r] for name in names] for r in range(comparison.rounds)]
    return SyncSweep(
        device=str(device),
        block_epochs=block_epochs,
        epochs=(1 + rounds) * block_epochs,
        record_every=names,
        syncs_per_block=syncs,
        comparison=comparison,
        cost_per_sync=slope_interval(list(syncs.values()), per_round),
        final_losses={u.label: u.final_loss() for u in units},
    )
