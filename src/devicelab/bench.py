"""``python -m devicelab bench``: every measurement of the site, on the reader's own machine,
as a record in the recorded-results format (:mod:`devicelab.results`). On a GPU, the CPU side
of each comparison is measured in the same run."""

from __future__ import annotations

import datetime as dt
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import __version__
from .calibration import calibrate
from .data import load_iris
from .devices import resolve_device
from .distributed.record import record_distributed, summary_lines
from .explain import explain_course_step
from .first_step import measure_first_step
from .hardware import machine_report
from .models import initial_weights
from .noise import drift, measure_noise
from .overheads import count_step_ops, launch_cost, sync_cost, transfer_sweep, utilization_sweep
from .remedies import compare_remedies, record_frequency_sweep
from .results import SCHEMA_VERSION, validate_results
from .roofline import crossover, measure_ceilings
from .training import TrainResult, course_run

__all__ = [
    "SECTIONS",
    "SECTION_RUNNERS",
    "BenchError",
    "BenchPlan",
    "run_bench",
    "summary_table",
]


@dataclass(frozen=True, kw_only=True)
class BenchPlan:
    """Sizes of one bench run. :meth:`full` is what the site records; :meth:`quick` fits a
    minute on a laptop CPU."""

    epochs: int
    transfer_sizes: tuple[int, ...]
    hiddens: tuple[int, ...]
    batches: tuple[int, ...]
    deep_hiddens: tuple[int, ...]
    deep_batch: int
    rounds: int
    min_run_time: float
    #: A GPU's roofline ceilings as (matrix side, bytes copied); None, the device's defaults
    #: (:func:`devicelab.roofline.measure_ceilings`).
    gpu_ceilings: tuple[int, int] | None = None

    @classmethod
    def full(cls) -> BenchPlan:
        """The course's 20,000 epochs, transfers from 4 B to 256 MiB, wide sweeps."""
        return cls(
            epochs=20_000,
            transfer_sizes=tuple(4 * 16**k for k in range(7)) + (256 * 2**20,),
            hiddens=(10, 32, 100, 320, 1_000, 3_200, 10_000, 32_000),
            batches=(120, 1_200, 12_000, 120_000, 1_200_000),
            deep_hiddens=(10, 32, 100, 320, 1_000, 3_200, 10_000),
            deep_batch=1_024,
            rounds=7,
            min_run_time=0.2,
        )

    @classmethod
    def quick(cls) -> BenchPlan:
        """2,000 epochs and short sweeps: the same shape of figures, in under a minute."""
        return cls(
            epochs=2_000,
            transfer_sizes=(4, 4_096, 4 * 2**20),
            hiddens=(10, 1_000, 10_000),
            batches=(120, 12_000, 1_200_000),
            deep_hiddens=(10, 100, 1_000),
            deep_batch=1_024,
            rounds=3,
            min_run_time=0.05,
            gpu_ceilings=(2_048, 2**27),  # short of a large GPU's peak: quick, not the site's
        )


def _train_dict(result: TrainResult) -> dict[str, Any]:
    return {
        "device": result.device,
        "record_every": result.record_every,
        "epochs": result.epochs,
        "syncs": result.syncs,
        "wall_time_s": result.wall_time_s,
        "epoch_time_s": result.epoch_time_s,
        "epoch_time_iqr_s": result.epoch_time_iqr_s,
        "final_loss": result.final_loss,
        "train_accuracy": result.train_accuracy,
        "test_accuracy": result.test_accuracy,
    }


def _sweep(device, plan: BenchPlan) -> dict[str, list[dict[str, Any]]]:
    axes = {  # axis: (hidden widths, batches, hidden-to-hidden layer)
        "width": (plan.hiddens, (120,), False),
        "batch": ((10,), plan.batches, False),
        "deep": (plan.deep_hiddens, (plan.deep_batch,), True),
    }
    return {
        axis: [
            p.to_dict()
            for p in utilization_sweep(
                device, hiddens=h, batches=b, min_run_time=plan.min_run_time, deep=deep
            )
        ]
        for axis, (h, b, deep) in axes.items()
    }


