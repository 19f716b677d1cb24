"""Run one page of the site on its own, in a fresh process: a gallery example as the script it
is, a MyST page as its code cells in order (hidden ones included). For the tests that replay a
page against other data (a stand-in GPU, a doctored record) without building the site."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def code_cells(markdown: str) -> str:
    """A MyST notebook page's code cells, in order, as one script."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    return "\n\n".join(
        "\n".join(line for line in cell.splitlines() if not line.startswith(":")) for cell in cells
    )


def run_page(page: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``page`` (relative to the repository root) with ``env``; what it printed and its
    exit status come back. A MyST page runs from ``docs/``, as the build runs it."""
    path = ROOT / page
    script = path
    if path.suffix == ".md":
        script = tmp_path / f"{path.stem}_cells.py"
        script.write_text(code_cells(path.read_text(encoding="utf-8")), encoding="utf-8")
    env = {**env, "MPLBACKEND": "agg", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / ("docs" if path.suffix == ".md" else "."),
        timeout=900,
    )


def fired_guard(done: subprocess.CompletedProcess) -> str | None:
    """The source line of the assertion that stopped the page, or None when it did not stop
    at an assertion (it passed, or failed some other way)."""
    lines = done.stderr.strip().splitlines()
    if done.returncode == 0 or not lines or not lines[-1].startswith("AssertionError"):
        return None
    asserts = [line.strip() for line in lines if line.strip().startswith("assert ")]
    return asserts[-1] if asserts else None
