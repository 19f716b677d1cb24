"""A noise meter: one fixed small workload, timed whenever asked. The same work should always
take the same time, so readings that spread out say how far a figure measured between them can
be trusted. The docs build logs them in the file named by ``DEVICELAB_NOISE_LOG``."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .results import write_atomically

__all__ = [
    "NOISE_LOG_ENV",
    "Drift",
    "NoiseReading",
    "append_reading",
    "build_drift",
    "drift",
    "measure_noise",
    "read_log",
]

NOISE_LOG_ENV = "DEVICELAB_NOISE_LOG"
WORKLOAD_STEPS = 20  # about 10 ms of work per call on a slow CPU: short, yet far above the clock
WORKLOAD_REPEATS = 5
WORKLOAD_SEED = 0


@dataclass(frozen=True, kw_only=True)
class NoiseReading:
    """One timing of the meter's fixed workload: the median ``step_s`` and ``iqr_s`` of
    ``samples`` timed calls of ``steps`` steps each, ``taken_at`` an ISO 8601 time in UTC."""

    label: str
    step_s: float
    iqr_s: float
    samples: int
    steps: int
    threads: int
    taken_at: str


def measure_noise(label: str = "") -> NoiseReading:
    """Time the meter's fixed workload once, labelled ``label``: calls of 20 course training
    steps on one thread, one untimed and then five timed. The caller's random state and thread
    count are left as they were."""
    # torch is imported here, not at the top: a page that only reads the build's log
    # (build_drift(None)) must not pay for importing it.
    import torch

    from .data import load_iris
    from .models import MLP
    from .stats import median_iqr
    from .steps import course_step, run_steps
    from .timing import timed_block, torch_threads

    data = load_iris()
    with torch.random.fork_rng(devices=[]):  # the caller's random stream stays where it was
        torch.manual_seed(WORKLOAD_SEED)
        model = MLP()
    cpu = torch.device("cpu")
    # The course's step with no loss.item(): the workload runs on the CPU only.
    spec = course_step(model, data, sync_every=None)

    def workload() -> None:
        run_steps(spec, 1, WORKLOAD_STEPS)

    # A fixed number of calls, not timing.measure: its automatic block sizing calls the
    # workload ten times more often when the machine is slow, and a meter must cost the same
    # on every reading.
    with torch_threads(1):
        workload()  # allocator growth, lazy imports on the first optimizer step
        times = [timed_block(workload, cpu) / WORKLOAD_STEPS for _ in range(WORKLOAD_REPEATS)]
    median_s, iqr_s = median_iqr(times)
    return NoiseReading(
        label=label,
        step_s=median_s,
        iqr_s=iqr_s,
        samples=WORKLOAD_REPEATS,
        steps=WORKLOAD_STEPS,
        threads=1,
        taken_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


@dataclass(frozen=True)
class Drift:
    """How a series of noise readings, in the order they were taken, spread: the machine's
    drift while they were taken."""

    readings: tuple[NoiseReading, ...]

    @property
    def fastest_s(self) -> float:
        """The smallest seconds per step of any reading."""
        return min(r.step_s for r in self.readings)

    @property
    def slowest_s(self) -> float:
        """The largest seconds per step of any reading."""
        return max(r.step_s for r in self.readings)

    @property
    def max_over_min(self) -> float:
        """Slowest over fastest reading (1.0 means no drift; 2.0, one moment twice as slow)."""
        return self.slowest_s / self.fastest_s

    @property
    def first_to_last(self) -> float:
        """Relative change from the first reading to the last (+0.10 means 10% slower)."""
        return self.readings[-1].step_s / self.readings[0].step_s - 1.0

    def sentence(self) -> str:
        """One line for a page: the drift and the readings it comes from."""
        if len(self.readings) == 1:
            return (
                f"Only one noise reading was taken during this build ({_us(self.fastest_s)} per training step "
                f"on one thread), so its drift is unknown."
            )
        return (
            f"This machine drifted by {self.max_over_min:.2f}x during this build: "
            f"{len(self.readings)} readings of one fixed workload "
            f"({self.readings[0].steps} course training steps on one thread) "
            f"ranged from {_us(self.fastest_s)} to {_us(self.slowest_s)} per step, "
            f"and the last was {self._change()} the first. "
            "A live timing on this site can move by about as much."
        )

    def _change(self) -> str:
        change = self.first_to_last
        if abs(change) < 0.005:
            return "within 1% of"
        return f"{abs(change):.0%} {'slower' if change > 0 else 'faster'} than"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the drift figures and every reading."""
        return {
            "max_over_min": self.max_over_min,
            "first_to_last": self.first_to_last,
            "fastest_step_s": self.fastest_s,
            "slowest_step_s": self.slowest_s,
            "readings": [asdict(r) for r in self.readings],
        }


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def drift(readings: Sequence[NoiseReading]) -> Drift:
    """Summarise a series of readings, taken in this order, as a :class:`Drift`.

    Raises
    ------
    ValueError
        ``readings`` is empty.
    """
    if len(readings) == 0:
        raise ValueError("no noise readings: take at least one with measure_noise()")
    return Drift(tuple(readings))


def read_log(path: str | os.PathLike[str]) -> list[NoiseReading]:
    """The readings in a noise log written by :func:`append_reading` (none if it is missing).

    Raises
    ------
    ValueError
        The file exists but is not a noise log, or a reading lacks a field or has an unknown one.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["readings"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path} is not a noise log ({error}); delete it and let the next build write it"
        ) from error
    fields = sorted(NoiseReading.__dataclass_fields__)
    for entry in entries:
        if sorted(entry) != fields:
            raise ValueError(
                f"a noise reading needs exactly the fields {fields}, got {sorted(entry)}; was "
                "the log written by another version of devicelab?"
            )
    return [NoiseReading(**entry) for entry in entries]


def append_reading(path: str | os.PathLike[str], reading: NoiseReading) -> None:
    """Add ``reading`` to the noise log at ``path`` (created if missing), atomically."""
    readings = [*read_log(path), reading]
    write_atomically(Path(path), json.dumps({"readings": [asdict(r) for r in readings]}, indent=1))


def build_drift(label: str | None = "page") -> Drift:
    """The drift of this build so far: every reading in the build's noise log, after adding one
    taken now, labelled ``label`` (None: add none, and spare the page torch's import). Outside
    the docs build (no log), two readings taken now."""
    path = os.environ.get(NOISE_LOG_ENV)
    if not path:
        return drift([measure_noise("now"), measure_noise("now, again")])
    if label is not None:
        append_reading(path, measure_noise(label))
    return drift(read_log(path))
