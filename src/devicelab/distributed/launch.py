"""Starting ranks: ``world_size`` worker processes joined by :mod:`torch.distributed`.

The workers are spawned and meet through a :class:`torch.distributed.TCPStore` that the parent
holds on a port the system chose, so two builds on one machine never collide. The job is an
instance of a class defined in devicelab: a child cannot import a gallery script's functions.

Faults end the run within ``timeout_s`` as a :class:`WorkerError` and leave no process behind:
a job that raises (the error names the rank and carries the worker's traceback), a worker that
dies without a word (its exit code), a worker that hangs (killed at the timeout).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import sys
import threading
import time
import traceback
import types
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ..hardware import cpu_info
from ..timing import torch_threads

__all__ = ["BACKENDS", "Job", "Rank", "WorkerError", "check_world", "run_ranks", "use_libuv"]

#: The backends devicelab starts, gloo (CPUs, every platform) and NCCL (NVIDIA GPUs, Linux).
BACKENDS = ("gloo", "nccl")
HOST = "127.0.0.1"
#: Seconds a worker that has reported gets to exit on its own before it is killed.
EXIT_GRACE_S = 10.0
#: The process group's own timeout exceeds the run's by this much, so that a hung run ends by
#: the parent's kill (whose error says so), not by a rank's timeout first.
GROUP_MARGIN_S = 30.0
#: Starting processes swaps ``sys.modules["__main__"]``: one thread at a time.
_STARTING = threading.Lock()


class WorkerError(RuntimeError):
    """A rank raised, died, or did not finish within the timeout: ``ranks`` are the ranks at
    fault (every rank still running when ``timed_out``)."""

    def __init__(self, message: str, *, ranks: tuple[int, ...], timed_out: bool = False) -> None:
        super().__init__(message)
        self.ranks = ranks
        self.timed_out = timed_out


@dataclass(frozen=True)
class Rank:
    """What a job sees inside one worker: its place in the group, and its ``device`` (the CPU
    for gloo, ``cuda:<rank>`` for NCCL)."""

    rank: int
    world_size: int
    backend: str
    device: torch.device

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        dist.barrier(device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def slowest(self, seconds: list[list[float]]) -> list[list[float]]:
        """Each entry's largest value over the ranks (an all-reduce with ``MAX``): a round of
        a collective lasts as long as its slowest rank."""
        table = torch.tensor(seconds, dtype=torch.float64, device=self.device)
        dist.all_reduce(table, op=dist.ReduceOp.MAX)
        return table.cpu().tolist()


class Job(Protocol):
    """What :func:`~devicelab.distributed.run_ranks` runs in every rank: a picklable object defined
    in a module."""

    def __call__(self, rank: Rank) -> Any: ...


def use_libuv() -> bool:
    """Whether the TCPStore may use its libuv server: not on Windows, whose torch has none
    although torch 2.4 and later ask for it (pytorch/pytorch#139990), nor with ``USE_LIBUV=0``,
    as torch's own rendezvous honours it."""
    return sys.platform != "win32" and os.environ.get("USE_LIBUV", "1") != "0"


def check_world(world_size: int, backend: str) -> None:
    """Refuse a group this machine cannot run.

    Raises
    ------
    ValueError
        An unknown backend, ``world_size`` below 2, more gloo processes than usable CPUs
        (the affinity mask and any cgroup quota), or NCCL without NCCL or enough GPUs.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 2:
        raise ValueError(
            f"world_size must be an integer of at least 2 (one process has nobody to talk "
            f"to), got {world_size!r}"
        )
    if not dist.is_available():
        raise ValueError("this build of torch has no torch.distributed")
    if backend == "gloo":
        usable = cpu_info().usable_cpus or 1
        if world_size > usable:
            raise ValueError(
                f"world_size={world_size} gloo processes need {world_size} CPUs, but this "
                f"process may use {usable} (affinity mask and CPU quota): more processes "
                "than CPUs would measure the scheduler, not the communication"
            )
        return
    if not dist.is_nccl_available():
        raise ValueError("this build of torch has no NCCL (CPU builds, Windows, macOS): use gloo")
    if torch.cuda.device_count() < world_size:
        raise ValueError(
            f"world_size={world_size} NCCL ranks need {world_size} GPUs, this machine has "
            f"{torch.cuda.device_count()}"
        )


def run_ranks(job: Job, *, world_size: int, backend: str, timeout_s: float) -> list[Any]:
    """Run ``job(rank)`` in ``world_size`` spawned processes, one thread each; return each
    rank's result.

    Parameters
    ----------
    job:
        A picklable instance of a class defined in an importable module.
    timeout_s:
        The whole run, start-up included, must end within this many seconds.

    Raises
    ------
    ValueError
        Bad ``world_size`` or ``backend`` (:func:`check_world`) or ``timeout_s``, or a job
        that cannot be pickled.
    WorkerError
        A rank raised, died or hung (see :mod:`devicelab.distributed.launch`).
    """
    check_world(world_size, backend)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    try:
        payload = pickle.dumps(job)
    except Exception as error:
        raise ValueError(
            f"the job cannot be sent to the workers: {type(error).__name__}: {error}"
        ) from error
    store = dist.TCPStore(
        HOST,
        0,  # the system picks a free port and the store keeps it: no race, no collision
        is_master=True,
        wait_for_workers=False,
        timeout=dt.timedelta(seconds=timeout_s),
        use_libuv=use_libuv(),
    )
    context = mp.get_context("spawn")  # the only start method on Windows; the one CUDA needs
    processes, readers = [], []
    deadline = time.monotonic() + timeout_s
    reported = False
    try:
        with _main_not_reimported():
            for rank in range(world_size):
                reader, writer = context.Pipe(duplex=False)
                args = (payload, rank, world_size, backend, store.port, timeout_s, writer)
                process = context.Process(
                    target=_worker, args=args, name=f"devicelab-rank-{rank}", daemon=True
                )
                process.start()
                writer.close()  # the parent keeps only the reading end: EOF means a dead rank
                processes.append(process)
                readers.append(reader)
        results = _collect(processes, readers, deadline, timeout_s)
        reported = True
        return results
    finally:
        _stop(processes, grace_s=EXIT_GRACE_S if reported else 0.0)
        for reader in readers:
            reader.close()
        del store


@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Spawn children with an empty ``__main__``: a spawned child re-imports the parent's
    ``__main__``, which would run a script without an ``if __name__ == "__main__"`` guard again
    in every child; the workers need nothing from it."""
    with _STARTING:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def _collect(
    processes: list, readers: list[Connection], deadline: float, timeout_s: float
) -> list[Any]:
    results: dict[int, Any] = {}
    pending = {reader: rank for rank, reader in enumerate(readers)}
    while pending:
        left = deadline - time.monotonic()
        ready = wait(list(pending), timeout=max(left, 0)) if left > 0 else []
        if not ready:
            missing = tuple(sorted(pending.values()))
            raise WorkerError(
                f"rank(s) {', '.join(map(str, missing))} of {len(readers)} did not finish within "
                f"timeout_s={timeout_s:g} s and were killed: a hung worker, or a collective "
                "waiting for a rank that never came",
                ranks=missing,
                timed_out=True,
            )
        for reader in ready:
            rank = pending.pop(reader)
            try:
                status, value, trace = reader.recv()
            except (EOFError, OSError):
                processes[rank].join(1.0)
                raise WorkerError(
                    f"rank {rank} exited with code {processes[rank].exitcode} without reporting "
                    "(it crashed or was killed)",
                    ranks=(rank,),
                ) from None
            if status == "error":
                raise WorkerError(
                    f"rank {rank} of {len(readers)} failed: {value}\n\nThe worker's traceback:\n"
                    f"{trace}",
                    ranks=(rank,),
                )
            results[rank] = value
    return [results[rank] for rank in range(len(readers))]


def _stop(processes: list, *, grace_s: float) -> None:
    """Join every worker, killing any still alive after ``grace_s`` (0 after a fault: the
    others may wait in a collective for the rank that failed)."""
    grace = time.monotonic() + grace_s
    for process in processes:
        if process.is_alive() and process.exitcode is None:
            process.join(max(grace - time.monotonic(), 0))
    for process in processes:
        if process.is_alive():
            process.kill()
        process.join()


def _worker(
    payload: bytes,
    rank: int,
    world_size: int,
    backend: str,
    port: int,
    timeout_s: float,
    conn: Connection,
) -> None:
    """One rank: join the group, run the job on one thread, report, leave."""
    try:
        job = pickle.loads(payload)
        timeout = dt.timedelta(seconds=timeout_s + GROUP_MARGIN_S)
        store = dist.TCPStore(HOST, port, is_master=False, timeout=timeout, use_libuv=use_libuv())
        device = torch.device("cuda", rank) if backend == "nccl" else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(
            backend, store=store, rank=rank, world_size=world_size, timeout=timeout
        )
        with torch_threads(1):
            outcome = ("ok", job(Rank(rank, world_size, backend, device)), "")
    except BaseException as error:  # reported to the parent, which raises it there
        outcome = ("error", f"{type(error).__name__}: {error}", traceback.format_exc())
    try:
        conn.send(outcome)  # before leaving the group: the first report names the culprit
    finally:
        conn.close()
        if dist.is_initialized():
            dist.destroy_process_group()