@dataclass
class _Run:
    """What every section of one bench run shares, and what its record says of the run."""

    device: torch.device
    plan: BenchPlan
    progress: Callable[[str], None]
    command: str | None
    report: dict[str, Any]

    @property
    def quick(self) -> bool:
        """Whether this is a ``--quick`` run (:meth:`BenchPlan.quick`)."""
        return self.plan == BenchPlan.quick()

    @property
    def devices(self) -> list[torch.device]:
        """The device, then the CPU (once, when the device is the CPU)."""
        return list(dict.fromkeys([self.device, torch.device("cpu")]))


def _training(run: _Run) -> dict[str, Any]:
    runs = []
    for where in run.devices:
        run.progress(f"training: {run.plan.epochs} epochs, loss.item() every epoch, on {where}")
        runs.append(_train_dict(course_run(str(where), epochs=run.plan.epochs)))
    return {"epochs": run.plan.epochs, "runs": runs}


def _record_frequency(run: _Run) -> dict[str, Any]:
    run.progress(
        f"record frequency: loss.item() every 1 to 1,000 epochs or never, "
        f"{run.plan.rounds} paired rounds, on {run.device}"
    )
    # One thread on a CPU: the course's tiny operators gain nothing from a second one, and
    # on a busy machine it makes them wait (the hardware page measures this).
    threads = 1 if run.device.type == "cpu" else None
    sweep = record_frequency_sweep(
        load_iris(),
        initial_weights(),
        device=run.device,
        rounds=run.plan.rounds,
        num_threads=threads,
    )
    return {"sweep": sweep.to_dict()}


def _transfer(run: _Run) -> dict[str, Any]:
    run.progress(f"transfer: {len(run.plan.transfer_sizes)} sizes on {run.device}")
    points = transfer_sweep(
        run.plan.transfer_sizes, run.device, min_run_time=run.plan.min_run_time / 2
    )
    return {"points": [p.to_dict() for p in points]}


def _sync(run: _Run) -> dict[str, Any]:
    run.progress(f"sync: one scalar .item() on {run.device}")
    return sync_cost(run.device, min_run_time=run.plan.min_run_time).to_dict()


def _launch(run: _Run) -> dict[str, Any]:
    run.progress(f"launch: per-op cost and profiler op count on {run.device}")
    cost = launch_cost(run.device, min_run_time=run.plan.min_run_time)
    ops = count_step_ops(run.device)
    launches = ops.kernels if run.device.type == "cuda" else ops.operator_calls
    return {
        "per_op": cost.to_dict(),
        "ops": ops.to_dict(),
        "launches_per_step": launches,
        "floor_s": launches * cost.queued.median_s,
    }


def _utilization(run: _Run) -> dict[str, Any]:
    sweeps = {}
    for where in run.devices:
        run.progress(f"utilisation: width and batch sweeps on {where}")
        sweeps[str(where)] = _sweep(where, run.plan)
    result: dict[str, Any] = {
        "sweeps": sweeps,
        "points": [p for s in sweeps.values() for p in s["width"] + s["batch"]],
    }
    if run.device.type != "cpu":
        for axis in ("width", "batch", "deep"):
            key = "batch" if axis == "batch" else "hidden"
            dev, host = sweeps[str(run.device)][axis], sweeps["cpu"][axis]
            result[f"crossover_{axis}"] = crossover(
                [p[key] for p in dev], [p["median_s"] for p in host], [p["median_s"] for p in dev]
            )
    return result


def _roofline(run: _Run) -> dict[str, Any]:
    ceilings = {}
    for where in run.devices:
        run.progress(f"roofline: peak FLOP/s (large matmul) and bandwidth (large copy) on {where}")
        n, nbytes = (
            run.plan.gpu_ceilings if run.plan.gpu_ceilings and where.type != "cpu" else (None, None)
        )
        ceilings[str(where)] = measure_ceilings(
            where, matmul_n=n, copy_bytes=nbytes, min_run_time=run.plan.min_run_time
        ).to_dict()
    deep_ops = count_step_ops(run.device, deep=True)
    return {
        "ceilings": ceilings,
        "launches_per_step_deep": deep_ops.kernels if run.device.type == "cuda" else None,
    }


