"""Why the first epoch is slow: the first training step against warm ones, in a fresh process
(``python -m devicelab.first_step``, which prints one JSON line), where nothing is warm yet.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .data import load_iris
from .devices import resolve_device, synchronize
from .doctor import compile_unavailable
from .models import MLP, initial_weights
from .steps import Laps, StepSpec, course_step, run_steps
from .timing import timed_block, torch_threads

__all__ = ["FirstCall", "FirstStep", "WHAT", "first_batch_s", "measure_first_step"]

#: Floats in the allocator's buffer (64 MiB of float32).
ALLOC_FLOATS = 16 * 2**20
#: What each first call sets up, per device type.
WHAT: dict[str, dict[str, str]] = {
    "first tensor": {
        "cpu": "the first call of torch's factory and fill operators (a CPU has no context "
        "to create)",
        "cuda": "the CUDA context: the driver starts and maps the GPU into this process",
        "mps": "the Metal device and its command queue",
    },
    "allocator": {
        "cpu": "64 MiB from the C library's malloc: torch keeps no cache of CPU memory",
        "cuda": "cudaMalloc of 64 MiB; afterwards torch's caching allocator reuses the block",
        "mps": "64 MiB of GPU memory; afterwards torch's MPS allocator reuses it",
    },
    "matmul": {
        "cpu": "the course's first matrix product: BLAS's set-up (with several threads, the "
        "thread pool's start too)",
        "cuda": "the course's first matrix product: the cuBLAS handle and its workspace, and "
        "the module of its kernel (CUDA loads modules lazily)",
        "mps": "the course's first matrix product: the MPS graph for its shape",
    },
    "convolution": {
        "cpu": "a small convolution: oneDNN creates a primitive for the new shape, then reuses it",
        "cuda": "a small convolution: the cuDNN handle, and the choice of its algorithm",
        "mps": "a small convolution: the MPS graph for its shape",
    },
    "course step": {
        "cpu": "the rest of the course's step: the first call of each other operator, "
        "autograd's engine, the optimizer",
        "cuda": "the rest of the course's step: the first kernel of each other kind (each "
        "module loaded on first use), autograd's engine, the optimizer",
        "mps": "the rest of the course's step: the first kernel of each other kind, "
        "autograd's engine, the optimizer",
    },
    "torch.compile": {
        "cpu": "the first call of a compiled epoch: Dynamo traces it, Inductor writes and "
        "builds C++ (or loads both from torch's on-disk cache)",
        "cuda": "the first call of a compiled epoch: Dynamo traces it, Inductor writes Triton "
        "kernels and compiles them (or loads them from torch's on-disk cache)",
        "mps": "the first call of a compiled epoch",
    },
}


@dataclass(frozen=True)
class FirstCall:
    """One operation's first call in a fresh process (``name``, a key of :data:`WHAT`), against
    the median of the same call warm."""

    name: str
    what: str
    first_s: float
    warm_s: float

    @property
    def ratio(self) -> float:
        """How many times longer the first call took than a warm one."""
        return self.first_s / self.warm_s

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, ``ratio`` included."""
        return {**asdict(self), "ratio": self.ratio}


