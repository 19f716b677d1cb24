"""Every example degrades, never crashes: run on a machine with no C or C++ compiler.

Most Windows laptops, and Macs without Apple's command-line tools, have no compiler, and
``torch.compile`` on the CPU then fails at its first call. Each gallery script runs here as a
reader runs a download: from a folder of its own, with every compiler taken off ``PATH`` and
``CC``/``CXX`` pointing nowhere (``tests/without_compiler.py``). It must exit 0, and a page
that compiles must say what it skipped and why. These are the site's real workloads: minutes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from without_compiler import env_without_compiler  # tests/: pytest's pythonpath

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").rglob("plot_*.py"))
#: What each page that compiles must print instead, without a compiler.
SKIP_LINES = {
    "plot_remedies.py": "Skipped on this CPU: torch.compile: no working C++ compiler",
    "plot_first_step.py": "Skipped: the first compiled call: no working C++ compiler",
}


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_without_a_compiler(example, tmp_path):
    env = env_without_compiler(tmp_path / "env")
    env["MPLBACKEND"] = "agg"
    folder = tmp_path / "download"
    folder.mkdir()
    script = shutil.copy(example, folder)
    done = subprocess.run(
        [sys.executable, Path(script).name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, f"{example.name} exited {done.returncode}:\n{done.stderr[-4000:]}"
    if example.name in SKIP_LINES:
        assert SKIP_LINES[example.name] in done.stdout, done.stdout[-4000:]
        assert "Fix: install a C++ compiler" in done.stdout


def test_every_compiling_example_is_checked():
    """A page that calls torch.compile (directly or through the remedies) is in SKIP_LINES."""
    names = ("compare_remedies", "measure_first_step", "torch.compile(")
    compiling = {p.name for p in EXAMPLES if any(name in p.read_text() for name in names)}
    assert compiling <= set(SKIP_LINES), sorted(compiling - set(SKIP_LINES))