def _remedies(run: _Run) -> dict[str, Any]:
    remedies = compare_remedies(
        load_iris(),
        initial_weights(),
        device=run.device,
        rounds=run.plan.rounds,
        progress=run.progress,
    )
    return remedies.to_dict()


def _breakdown(run: _Run) -> dict[str, Any]:
    runs = []
    for where in run.devices:
        run.progress(f"breakdown: the course's step, part by part, on {where}")
        runs.append(explain_course_step(where).to_dict())
    return {"runs": runs}


def _calibration(run: _Run) -> dict[str, Any]:
    calibrations = {}
    for where in run.devices:
        run.progress(f"calibration: host cost per operator, device time per size, on {where}")
        threads = 1 if where.type == "cpu" else None  # the site's CPU figures are at one thread
        calibrations[str(where)] = calibrate(where, num_threads=threads, quick=run.quick).to_dict()
    return calibrations


def _first_step(run: _Run) -> dict[str, Any]:
    compile_: bool | str = True
    if run.quick:  # the first compiled call can take tens of seconds on a cold cache
        compile_ = "skipped by bench --quick (tens of seconds on a cold cache)"
    runs = []
    for where in run.devices:
        run.progress(f"first step: the course's first steps in a fresh process, on {where}")
        # One thread on a CPU, as in the record-frequency section: warm steps stay steady.
        threads = 1 if where.type == "cpu" else None
        runs.append(measure_first_step(where, compile=compile_, threads=threads).to_dict())
    return {"runs": runs}


def _mixed_device(run: _Run) -> dict[str, Any]:
    # The error a learner meets when the model is on the GPU and a batch is still on the host,
    # kept verbatim so the "Training on a device" page can show the real one.
    if run.device.type == "cpu":
        return {"error": None, "why": "the run had no GPU, so there was nothing to mix"}
    model = torch.nn.Linear(4, 3).to(run.device)
    try:
        model(torch.zeros(2, 4))
    except RuntimeError as error:
        return {
            "error": f"{type(error).__name__}: {error}",
            "why": "nn.Linear on the GPU, input on the CPU",
        }
    return {
        "error": None,
        "why": "no error was raised (a stand-in device keeps every tensor on the CPU)",
    }


def _distributed(run: _Run) -> dict[str, Any]:
    # gloo between CPU processes always; NCCL too when the device is a GPU and there are two.
    return record_distributed(run.device, quick=run.quick, progress=run.progress)


#: Each section of a record and what measures it, in the order a run measures them.
SECTION_RUNNERS: dict[str, Callable[[_Run], dict[str, Any]]] = {
    "training": _training,
    "record_frequency": _record_frequency,
    "transfer": _transfer,
    "sync": _sync,
    "launch": _launch,
    "utilization": _utilization,
    "roofline": _roofline,
    "remedies": _remedies,
    "breakdown": _breakdown,
    "calibration": _calibration,
    "first_step": _first_step,
    "distributed": _distributed,
    "mixed_device": _mixed_device,
}
#: The sections' names, in the order a run measures them.
SECTIONS = tuple(SECTION_RUNNERS)


