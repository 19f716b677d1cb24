"""The pages on a GPU and on records of one: every example run live under the CUDA stand-in
(tests/cuda_standin.py), and every page that reads records replayed against a doctored v3
GPU record (``DEVICELAB_RESULTS_DIR``), with and without a breakdown, with a ``None``
crossover. All slow: each runs a page in a fresh process. A failure here may be a page's own
(the examples are rewritten often); the message names the page and ends with its output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cuda_standin
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("examples/**/plot_*.py"))
READERS = ("newest_record", "recorded_results", "find_results", "load_results")


def _reads_records(path: Path) -> bool:
    return any(name in path.read_text(encoding="utf-8") for name in READERS)


RECORD_PAGES = [p for p in EXAMPLES if _reads_records(ROOT / p)] + [
    p.relative_to(ROOT).as_posix()
    for p in sorted((ROOT / "docs").glob("*.md"))
    if _reads_records(p)
]
pytestmark = pytest.mark.slow


def _code_cells(markdown: str) -> str:
    """A MyST notebook page's code cells, in order, as one script."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    return "\n\n".join(
        "\n".join(line for line in cell.splitlines() if not line.startswith(":")) for cell in cells
    )


def _run_page(page: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    path = ROOT / page
    script = path
    if path.suffix == ".md":
        script = tmp_path / f"{path.stem}_cells.py"
        script.write_text(_code_cells(path.read_text(encoding="utf-8")), encoding="utf-8")
    env = {**env, "MPLBACKEND": "agg", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / ("docs" if path.suffix == ".md" else "."),
        timeout=900,
    )


# Examples whose live GPU branch the stand-in cannot carry to the end, and why. Listed, not
# silently dropped: pytest reports each as skipped with its reason (-ra).
STAND_IN_CANNOT = {
    "examples/overheads/plot_remedies.py": (
        "its hidden checks compare the live GPU's remedies (a CUDA graph fastest on the GPU); "
        "under the stand-in the 'GPU' times are the CPU's, so the claim cannot hold"
    ),
    "examples/your_model/plot_advise.py": (
        "its hidden check compares each prediction with the measured step; under the stand-in "
        "the 'GPU' step is measured on the CPU, so a GPU-priced prediction can miss by > 2x"
    ),
    "examples/overheads/plot_utilization.py": (
        "predict_step traces the step on the meta device, and the stand-in's tensor mode "
        "breaks that trace (operators._trace then falls back to a copy it cannot make)"
    ),
}


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(e, marks=pytest.mark.skip(reason=STAND_IN_CANNOT[e]))
        if e in STAND_IN_CANNOT
        else e
        for e in EXAMPLES
    ],
)
def test_every_example_runs_live_on_the_stand_in_gpu(example, tmp_path):
    done = _run_page(example, cuda_standin.site_env(), tmp_path)
    assert done.returncode == 0, (
        f"{example} on the stand-in GPU:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )


# A whole v3 record of `bench --device cuda --quick` under the stand-in (every section, made by
# `results/record.sh --dry-run`; see its "command" and "created"). Kept as data so the page tests
# do not spend minutes re-running the bench; tests/test_cuda_branches.py runs bench itself.
STANDIN_RECORD = Path(__file__).parent / "data" / "standin-gpu-v3.json"


@pytest.fixture(scope="module")
def gpu_record() -> dict:
    """The stand-in's v3 record, doctored: named as a real GPU, with ``None`` crossovers."""
    record = json.loads(STANDIN_RECORD.read_text(encoding="utf-8"))
    record["device_name"] = "NVIDIA H100 80GB HBM3"  # a name the datasheet table knows
    record["created"] = "2099-01-01T00:00:00+00:00"  # the newest, whatever else is recorded
    for axis in ("width", "batch", "deep"):
        record["measurements"]["utilization"][f"crossover_{axis}"] = None  # never overtakes
    assert record["measurements"]["breakdown"]["runs"] and record["measurements"]["roofline"]
    return record


# Every record page with the doctored record (a breakdown, ceilings, None crossovers); the
# narrative pages, whose sentences change with the breakdown, also without one. (The docs build
# itself reads the shipped v1 record, which has none.)
CASES = [(page, True) for page in RECORD_PAGES] + [
    (page, False) for page in RECORD_PAGES if page.endswith(".md")
]


@pytest.mark.parametrize(("page", "breakdown"), CASES, ids=[f"{p}-{b}" for p, b in CASES])
def test_every_record_page_reads_a_doctored_v3_gpu_record(page, breakdown, gpu_record, tmp_path):
    record = json.loads(json.dumps(gpu_record))
    if not breakdown:
        del record["measurements"]["breakdown"]
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "doctored-gpu.json").write_text(json.dumps(record), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != cuda_standin.ENV}
    env["DEVICELAB_RESULTS_DIR"] = str(folder)
    done = _run_page(page, env, tmp_path)
    assert done.returncode == 0, (
        f"{page} on a doctored record:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
