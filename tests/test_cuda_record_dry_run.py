"""``bash results/record.sh --dry-run``: the script a GPU session runs, run to the end under the
CUDA stand-in (tests/cuda_standin.py), and the quick calibration that keeps it short.

The test's dry run is the script's own, with its quickest settings: the bench measures one
section (``--only sync``; every section of ``bench --device cuda --quick`` is run on the
stand-in by test_cuda_branches.py), the advisor check one model, and one example runs (each
example has its own test on the stand-in, in test_cuda_pages.py).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import cuda_standin
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from devicelab import predict
from devicelab.advise import report
from devicelab.results import load_results
from devicelab.steps import sgd_lr_0_01

ROOT = Path(__file__).resolve().parents[1]
#: The one example the dry run runs: quick, and it takes the live GPU branch of its page.
EXAMPLE = "examples/hardware/plot_inspect_gpu.py"
QUICKEST = {
    "BENCH_ARGS": "--quick --only sync",
    "ADVISE_ARGS": "--quick --models iris_mlp",
    "EXAMPLES": EXAMPLE,
    "LIMIT_S": "600",
}


class _Asked(Exception):
    """Raised by the stand-in calibrate: what was asked is all these tests look at."""


@pytest.fixture
def calibrations(monkeypatch):
    """The calibrations predict asks for, as (device, threads, quick); none is measured."""
    asked = []

    def calibrate(device="cpu", *, num_threads=None, quick=False, max_age_s=None):
        asked.append((str(device), num_threads, quick))
        raise _Asked

    monkeypatch.setattr(predict, "calibrate", calibrate)
    return asked


def _linear():
    torch.manual_seed(0)
    return nn.Linear(4, 3), torch.randn(8, 4), torch.randint(0, 3, (8,))


def test_predict_step_on_a_gpu_calibrates_quickly_when_asked(cuda_standin, calibrations):
    model, x, y = _linear()
    for device, quick in (("cuda", False), ("cuda", True), ("H100 SXM", True)):
        with pytest.raises(_Asked):
            predict.predict_step(model, x, targets=y, device=device, quick_calibration=quick)
    assert calibrations == [("cuda:0", 1, False), ("cuda:0", 1, True), ("cpu", 1, True)]


def test_advise_passes_its_quick_calibration_to_every_prediction(cuda_standin, calibrations):
    model, x, y = _linear()
    for quick in (False, True):
        work = report._Workload(
            model=model,
            inputs=(x,),
            targets=y,
            loss_fn=F.cross_entropy,
            optimizer=sgd_lr_0_01,
            quick_calibration=quick,
        )
        with pytest.raises(_Asked):
            report._predict(work, 8, torch.device("cuda", 0))
    assert calibrations == [("cuda:0", 1, False), ("cuda:0", 1, True)]


@pytest.mark.slow
def test_record_dry_run_runs_to_the_end_and_writes_a_record_that_validates(tmp_path):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != cuda_standin.ENV}
    env |= {"PYTHON": sys.executable, **QUICKEST}
    done = subprocess.run(
        ["bash", "results/record.sh", "--dry-run", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=1200,
    )
    log = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, log
    assert "DRY RUN" in done.stdout and "s in all" in done.stdout, log
    record = load_results(out / "gpu.json")  # validates against its schema
    assert record["device"] == "cuda:0" and record["device_name"] == cuda_standin.DEVICE_NAME
    assert "partial" not in record
    models = record["measurements"]["advice"]["models"]
    assert [m["model"] for m in models] == ["iris_mlp"]
    assert models[0]["measured_step_s"] > 0 and models[0]["predicted_step_s"] > 0
    for name in ("report.txt", "report.json", "bench.log", "advise.log", "nvidia-smi.csv"):
        assert (out / name).stat().st_size > 0, name
    with open(out / "examples" / "times.tsv", encoding="utf-8") as table:
        rows = list(csv.DictReader(table, delimiter="\t"))
    assert [(r["example"], r["rc"]) for r in rows] == [(EXAMPLE, "0")], rows
