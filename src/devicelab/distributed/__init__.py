"""Overhead 4: talking to other devices, measured with :mod:`torch.distributed`.

Data-parallel training (``DistributedDataParallel``) all-reduces the gradients at every step:
a fixed cost per step, paid in messages between processes. This package measures it between
real processes on the reader's machine, with gloo between CPU processes and NCCL between GPUs.
"""

from __future__ import annotations

from .allreduce import (
    AllReducePoint,
    AllReduceSweep,
    HockneyFit,
    allreduce_sweep,
    bus_bandwidth,
    hockney_fit,
)
from .crossover import (
    Bracket,
    CrossoverPoint,
    DataParallelCrossover,
    data_parallel_crossover,
    predicted_crossover_batch,
)
from .data_parallel import DataParallelComparison, ModelFactory, compare_data_parallel
from .launch import BACKENDS, WorkerError, check_world, run_ranks

__all__ = [
    "BACKENDS",
    "AllReducePoint",
    "AllReduceSweep",
    "Bracket",
    "CrossoverPoint",
    "DataParallelComparison",
    "DataParallelCrossover",
    "HockneyFit",
    "ModelFactory",
    "WorkerError",
    "allreduce_sweep",
    "bus_bandwidth",
    "check_world",
    "compare_data_parallel",
    "data_parallel_crossover",
    "hockney_fit",
    "predicted_crossover_batch",
    "run_ranks",
]