def run_bench(
    device: str | torch.device | None = "cpu",
    *,
    quick: bool = False,
    sections: tuple[str, ...] = SECTIONS,
    command: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Measure ``sections`` on ``device`` and return a validated results record.

    ``quick`` runs :meth:`BenchPlan.quick` instead of :meth:`BenchPlan.full`; ``command`` is
    the command line to record (None: this process's).

    Raises
    ------
    ValueError
        ``sections`` is empty or names an unknown section.
    BenchError
        A section raised or broke the schema; its ``record`` keeps the sections before it.
    """
    unknown = sorted(set(sections) - set(SECTIONS))
    if not sections or unknown:
        raise ValueError(
            f"sections must be a non-empty subset of {', '.join(SECTIONS)}; "
            f"unknown: {', '.join(unknown) or '(none given)'}"
        )
    plan = BenchPlan.quick() if quick else BenchPlan.full()
    run = _Run(resolve_device(device), plan, progress, command, machine_report())
    # The same small workload at the start and the end: how much the machine drifted.
    noise = [measure_noise("bench start")]
    measurements: dict[str, Any] = {}
    for name, measure in SECTION_RUNNERS.items():
        if name not in sections:
            continue
        # Each section is checked against the schema as soon as it is measured: a failure
        # then costs that section, not the sections already measured (BenchError.record).
        try:
            section = measure(run)
            validate_results(
                _record(run, {**measurements, name: section}), source=f"bench section {name}"
            )
        except Exception as error:
            measurements["noise"] = drift(noise).to_dict()
            partial = _record(run, measurements)
            partial["partial"] = {
                "section": name,
                "error": f"{type(error).__name__}: {error}",
                "not_measured": [s for s in SECTIONS if s in sections and s not in measurements],
            }
            raise BenchError(
                f"bench section {name!r} failed ({type(error).__name__}: {error}); the sections "
                f"before it are kept in a record marked partial",
                validate_results(partial, source="partial bench record"),
            ) from error
        measurements[name] = section
    noise.append(measure_noise("bench end"))
    measurements["noise"] = drift(noise).to_dict()
    return validate_results(_record(run, measurements), source="bench record")


class BenchError(RuntimeError):
    """A bench section failed (it raised, or broke the schema). Its ``record`` is a valid
    results record of what was measured before it, whose ``"partial"`` field says what failed."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record


def _record(run: _Run, measurements: dict[str, Any]) -> dict:
    report, device = run.report, run.device
    gpus = report["gpus"]
    device_name = (
        gpus[device.index or 0]["name"]
        if device.type in ("cuda", "mps") and gpus
        else report["cpu"]["model_name"] or report["cpu"]["generation"]
    )
    return {
        "schema": "devicelab.results",
        "schema_version": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": run.command or " ".join(["python -m devicelab", *sys.argv[1:]]),
        "devicelab_version": __version__,
        "software": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "hip": torch.version.hip,
            "numpy": np.__version__,
        },
        "hardware": report,
        "device": str(device),
        "device_name": device_name,
        "quick": run.quick,
        "measurements": measurements,
    }


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def _first_step_lines(measurements: dict[str, Any]) -> list[str]:
    return [
        f"\nFirst step on {f['device']} (a fresh process): {_us(f['first_s'])}, against "
        f"{_us(f['warm_s'])} warm ({f['ratio']:.0f}x)"
        for f in measurements.get("first_step", {}).get("runs", [])
    ]


def _calibration_lines(m: dict[str, Any]) -> list[str]:
    lines = []
    for name, c in m.get("calibration", {}).items():
        host = c["host_s"]
        lines.append(
            f"Calibration of {name} ({c['threads']} thread(s)): a forward matmul call "
            f"{_us(host['forward:matmul'])} of host, a backward {_us(host['backward:matmul'])}, "
            f"a module call {_us(host['module_call'])}, context x{host['context']:.2f}; "
            f"sync {_us(c['sync_s'])}"
        )
    return lines


def summary_table(record: dict[str, Any]) -> str:
    """A readable plain-text summary of a results record."""
    m = record["measurements"]
    lines = [
        f"devicelab bench on {record['device']} ({record['device_name']}), "
        f"torch {record['software']['torch']}, {record['created']}"
    ]
    if "training" in m:
        lines.append(f"\nCourse loop, {m['training']['epochs']:,} epochs, loss.item() every epoch:")
        for r in m["training"]["runs"]:
            lines.append(
                f"  {r['device']:<8} {r['wall_time_s']:8.2f} s   {_us(r['epoch_time_s'])}/epoch"
                f"   final loss {r['final_loss']:.4f}   test acc {r['test_accuracy']:.3f}"
            )
    if "record_frequency" in m:
        sweep = m["record_frequency"]["sweep"]
        lines.append(f"\nloss.item() frequency, paired rounds of {sweep['block_epochs']:,} epochs:")
        for v in sweep["variants"]:
            t = v["epoch_time_s"]
            lines.append(
                f"  {v['name']:<24} {_us(t['estimate'])}/epoch "
                f"(interval {_us(t['low'])} to {_us(t['high'])})"
            )
        cost = sweep["cost_per_sync_s"]
        span = f"{cost['low'] * 1e6:.2f} to {cost['high'] * 1e6:.2f} µs"
        lines.append(
            f"  cost of one sync: {cost['estimate'] * 1e6:.2f} µs (interval {span})"
            if cost["low"] > 0
            else f"  no measurable cost per sync on this machine (interval {span})"
        )
    if "sync" in m:
        lines.append(f"\nOne scalar .item(): {_us(m['sync']['median_s'])}")
    if "launch" in m:
        launch = m["launch"]
        lines.append(
            f"Tiny op, queued: {_us(launch['per_op']['queued']['median_s'])}; "
            f"with a sync: {_us(launch['per_op']['synced']['median_s'])}"
        )
        lines.append(
            f"One Iris step: {launch['ops']['operator_calls']} operator calls, "
            f"{launch['ops']['kernels']} kernels; launch floor {_us(launch['floor_s'])}/epoch"
        )
    if "transfer" in m:
        best = max(m["transfer"]["points"], key=lambda p: p["bandwidth_gb_s"])
        lines.append(
            f"Best transfer: {best['bandwidth_gb_s']:.1f} GB/s "
            f"({best['direction']}, {best['memory']}, {best['size_bytes']:,} B)"
        )
    if "utilization" in m:
        u = m["utilization"]
        for axis in ("width", "batch", "deep"):
            if f"crossover_{axis}" in u:
                lines.append(f"GPU overtakes CPU at {axis}: {u[f'crossover_{axis}']}")
    if "remedies" in m:
        lines.append("\nRemedies (same final loss, time per epoch per model):")
        for r in m["remedies"]["variants"]:
            t, x = r["epoch_time_per_model_s"], r["speedup"]
            lines.append(
                f"  {r['name']:<38} {_us(t['estimate']):>12}   x{x['estimate']:.1f} "
                f"(x{x['low']:.1f} to x{x['high']:.1f})   loss {r['final_loss']:.6f}"
            )
        for name, why in m["remedies"]["skipped"].items():
            lines.append(f"  {name:<38} skipped: {why}")
    if "roofline" in m:
        for name, c in m["roofline"]["ceilings"].items():
            lines.append(
                f"Ceilings on {name}: {c['peak_flops_per_s'] / 1e12:.2f} TFLOP/s "
                f"({c['dtype']}, TF32 {'on' if c['tf32'] else 'off'}), "
                f"{c['peak_bytes_per_s'] / 1e9:.1f} GB/s"
            )
    if "breakdown" in m:
        for b in m["breakdown"]["runs"]:
            parts = " + ".join(f"{name} {_us(s)}" for name, s in b["parts"].items())
            lines.append(
                f"\nStep breakdown on {b['device']}: {parts} = {_us(b['parts_sum_s'])}; "
                f"measured {_us(b['measured_s'])}, residual {b['residual_share']:+.1%} of it"
            )
            if b["idle_share"] is not None:
                lines.append(f"  device busy {_us(b['device_busy_s'])}, idle {b['idle_share']:.0%}")
    lines += _first_step_lines(m) + _calibration_lines(m)
    if "distributed" in m:
        lines += ["", *summary_lines(m["distributed"])]
    if "noise" in m:
        readings = m["noise"]["readings"]
        lines.append(
            f"\nNoise meter: {_us(readings[0]['step_s'])} per step at the start, "
            f"{_us(readings[-1]['step_s'])} at the end ({m['noise']['first_to_last']:+.0%})"
        )
    return "\n".join(lines)
