"""The ``distributed`` section of a results record: what ``python -m devicelab bench`` keeps.
A backend that cannot run is recorded with the reason, never left out silently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..data import load_iris
from .allreduce import allreduce_sweep
from .data_parallel import compare_data_parallel
from .launch import check_world

__all__ = ["FULL_SIZES", "QUICK_SIZES", "record_distributed", "summary_lines"]

#: All-reduce sizes of a full bench, 4 B to 64 MiB.
FULL_SIZES = (*(4 * 16**k for k in range(6)), 16 * 2**20, 64 * 2**20)
#: All-reduce sizes of ``bench --quick``: one latency-bound, one in between, one large.
QUICK_SIZES = (4, 64 * 2**10, 16 * 2**20)
WORLD_SIZE = 2


def record_distributed(
    device: torch.device,
    *,
    quick: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Measure the all-reduce and DDP on the course's MLP with gloo, and NCCL too when
    ``device`` is a GPU: ``{"runs": [...], "skipped": {backend: reason}}``, each run holding
    the sweep's and the comparison's ``to_dict()``. ``quick``: three sizes and a few rounds."""
    backends = ["gloo"] + (["nccl"] if device.type == "cuda" else [])
    sizes = QUICK_SIZES if quick else FULL_SIZES
    plan = (
        {"rounds": 5, "steps": 8, "pairs": 4} if quick else {"rounds": 20, "steps": 20, "pairs": 15}
    )
    data = load_iris()
    runs, skipped = [], {}
    for backend in backends:
        try:
            check_world(WORLD_SIZE, backend)
        except ValueError as error:
            skipped[backend] = str(error)
            continue
        progress(f"distributed: all-reduce of {len(sizes)} sizes between 2 {backend} processes")
        sweep = allreduce_sweep(
            sizes, world_size=WORLD_SIZE, backend=backend, rounds=plan["rounds"]
        )
        progress(f"distributed: DDP on the course's MLP against one process ({backend})")
        comparison = compare_data_parallel(
            "devicelab.models:MLP",
            data.X_train,
            targets=data.y_train,
            world_size=WORLD_SIZE,
            backend=backend,
            steps=plan["steps"],
            rounds=plan["pairs"],
        )
        runs.append(
            {
                "backend": backend,
                "world_size": WORLD_SIZE,
                "sweep": sweep.to_dict(),
                "comparison": comparison.to_dict(),
            }
        )
    return {"runs": runs, "skipped": skipped}


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The bench summary's lines for a recorded ``distributed`` section."""
    lines = []
    for run in section.get("runs", []):
        fit, ratio = run["sweep"]["fit"], run["comparison"]["ratio"]
        busbw = run["sweep"]["points"][-1]["busbw_bytes_per_s"]
        lines.append(
            f"All-reduce between {run['world_size']} {run['backend']} processes: alpha "
            f"{fit['alpha_s']['estimate'] * 1e6:,.1f} µs, beta "
            f"{fit['beta_bytes_per_s']['estimate'] / 1e9:.2f} GB/s, busbw {busbw / 1e9:.2f} GB/s; "
            f"DDP on the course's MLP x{ratio['estimate']:.2f} one process "
            f"(interval x{ratio['low']:.2f} to x{ratio['high']:.2f})"
        )
    for backend, why in section.get("skipped", {}).items():
        lines.append(f"Communication over {backend} skipped: {why}")
    return lines
