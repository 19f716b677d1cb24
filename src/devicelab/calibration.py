"""What a device charges for each kind of operator (:class:`devicelab.costmodel.Calibration`),
measured on tiny calls and a few sizes of each kind, never on the reader's model. Device time
is the time above the smallest size's, so a small product reaches a small share of the peak,
as real ones do. ``bench`` records it, so a GPU measured once can be predicted on any machine.
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from .costmodel import Calibration, Curve, HostCosts, price
from .devices import resolve_device
from .operators import OperatorRecorder, operator_list
from .overheads import sync_cost
from .steps import prepare_step, run_steps
from .timing import timed_block, torch_threads

__all__ = ["calibrate"]

#: The largest context factor a calibration accepts (see :func:`_context`).
CONTEXT_LIMIT = 4.0
#: The two optimizers timed for the update's cost: one over this few parameter tensors, one
#: over this many; the difference prices one more tensor.
FEW_PARAMETERS, MANY_PARAMETERS = 2, 10


def _seconds(fn, device: torch.device, repeats: int = 2) -> float:
    """Seconds of one ``fn()``, the device waited for: the lower quartile over blocks of about
    2 ms (a busy machine only ever adds time), each a :func:`devicelab.timing.timed_block`, the
    clock :func:`devicelab.explain.explain_step` times a step with. A call over 5 ms is a
    stable sample alone, so it is timed twice on its own."""
    fn()  # untimed: a first call pays lazy initialisation
    first = timed_block(fn, device)
    if first > 5e-3:
        return min(first, timed_block(fn, device))
    calls = max(1, round(2e-3 / max(first, 1e-7)))

    def block() -> None:
        for _ in range(calls):
            fn()

    samples = sorted(timed_block(block, device) / calls for _ in range(4 * repeats + 1))
    return samples[len(samples) // 4]


def _tiny_calls(device: torch.device) -> dict[str, object]:
    """One tiny call of each kind, with autograd recording."""
    gen = torch.Generator().manual_seed(0)

    def param(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen).to(device).requires_grad_()

    x, w, b = param(8, 8), param(8, 8), param(8)
    image, kernel = param(2, 2, 6, 6), param(2, 2, 3, 3)
    labels = torch.randint(0, 8, (8,), generator=gen).to(device)
    return {
        "view": lambda: x.t(),
        "matmul": lambda: torch.addmm(b, x, w),
        "elementwise": lambda: torch.tanh(x),
        "reduction": lambda: torch.softmax(x, -1),
        "conv": lambda: F.conv2d(image, kernel, padding=1),
        "pool": lambda: F.max_pool2d(image, 2),
        "loss": lambda: F.cross_entropy(x, labels),
    }


def _summed_backward(fn):
    """A call that runs the backward of ``fn()``'s sum (one ``backward``: tests/test_layers.py)."""
    return lambda: fn().sum().backward()


def _ops(fn) -> tuple[int, int]:
    """Operator calls of ``fn()``, and of the backward of its sum."""
    recorder = OperatorRecorder()
    with recorder:
        out = fn()
        recorder.lap("forward")
        _summed_backward(lambda: out)()
        recorder.lap("backward")
    phases = [c.phase for c in recorder.calls]
    return phases.count("forward"), phases.count("backward") - 1  # less the sum's backward


