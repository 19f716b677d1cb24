"""A stand-in CUDA device: torch reports one GPU, and the tensors "on" it stay on the CPU.

What it is for: running every ``device.type == "cuda"`` branch of devicelab, of
``results/`` and of the examples on a machine without a GPU (CI, a laptop), so that a GPU
session spends its few minutes recording, not debugging.

How it works (:func:`install`; :func:`uninstall` undoes it):

- ``torch.cuda`` is patched to report one device: ``is_available``, ``device_count``,
  ``get_device_name``, ``get_device_properties``, ``get_device_capability``, ``mem_get_info``,
  ``synchronize``, ``current_stream``/``Stream``/``stream``, ``Event`` (its ``elapsed_time``
  reads ``time.perf_counter``), ``CUDAGraph``/``graph``, ``set_device``/``current_device``
  and the memory counters.
- A :class:`~torch.overrides.TorchFunctionMode` keeps every tensor asked for on ``"cuda"``
  (a factory's ``device=``, ``Tensor.to``/``.cuda``, ``Module.to``) on the CPU and marks it.
  A marked tensor says ``device == cuda:0`` and ``is_cuda``; what is computed from a marked
  tensor is marked too; ``.cpu()``/``.to("cpu")`` returns an unmarked copy, and ``.numpy()``
  of a marked tensor raises as it does on a GPU.
- A CUDA graph records the torch calls made inside ``torch.cuda.graph(g)`` (undoing their
  in-place writes when the capture ends: nothing runs during a real capture) and
  ``g.replay()`` calls them again on the same tensors.

What it cannot show:

- **Real kernel timing.** Every time measured under it is the CPU's (plus the mode's
  Python cost per call); no GPU number may ever come from it. Records written under it say
  so in ``device_name`` (:data:`DEVICE_NAME`).
- **Graph capture.** Whether a real capture succeeds (a sync, a host copy or an allocation
  inside it fails on a GPU) is not checked: the recorded calls simply run again.
- **Profiler kernel events.** The profiler sees CPU operators only; the GPU's kernel count
  and busy time are zero.
- **The mixing of CPU and GPU tensors.** An operator given a marked and an unmarked tensor
  runs (on a GPU it raises "Expected all tensors to be on the same device"); only the
  package's own placement checks, which read ``tensor.device``, see the difference.
- torch.compile, on "cuda" or on the CPU: it traces with fake tensors that the stand-in's
  mode cannot mark, so while the stand-in is installed ``devicelab.doctor.compile_unavailable``
  says so, and the pages and the package skip their compiled parts with that reason. NCCL, several GPUs, pinned memory (``pin_memory`` returns a copy), and the CUDA
  version (``torch.version.cuda`` stays as this build has it).

From a script or a subprocess: put ``tests/standin_site`` on ``PYTHONPATH`` and set
``DEVICELAB_CUDA_STANDIN=1``; its ``sitecustomize`` calls :func:`install` at start-up, in
every child process too (``bash results/record.sh --dry-run OUT`` does this).
"""

from __future__ import annotations

import contextlib
import os
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

__all__ = ["DEVICE_NAME", "ENV", "install", "installed", "is_marked", "site_env", "uninstall"]

#: The stand-in GPU's name: a record written under it can never pass for a real one.
DEVICE_NAME = "devicelab stand-in CUDA device (the CPU underneath)"
#: The environment variable that makes ``tests/standin_site/sitecustomize.py`` install it.
ENV = "DEVICELAB_CUDA_STANDIN"
_SITE = Path(__file__).resolve().parent / "standin_site"
_MARK = "_devicelab_standin_cuda"
_PINNED = "_devicelab_standin_pinned"
_CUDA0 = torch.device("cuda", 0)