@dataclass(frozen=True, kw_only=True)
class FirstStep:
    """The course's first steps in a fresh process, and the first calls one at a time.

    ``to_device_s`` is the move of the model and the data to the device (on a GPU, the
    context is created then); ``first_phases_s`` and ``warm_phases_s`` are the seconds of each
    phase (:data:`devicelab.steps.PHASES`) of the first step and their warm medians;
    ``skipped`` names the first calls not measured, with the reason.
    """

    device: str
    torch: str
    threads: int
    to_device_s: float
    step_times_s: list[float]
    first_phases_s: dict[str, float]
    warm_phases_s: dict[str, float]
    warmup_steps: int
    calls: list[FirstCall]
    skipped: dict[str, str]

    @property
    def first_s(self) -> float:
        """Seconds of the first step."""
        return self.step_times_s[0]

    @property
    def second_s(self) -> float:
        """Seconds of the second step."""
        return self.step_times_s[1]

    @property
    def warm_s(self) -> float:
        """Median seconds of a warm step (the steps after ``warmup_steps``)."""
        return statistics.median(self.step_times_s[self.warmup_steps :])

    @property
    def ratio(self) -> float:
        """How many times longer the first step took than a warm one."""
        return self.first_s / self.warm_s

    @property
    def extra_s(self) -> float:
        """What the first step costs on top of a warm one (the one-off set-up)."""
        return self.first_s - self.warm_s

    def call(self, name: str) -> FirstCall:
        """The first call called ``name``.

        Raises
        ------
        KeyError
            It was not measured (see ``skipped``).
        """
        for call in self.calls:
            if call.name == name:
                return call
        raise KeyError(f"{name!r} was not measured: {self.skipped.get(name, 'unknown name')}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with the first, second and warm step and their ratio."""
        return {
            **{k: v for k, v in asdict(self).items() if k != "calls"},
            "calls": [c.to_dict() for c in self.calls],
            "first_s": self.first_s,
            "second_s": self.second_s,
            "warm_s": self.warm_s,
            "ratio": self.ratio,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FirstStep:
        """The inverse of :meth:`to_dict` (a recorded result, or a fresh process's answer)."""
        calls = [FirstCall(c["name"], c["what"], c["first_s"], c["warm_s"]) for c in data["calls"]]
        names = {f.name for f in fields(cls)} - {"calls"}
        return cls(**{name: data[name] for name in names}, calls=calls)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FirstStep | None:
        """The GPU run in a results record's ``first_step`` section (None: not recorded)."""
        runs = record.get("measurements", {}).get("first_step", {}).get("runs", [])
        run = next((r for r in runs if r["device"] != "cpu"), None)
        return None if run is None else cls.from_dict(run)

    def table(self) -> str:
        """The first calls as a plain-text table: first, warm, ratio, what was set up."""
        lines = [f"  {'first call':<14} {'first':>10} {'warm':>10} {'ratio':>8}  what it set up"]
        for c in self.calls:
            lines.append(
                f"  {c.name:<14} {c.first_s * 1e3:8.3f} ms {c.warm_s * 1e6:7.1f} µs "
                f"{c.ratio:7.0f}x  {c.what}"
            )
        for name, why in self.skipped.items():
            lines.append(f"  {name:<14} skipped: {why}")
        return "\n".join(lines)


# -- what the fresh processes run -----------------------------------------------------------------
def _course_spec(device: torch.device) -> tuple[StepSpec, float]:
    """The course's model and data moved to ``device`` (timed), and its step."""
    torch.manual_seed(0)
    model, data = MLP(), load_iris("cpu")
    moved = []

    def move() -> None:
        model.to(device)
        moved.append(data.to(device))
        synchronize(device)

    # The host clock, with the wait inside: a wait *before* the clock would create a GPU's
    # context outside the timing.
    seconds = timed_block(move, torch.device("cpu"))
    return course_step(model, moved[0]), seconds


def _course_steps(device: torch.device, steps: int) -> dict[str, Any]:
    """The course's order: the moves, then ``steps`` steps, each timed with its phases."""
    spec, to_device_s = _course_spec(device)
    times, phases = [], []
    for step in range(1, steps + 1):
        laps = Laps(spec.phases)

        def one(s: int = step, laps: Laps = laps) -> None:
            laps.start()
            run_steps(spec, s, s, lap=laps)

        times.append(timed_block(one, device))
        phases.append(laps.seconds)
    return {
        "to_device_s": to_device_s,
        "step_times_s": times,
        "phases": phases,
        "threads": torch.get_num_threads(),
    }


def _warm_median(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    return statistics.median(timed_block(fn, device) for _ in range(repeats))


def _compiled_epoch(device: torch.device) -> Callable[[], object]:
    from .remedies.fused import manual_step  # the hand-written epoch of the remedies page

    init = initial_weights()
    weights = [init[k].clone().to(device) for k in init]
    data = load_iris("cpu").to(device)
    Y = F.one_hot(data.y_train, 3).to(data.X_train.dtype)
    compiled = torch.compile(manual_step)

    @torch.no_grad()
    def call() -> None:
        compiled(*weights, data.X_train, Y, 0.01)

    return call


def _compile_skip(device: torch.device, compile_: bool | str) -> str | None:
    """Why the compiled call is not measured (None: it is)."""
    if isinstance(compile_, str):
        return compile_
    if not compile_:
        return "not requested"
    if device.type == "mps":
        return "not measured on MPS"
    return compile_unavailable(device)


def _later_calls(device: torch.device) -> dict[str, Callable[[], object]]:
    """The calls after the first tensor, their inputs made (untimed) on the device."""
    data = load_iris("cpu").to(device)
    init = initial_weights()
    weight, bias = init["fc1.weight"].to(device), init["fc1.bias"].to(device)
    image = torch.ones(1, 1, 28, 28, device=device)
    kernel = torch.ones(6, 1, 5, 5, device=device)
    spec, _ = _course_spec(device)
    done = [0]

    def one_step() -> None:
        done[0] += 1
        run_steps(spec, done[0], done[0])

    return {
        "allocator": lambda: torch.empty(ALLOC_FLOATS, device=device),
        "matmul": lambda: torch.addmm(bias, data.X_train, weight.t()),
        "convolution": lambda: F.conv2d(image, kernel),
        "course step": one_step,
    }


def _first_calls(device: torch.device, repeats: int, compile_: bool | str) -> dict[str, Any]:
    """One first call at a time, in order; each against its warm median."""
    kind = device.type if device.type in ("cuda", "mps") else "cpu"

    def first_tensor() -> None:
        torch.zeros(1, device=device)
        synchronize(device)

    # The host clock, with the wait inside (see _course_spec).
    first = timed_block(first_tensor, torch.device("cpu"))
    results = [("first tensor", first, _warm_median(first_tensor, device, repeats))]
    calls = _later_calls(device)
    skipped = {}
    reason = _compile_skip(device, compile_)
    if reason:
        skipped["torch.compile"] = reason
    else:
        calls["torch.compile"] = _compiled_epoch(device)
    for name, fn in calls.items():
        results.append((name, timed_block(fn, device), _warm_median(fn, device, repeats)))
    return {
        "calls": [
            {"name": n, "what": WHAT[n][kind], "first_s": f, "warm_s": w} for n, f, w in results
        ],
        "skipped": skipped,
    }


@dataclass(frozen=True)
class _Plan:
    """What a measuring process is asked for, run :meth:`here` or :meth:`in_a_fresh_process`."""

    device: torch.device
    steps: int
    repeats: int
    compile_: bool | str
    threads: int | None

    def here(self, part: str) -> dict[str, Any]:
        """Measure ``part`` (``"course"`` or ``"calls"``) in this process."""
        with torch_threads(self.threads):
            if part == "course":
                return _course_steps(self.device, self.steps)
            return _first_calls(self.device, self.repeats, self.compile_)

    def in_a_fresh_process(self, part: str) -> dict[str, Any]:
        """Measure ``part`` in a new Python process and return what it printed (one JSON line);
        a RuntimeError with its last lines of output if it fails."""
        package_parent = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "devicelab.first_step", part, "--device", str(self.device)]
        command += ["--steps", str(self.steps), "--repeats", str(self.repeats)]
        if self.threads is not None:
            command += ["--threads", str(self.threads)]
        if self.compile_ is not True:
            reason = self.compile_ if isinstance(self.compile_, str) else "not requested"
            command += ["--no-compile", reason]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"the fresh process measuring {part!r} failed:\n{tail}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def measure_first_step(
    device: str | torch.device | None = "cpu",
    *,
    steps: int = 60,
    warmup_steps: int = 10,
    repeats: int = 20,
    compile: bool | str = True,
    threads: int | None = None,
    fresh: bool = True,
) -> FirstStep:
    """The course's first step against warm ones, and the first calls one at a time.

    Parameters
    ----------
    repeats:
        Warm calls timed after each first call.
    compile:
        Measure the first call of a ``torch.compile``'d epoch (where
        :func:`devicelab.doctor.compile_unavailable` allows); a string skips it with that
        string as the reason.
    fresh:
        Measure in new Python processes; False measures in this process (for tests).

    Raises
    ------
    ValueError
        ``steps`` is not above ``warmup_steps``, or ``warmup_steps`` or ``repeats`` < 1.
    RuntimeError
        A fresh process failed (its output is in the message).
    """
    if warmup_steps < 1 or repeats < 1 or steps <= warmup_steps:
        raise ValueError(
            f"need steps > warmup_steps >= 1 and repeats >= 1, got steps={steps}, "
            f"warmup_steps={warmup_steps}, repeats={repeats}"
        )
    device = resolve_device(device)
    plan = _Plan(device, steps, repeats, compile, threads)
    measure = plan.in_a_fresh_process if fresh else plan.here
    course = measure("course")
    calls = measure("calls")
    phases = course["phases"]
    warm = phases[warmup_steps:]
    return FirstStep(
        device=str(device),
        torch=torch.__version__,
        threads=course["threads"],
        to_device_s=course["to_device_s"],
        step_times_s=course["step_times_s"],
        first_phases_s=phases[0],
        warm_phases_s={p: statistics.median(s[p] for s in warm) for p in phases[0]},
        warmup_steps=warmup_steps,
        calls=[FirstCall(**c) for c in calls["calls"]],
        skipped=calls["skipped"],
    )


def first_batch_s(num_workers: int, start_method: str | None = None, *, repeats: int = 3) -> float:
    """Median seconds from a new pass over a DataLoader of Iris to its first batch: with
    ``num_workers > 0``, the start-up of its worker processes, by ``start_method`` (``"spawn"``,
    ``"fork"`` or None: the platform's default).

    Raises
    ------
    ValueError
        ``num_workers`` < 0, ``repeats`` < 1, or a start method this platform lacks.
    """
    if num_workers < 0 or repeats < 1:
        raise ValueError(f"need num_workers >= 0 and repeats >= 1, got {num_workers}, {repeats}")
    data = load_iris("cpu")
    dataset = torch.utils.data.TensorDataset(data.X_train, data.y_train)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=16,
        num_workers=num_workers,
        multiprocessing_context=start_method if num_workers else None,
    )
    return _warm_median(lambda: next(iter(loader)), torch.device("cpu"), repeats)


def main(argv: Sequence[str] | None = None) -> int:
    """What a fresh process runs: one part, printed as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m devicelab.first_step")
    parser.add_argument("part", choices=("course", "calls"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch's intra-op threads")
    parser.add_argument("--no-compile", metavar="REASON", help="skip torch.compile: why")
    args = parser.parse_args(argv)
    compile_: bool | str = args.no_compile if args.no_compile else True
    plan = _Plan(resolve_device(args.device), args.steps, args.repeats, compile_, args.threads)
    result = plan.here(args.part)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