class _HostTimings:
    """The tiny calls behind the host costs, timed in passes, each keeping its least time."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        calls = _tiny_calls(device)
        x = next(iter(calls.values()))().detach().requires_grad_()
        self.ops = {kind: _ops(fn) for kind, fn in calls.items()}
        self.calls: dict[str, object] = {
            "backward_base": _summed_backward(lambda: x),
            "sum_base": lambda: x.sum(),
        }
        for kind, fn in calls.items():
            self.calls[f"forward:{kind}"] = fn
            self.calls[f"both:{kind}"] = _summed_backward(fn)
            self.calls[f"summed:{kind}"] = lambda fn=fn: fn().sum()
        self.calls.update(_per_step_calls(device))
        self.least: dict[str, float] = {}

    def timing_pass(self) -> None:
        """Time every call once more."""
        for name, fn in self.calls.items():
            seconds = _seconds(fn, self.device)
            self.least[name] = min(seconds, self.least.get(name, seconds))

    def costs(self) -> HostCosts:
        """The host costs, from the least times."""
        t = self.least
        # The backward call's own cost: a sum and its backward, less the sum alone. Below zero
        # is noise (two near-equal least times), clamped like every cost (the schema: >= 0).
        base = max(t["backward_base"] - t["sum_base"], 0.0)
        per_call: dict[tuple[str, str], float] = {}
        for kind, (forward_ops, backward_ops) in self.ops.items():
            per_call["forward", kind] = t[f"forward:{kind}"] / max(forward_ops, 1)
            both = t[f"both:{kind}"] - t[f"summed:{kind}"] - base
            per_call["backward", kind] = max(both, 0.0) / max(backward_ops, 1)
        # The update's cost per parameter tensor: the difference between updating MANY and
        # FEW tensors (each less setting their gradients), over the tensors between them.
        few, many = (t[f"update:{n}"] - t[f"grads:{n}"] for n in (FEW_PARAMETERS, MANY_PARAMETERS))
        per_parameter = max(many - few, 0.0) / (MANY_PARAMETERS - FEW_PARAMETERS)
        return HostCosts(
            per_call=per_call,
            module_call=t["module_call"],
            backward_call=base,
            optimizer_fixed=max(few - FEW_PARAMETERS * per_parameter, 0.0),
            optimizer_per_parameter=per_parameter,
            tiny_op=t["tiny_op"],
        )


def _per_step_calls(device: torch.device) -> dict[str, object]:
    """A tiny op, a module call, and ``zero_grad`` plus the SGD update of the FEW and the MANY
    parameter tensors (with the gradients' setting alone, to subtract)."""
    layer = nn.Identity()
    x = torch.ones(2, 2, device=device)
    tiny = torch.zeros(1, device=device)
    calls: dict[str, object] = {"tiny_op": lambda: tiny.add_(1.0), "module_call": lambda: layer(x)}
    for count in (FEW_PARAMETERS, MANY_PARAMETERS):
        params = [torch.zeros(4, 4, device=device, requires_grad=True) for _ in range(count)]
        sgd = torch.optim.SGD(params, lr=0.01)

        def grads(params=params) -> None:  # what backward leaves: a gradient on each parameter
            for p in params:
                p.grad = torch.ones_like(p)

        def update(grads=grads, sgd=sgd) -> None:
            grads()
            sgd.zero_grad()
            sgd.step()

        calls[f"grads:{count}"], calls[f"update:{count}"] = grads, update
    return calls


def _curve(kind: str, unit: str, sized_calls, device: torch.device) -> Curve:
    """Device seconds above the smallest call's, against size: the smallest call is host cost,
    so what grows beyond it is the device's work."""
    timed = [(size, _seconds(fn, device)) for size, fn in sized_calls]
    floor = timed[0][1]
    points = [(size, seconds - floor) for size, seconds in timed[1:] if seconds > floor]
    return Curve(kind, unit, tuple(points))


def _matmul_calls(device: torch.device, large: int):
    for n in (4, 32, 64, 128, 256, 512, large):
        a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
        out = torch.empty(n, n, device=device)
        yield 2 * n**3, lambda a=a, b=b, out=out: torch.mm(a, b, out=out)


def _matmul_grid(device: torch.device, levels: tuple[int, ...], max_flops: float):
    """Rows ``(m, k, n, flops, seconds)`` of products on a grid of shapes: efficiency depends on
    the shape, not only the FLOPs (a small ``k`` with a large output is slow)."""
    grid = []
    for m, k, n in itertools.product(levels, repeat=3):
        flops = 2 * m * k * n
        if flops > max_flops:
            continue
        a, b = torch.rand(m, k, device=device), torch.rand(k, n, device=device)
        out = torch.empty(m, n, device=device)
        seconds = _seconds(lambda a=a, b=b, out=out: torch.mm(a, b, out=out), device, 1)
        grid.append((m, k, n, flops, seconds))
    return tuple(grid)


#: Convolutions a calibration measures, forward and backward: (in channels, out channels, image
#: side, kernel) at batch 32, shapes of small CNNs from one-channel 5x5 to 64-channel 3x3.
_CONV_GRID = (
    (1, 6, 28, 5),
    (3, 16, 32, 3),
    (6, 16, 10, 5),
    (16, 32, 16, 3),
    (32, 64, 16, 3),
    (64, 64, 8, 3),
    (1, 32, 28, 3),
    (64, 128, 8, 3),
    (128, 128, 8, 3),
)


def _conv_backward(grad: torch.Tensor, x: torch.Tensor, w: torch.Tensor, k: int):
    """The backward of a stride-1, same-padded convolution: the input's and weight's gradients."""
    return torch.ops.aten.convolution_backward(
        grad, x, w, None, [1, 1], [k // 2] * 2, [1, 1], False, [0, 0], 1, [True, True, False]
    )


def _grid_curve(kind: str, rows) -> Curve:
    """The FLOPs curve of a shape grid: for an operator whose shape is not known."""
    return Curve(kind, "flops", tuple(sorted((row[-2], row[-1]) for row in rows)))


def _conv_grid(device: torch.device, batch: int):
    """Rows ``(in, out, kernel, pixels, flops, seconds)`` of convolutions and their backward."""
    forward, backward = [], []
    for cin, cout, side, k in _CONV_GRID:
        x = torch.rand(batch, cin, side, side, device=device)
        w = torch.rand(cout, cin, k, k, device=device)
        pixels = batch * side * side
        flops = 2 * cout * cin * k * k * pixels
        grad = torch.rand(batch, cout, side, side, device=device)
        fwd = _seconds(lambda x=x, w=w, k=k: F.conv2d(x, w, padding=k // 2), device, 1)
        bwd = _seconds(lambda x=x, w=w, g=grad, k=k: _conv_backward(g, x, w, k), device, 1)
        forward.append((cin, cout, k, pixels, flops, fwd))
        backward.append((cin, cout, k, pixels, 2 * flops, bwd))
    return tuple(forward), tuple(backward)


def _bytes_calls(device: torch.device, kind: str, largest: int):
    """Calls of growing size of a memory-bound kind, with the bytes each reads and writes."""
    for n in (1024, 2**12, 2**14, 2**18, 2**22, largest):
        a, b, out = (torch.rand(n, device=device) for _ in range(3))
        if kind == "elementwise":
            yield 3 * 4 * n, lambda a=a, b=b, out=out: torch.add(a, b, out=out)
        elif kind == "reduction":
            rows = a.view(-1, 16)
            yield 2 * 4 * n, lambda rows=rows: torch.softmax(rows, -1)
        else:  # 2x2 max pooling of batches of 16-channel 16x16 images, or its backward
            image = a.view(-1, 16, 16, 16) if n >= 4096 else a.view(1, 4, 16, 16)
            pooled, indices = torch.ops.aten.max_pool2d_with_indices(image, [2, 2])
            moved = 4 * n + 12 * pooled.numel()
            if kind == "pool":
                yield moved, lambda image=image: F.max_pool2d(image, 2)
            else:
                grad = torch.rand_like(pooled)
                args = (grad, image, [2, 2], [2, 2], [0, 0], [1, 1], False, indices)
                backward = torch.ops.aten.max_pool2d_with_indices_backward
                yield moved, functools.partial(backward, *args)


class _MixedProbe(nn.Module):
    """A fixed tiny network of mixed operators, whose step gives the context factor."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(16, 16)
        self.norm = nn.LayerNorm(16)
        self.last = nn.Linear(16, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last(torch.tanh(self.norm(self.first(x))))


class _ProbeStep:
    """The probe's seeded step, timed between the other measurements, keeping the least."""

    def __init__(self, device: torch.device) -> None:
        gen = torch.Generator().manual_seed(0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            probe = _MixedProbe().to(device)
        x = torch.randn(4, 16, generator=gen).to(device)
        y = torch.randint(0, 8, (4,), generator=gen).to(device)
        self.ops = operator_list(probe, x, targets=y)
        spec = prepare_step(probe, x, targets=y, device=device)  # cross-entropy, SGD, a sync
        self.device = device
        self.step = lambda: run_steps(spec, 1, 1)
        self.times: list[float] = []

    def time(self) -> None:
        """Time the step once more (with autograd on, whatever the caller's mode)."""
        with torch.enable_grad():
            self.times.append(_seconds(self.step, self.device))


def _context(cal: Calibration, probe_s: float, ops) -> float:
    """Measured host time of the probe's step over the sum of its calls' host costs."""
    predicted = price(ops, cal, syncs=1)
    factor = (probe_s - predicted.sync_s - predicted.device_s) / predicted.host_s
    # Calls in a step usually cost more than one at a time (caches, Python between them), but
    # the factor also corrects tiny calls that came out slow. Beyond CONTEXT_LIMIT either way,
    # the machine was disturbed while the probe ran.
    return min(max(factor, 1 / CONTEXT_LIMIT), CONTEXT_LIMIT)


#: The calibrations this process has measured, by device, thread count and ``quick``, each
#: with the ``time.monotonic()`` it was made at.
_MEASURED: dict[tuple[str, int, bool], tuple[float, Calibration]] = {}


def _calibrate(device: str, threads: int, quick: bool) -> Calibration:
    where = torch.device(device)
    on_gpu = where.type != "cpu"
    large = (4096 if on_gpu else 1024) // (4 if quick else 1)
    largest = (2**26 if on_gpu else 2**23) // (4 if quick else 1)
    with torch_threads(threads):
        # The tiny calls are timed in three passes and the probe between every two sweeps
        # (seconds apart), each keeping its least time: a busy machine only ever adds time, and
        # a burst of a neighbour's load during the probe would scale every host cost by it.
        host, probe = _HostTimings(where), _ProbeStep(where)
        host.timing_pass()
        probe.time()
        curves = {}
        with torch.no_grad():
            curves["matmul"] = _curve("matmul", "flops", _matmul_calls(where, large), where)
            probe.time()
            for kind in ("elementwise", "reduction", "pool", "pool_backward"):
                curves[kind] = _curve(kind, "bytes", _bytes_calls(where, kind, largest), where)
                probe.time()
        host.timing_pass()  # outside no_grad: the backward costs need autograd
        with torch.no_grad():
            levels = (16, 128, 1024) + (() if quick else (4096,))
            grids = {"matmul": _matmul_grid(where, levels, 2e12 if on_gpu else 5e9)}
            probe.time()
            grids["conv"], grids["conv_backward"] = _conv_grid(where, 64 if on_gpu else 32)
            curves["conv"] = _grid_curve("conv", grids["conv"])
            curves["conv_backward"] = _grid_curve("conv", grids["conv_backward"])
        host.timing_pass()
        probe.time()
        # a GPU's kernel floor: the elementwise curve's first point (none when no size took
        # longer than the smallest)
        floor = curves["elementwise"].points[:1] if on_gpu else ()
        cal = Calibration(
            device=device,
            threads=threads,
            host=host.costs(),
            curves=curves,
            sync_s=sync_cost(where, min_run_time=0.05).median_s,  # a stable median, quickly
            overlap=on_gpu,
            kernel_floor_s=floor[0][1] if floor else 0.0,
            source="measured",
            shape_grids=grids,
        )
        context = _context(cal, min(probe.times), probe.ops)
        return replace(cal, context=context)


def calibrate(
    device: str | torch.device | None = "cpu",
    *,
    num_threads: int | None = None,
    quick: bool = False,
    max_age_s: float | None = None,
) -> Calibration:
    """Measure ``device``'s calibration (a few seconds on a CPU), kept for the process by device,
    thread count and ``quick``.

    Parameters
    ----------
    num_threads:
        torch intra-op threads while measuring (None: the current number), the thread count
        its predictions hold for.
    quick:
        Stop the size sweeps earlier (``bench --quick``).
    max_age_s:
        Measure again when the kept calibration is at least this old (0: now); None keeps
        whatever this process has. A machine's speed drifts over minutes
        (:func:`devicelab.predict.check_prediction`).

    Raises
    ------
    ValueError
        A negative ``max_age_s``.
    """
    where = resolve_device(device)
    threads = num_threads if num_threads is not None else torch.get_num_threads()
    if max_age_s is not None and not max_age_s >= 0:
        raise ValueError(f"max_age_s must be a non-negative number of seconds, got {max_age_s!r}")
    key = (str(where), threads, quick)
    kept = _MEASURED.get(key)
    if kept is None or (max_age_s is not None and time.monotonic() - kept[0] >= max_age_s):
        _MEASURED[key] = (time.monotonic(), _calibrate(*key))
    return _MEASURED[key][1]