def is_marked(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` is "on" the stand-in GPU."""
    return bool(tensor.__dict__.get(_MARK, False))


def _mark(value: Any, on: bool = True) -> Any:
    for leaf in tree_flatten(value)[0]:
        if isinstance(leaf, torch.Tensor):
            if on:
                leaf.__dict__[_MARK] = True
            else:
                leaf.__dict__.pop(_MARK, None)
    return value


def _any_marked(args, kwargs) -> bool:
    return any(
        isinstance(t, torch.Tensor) and is_marked(t) for t in tree_flatten((args, kwargs))[0]
    )


def _is_cuda(device: Any) -> bool:
    if isinstance(device, torch.device):
        return device.type == "cuda"
    if isinstance(device, str):
        return device.split(":")[0] == "cuda"
    return False


def _target(args, kwargs) -> tuple[bool | None, tuple, dict]:
    """For ``Tensor.to``'s arguments: whether the target is the GPU (None: no device given),
    and the same arguments with the device replaced by the CPU."""
    args, kwargs = list(args), dict(kwargs)
    for i, a in enumerate(args):
        if isinstance(a, torch.Tensor):  # t.to(other): other's device and dtype
            args[i:i + 1] = ["cpu", a.dtype]  # fmt: skip
            return is_marked(a), tuple(args), kwargs
        if isinstance(a, (str, torch.device)) or (isinstance(a, int) and not isinstance(a, bool)):
            cuda = isinstance(a, int) or _is_cuda(a)
            args[i] = "cpu"
            return cuda, tuple(args), kwargs
    if kwargs.get("device") is not None:
        cuda = _is_cuda(kwargs["device"]) or isinstance(kwargs["device"], int)
        kwargs["device"] = "cpu"
        return cuda, tuple(args), kwargs
    return None, tuple(args), kwargs


def _to(func, self, args, kwargs):
    cuda, args, kwargs = _target(args, kwargs)
    if cuda is None:  # a dtype or memory format only: stays where it is
        return (
            _mark(func(self, *args, **kwargs)) if is_marked(self) else func(self, *args, **kwargs)
        )
    if cuda == is_marked(self):
        return func(self, *args, **kwargs)  # already there: self, unless the dtype changes
    out = func(self, *args, **{**kwargs, "copy": True})  # a move is a new tensor
    return _mark(out, cuda)


class _Graph:
    """``torch.cuda.CUDAGraph``: the torch calls captured, called again by :meth:`replay`."""

    def __init__(self, *args, **kwargs) -> None:
        self.tape: list[tuple] = []
        self.saved: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.capturing = False

    def capture_begin(self, *args, **kwargs) -> None:
        self.capturing = True
        _STATE["graph"] = self

    def capture_end(self) -> None:
        self.capturing = False
        _STATE["graph"] = None
        with torch.no_grad(), torch._C.DisableTorchFunction():
            for tensor, before in self.saved.values():  # nothing runs during a real capture
                tensor.copy_(before)
        self.saved.clear()

    def note(self, func, args, kwargs, out, made: set[int]) -> None:
        """Record one call; keep what an in-place call is about to overwrite."""
        self.tape.append((func, args, kwargs, out))

    def save_before(self, func, args, kwargs) -> None:
        written = []
        name = getattr(func, "__name__", "")
        if name.endswith("_") and not name.endswith("__") and args:
            written.append(args[0])
        written += [t for t in tree_flatten(kwargs.get("out"))[0] if isinstance(t, torch.Tensor)]
        for t in written:
            if (
                isinstance(t, torch.Tensor)
                and id(t) not in self.saved
                and not t.__dict__.get("_devicelab_standin_made_in_capture")
            ):
                with torch._C.DisableTorchFunction():
                    self.saved[id(t)] = (t, t.detach().clone())

    def replay(self) -> None:
        with torch.no_grad():
            for func, args, kwargs, out in self.tape:
                fresh = func(*args, **kwargs)
                if isinstance(out, torch.Tensor) and fresh is not out:
                    out.copy_(fresh)

    def reset(self) -> None:
        self.tape.clear()

    def pool(self) -> None:
        return None


class _Mode(TorchFunctionMode):
    """Keeps "cuda" tensors on the CPU, marked (see the module's docstring)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        special = _SPECIAL.get(func)
        if special is not None:
            return special(func, args, kwargs)
        moved = _is_cuda(kwargs.get("device"))
        if moved:
            kwargs = {**kwargs, "device": "cpu"}
        graph = _STATE["graph"]
        if graph is not None:
            graph.save_before(func, args, kwargs)
        out = func(*args, **kwargs)
        if moved or _any_marked(args, kwargs):
            _mark(out)
        if graph is not None:
            for leaf in tree_flatten(out)[0]:
                if isinstance(leaf, torch.Tensor) and all(leaf is not a for a in args):
                    leaf.__dict__["_devicelab_standin_made_in_capture"] = True
            graph.note(func, args, kwargs, out, set())
        return out


def _numpy(func, args, kwargs):
    if is_marked(args[0]):
        raise TypeError(
            "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
            "tensor to host memory first. (the CUDA stand-in raises what a GPU raises)"
        )
    return func(*args, **kwargs)


def _set_data(func, args, kwargs):
    self, value = args
    func(self, value)
    _mark(self, is_marked(value))  # param.data = moved: the parameter moved (Module.to)


def _pin(func, args, kwargs):
    with torch._C.DisableTorchFunction():
        out = args[0].clone()
    out.__dict__[_PINNED] = True
    return out


_SPECIAL = {
    torch.Tensor.device.__get__: lambda f, a, k: _CUDA0 if is_marked(a[0]) else f(*a, **k),
    torch.Tensor.is_cuda.__get__: lambda f, a, k: is_marked(a[0]),
    torch.Tensor.get_device: lambda f, a, k: 0 if is_marked(a[0]) else f(*a, **k),
    torch.Tensor.to: lambda f, a, k: _to(f, a[0], a[1:], k),
    torch.Tensor.cuda: lambda f, a, k: _to(torch.Tensor.to, a[0], ("cuda",), {}),
    torch.Tensor.cpu: lambda f, a, k: _to(torch.Tensor.to, a[0], ("cpu",), {}),
    torch.Tensor.numpy: _numpy,
    torch.Tensor.data.__set__: _set_data,
    torch.Tensor.pin_memory: _pin,
    torch.Tensor.is_pinned: lambda f, a, k: bool(a[0].__dict__.get(_PINNED, False)),
}


class _Stream:
    """``torch.cuda.Stream``: everything is already done."""

    def __init__(self, device=None, priority: int = 0, **kwargs) -> None:
        self.device = _CUDA0

    def wait_stream(self, stream) -> None:
        return None

    def wait_event(self, event) -> None:
        return None

    def record_event(self, event=None):
        event = event or _Event()
        event.record(self)
        return event

    def synchronize(self) -> None:
        return None

    def query(self) -> bool:
        return True


class _Event:
    """``torch.cuda.Event``: ``elapsed_time`` in ms between two ``record`` calls, on the
    host's clock (everything ran when it was called: nothing is queued)."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, **kwargs) -> None:
        self.time: float | None = None

    def record(self, stream=None) -> None:
        self.time = time.perf_counter()

    def synchronize(self) -> None:
        return None

    def wait(self, stream=None) -> None:
        return None

    def query(self) -> bool:
        return True

    def elapsed_time(self, end: _Event) -> float:
        if self.time is None or end.time is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return (end.time - self.time) * 1e3


@contextlib.contextmanager
def _graph(cuda_graph, pool=None, stream=None, **kwargs):
    with torch.no_grad():
        cuda_graph.capture_begin()
        try:
            yield cuda_graph
        finally:
            cuda_graph.capture_end()


def _properties(index: int = 0) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        name=DEVICE_NAME,
        major=9,
        minor=0,
        total_memory=80 * 2**30,
        multi_processor_count=132,
        L2_cache_size=50 * 2**20,
        is_integrated=False,
        uuid="stand-in",
    )


def _check_index(device=None) -> None:
    index = device.index if isinstance(device, torch.device) else device
    if isinstance(index, str):
        index = torch.device(index).index
    if index not in (None, 0):
        raise RuntimeError(
            f"CUDA error: invalid device ordinal (stand-in has one GPU, not {index})"
        )


def _patches() -> dict[str, Any]:
    stream = _Stream()

    def zero() -> Any:  # a new function for each name: dynamo's rules map each name once
        return lambda *args, **kwargs: 0

    def nothing() -> Any:
        return lambda *args, **kwargs: None

    return {
        "is_available": lambda: True,
        "device_count": lambda: 1,
        "is_initialized": lambda: True,
        "init": nothing(),
        "current_device": lambda: 0,
        "set_device": _check_index,
        "get_device_name": lambda device=None: (_check_index(device), DEVICE_NAME)[1],
        "get_device_properties": lambda device=None: (_check_index(device), _properties())[1],
        "get_device_capability": lambda device=None: (9, 0),
        "mem_get_info": lambda device=None: (70 * 2**30, 80 * 2**30),
        "synchronize": lambda device=None: _check_index(device),
        "current_stream": lambda device=None: stream,
        "default_stream": lambda device=None: stream,
        "Stream": _Stream,
        "stream": lambda s=None: contextlib.nullcontext(s),
        "Event": _Event,
        "CUDAGraph": _Graph,
        "graph": _graph,
        "device": lambda device=None: contextlib.nullcontext(),
        "empty_cache": nothing(),
        "memory_allocated": zero(),
        "max_memory_allocated": zero(),
        "memory_reserved": zero(),
        "max_memory_reserved": zero(),
        "reset_peak_memory_stats": nothing(),
        "manual_seed": nothing(),
        "manual_seed_all": nothing(),
        # The CUDA generator's state (torch.compile saves and restores it around a trace): the
        # CPU generator's stands in for it.
        "get_rng_state": lambda device="cuda": torch.get_rng_state(),
        "set_rng_state": lambda new_state, device="cuda": None,
        "get_rng_state_all": lambda: [torch.get_rng_state()],
        "set_rng_state_all": lambda new_states: None,
    }


_STATE: dict[str, Any] = {"mode": None, "saved": None, "graph": None}


def installed() -> bool:
    """Whether the stand-in is installed in this process."""
    return _STATE["mode"] is not None


def install() -> None:
    """Make torch report one CUDA device whose tensors stay on the CPU (idempotent)."""
    if installed():
        return
    patches = _patches()
    saved = {name: getattr(torch.cuda, name, None) for name in patches}
    saved["_module_cuda"] = nn.Module.cuda
    saved["_parameter_new"] = nn.Parameter.__new__
    saved["_parameter_deepcopy"] = nn.Parameter.__deepcopy__
    for name, value in patches.items():
        setattr(torch.cuda, name, value)
    nn.Module.cuda = lambda self, device=None: self.to("cuda")  # type: ignore[method-assign]
    new, deepcopy = nn.Parameter.__new__, nn.Parameter.__deepcopy__

    def parameter(cls, data=None, requires_grad=True):  # a parameter of a marked tensor
        out = new(cls, data, requires_grad)
        return _mark(out) if data is not None and is_marked(data) else out

    def parameter_copy(self, memo):
        out = deepcopy(self, memo)
        return _mark(out) if is_marked(self) else out

    nn.Parameter.__new__ = parameter  # type: ignore[method-assign]
    nn.Parameter.__deepcopy__ = parameter_copy  # type: ignore[method-assign]
    mode = _Mode()
    mode.__enter__()
    _STATE.update(mode=mode, saved=saved)
    _refuse_compile()


COMPILE_REFUSED = (
    "the CUDA stand-in (tests/cuda_standin.py) is installed: torch.compile cannot trace through "
    "its tensor mode, on the CPU or on the stand-in GPU"
)


def _refuse_compile() -> None:
    # torch.compile traces with fake tensors, which the stand-in's mode cannot mark; the pages
    # and the package ask the doctor first, so the doctor says why it is skipped.
    import devicelab.doctor
    import devicelab.doctor.checks

    saved = _STATE["saved"]
    saved["_compile_unavailable"] = devicelab.doctor.checks.compile_unavailable
    for module in (devicelab.doctor, devicelab.doctor.checks):
        module.compile_unavailable = _refused


def _refused(device: object) -> str:
    return COMPILE_REFUSED


@contextlib.contextmanager
def doctor_compile_check() -> Iterator[None]:
    """Inside this block the doctor's own ``compile_unavailable`` is back (it is refused while
    the stand-in is installed): for the tests that probe that check itself."""
    import devicelab.doctor
    import devicelab.doctor.checks

    modules = (devicelab.doctor, devicelab.doctor.checks)
    for module in modules:
        module.compile_unavailable = _STATE["saved"]["_compile_unavailable"]
    try:
        yield
    finally:
        for module in modules:
            module.compile_unavailable = _refused


def uninstall() -> None:
    """Undo :func:`install`."""
    if not installed():
        return
    _STATE["mode"].__exit__(None, None, None)
    saved = _STATE["saved"]
    nn.Module.cuda = saved.pop("_module_cuda")
    nn.Parameter.__new__ = saved.pop("_parameter_new")
    nn.Parameter.__deepcopy__ = saved.pop("_parameter_deepcopy")
    import devicelab.doctor
    import devicelab.doctor.checks

    compile_unavailable = saved.pop("_compile_unavailable")
    for module in (devicelab.doctor, devicelab.doctor.checks):
        module.compile_unavailable = compile_unavailable
    for name, value in saved.items():
        if value is None:
            delattr(torch.cuda, name)
        else:
            setattr(torch.cuda, name, value)
    _STATE.update(mode=None, saved=None, graph=None)


def site_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with the stand-in turned on for child processes."""
    env = dict(os.environ if env is None else env)
    paths = [str(_SITE), str(_SITE.parent)] + env.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env[ENV] = "1"
    return env
