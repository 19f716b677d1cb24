"""Run one page of the site on its own, in a fresh process: a gallery example as the script it
is, a MyST page as its code cells in order (hidden ones included). For the tests that replay a
page against other data (a stand-in GPU, a doctored record) without building the site."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The shipped record of a real H100 (schema v1): the tests doctor copies of it.
H100_RECORD = ROOT / "results" / "nvidia-h100-80gb-hbm3.json"


def shipped_h100() -> dict[str, Any]:
    """A fresh copy of the shipped H100 record, free to doctor."""
    return json.loads(H100_RECORD.read_text(encoding="utf-8"))


def code_cells(markdown: str) -> str:
    """A MyST notebook page's code cells, in order, as one script."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    return "\n\n".join(
        "\n".join(line for line in cell.splitlines() if not line.startswith(":")) for cell in cells
    )


def _page_script(page: str, tmp_path: Path) -> Path:
    """The script that is ``page``: the example itself, or a MyST page's code cells."""
    path = ROOT / page
    if path.suffix != ".md":
        return path
    script = tmp_path / f"{path.stem}_cells.py"
    script.write_text(code_cells(path.read_text(encoding="utf-8")), encoding="utf-8")
    return script


def run_page(
    page: str, env: dict[str, str], tmp_path: Path, *, plant: str | None = None
) -> subprocess.CompletedProcess:
    """Run ``page`` (relative to the repository root) with ``env``; what it printed and its
    exit status come back. A MyST page runs from ``docs/``, as the build runs it.

    ``plant``, Python source, runs first in the same process (see :func:`run_page_with_plant`).
    """
    path = ROOT / page
    script = _page_script(page, tmp_path)
    command = [sys.executable, str(script)]
    if plant is not None:
        plant_file = tmp_path / "plant.py"
        plant_file.write_text(plant, encoding="utf-8")
        command = [sys.executable, "-c", _PLANTED_RUN, str(plant_file), str(script)]
    env = {**env, "MPLBACKEND": "agg", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / ("docs" if path.suffix == ".md" else "."),
        timeout=900,
    )


#: Run the plant (argv[1]), then the page (argv[2]) as ``__main__``, as ``python page.py``
#: would: its own folder first on ``sys.path``, its own path in ``sys.argv``.
_PLANTED_RUN = """
import runpy, sys
plant, page = sys.argv[1], sys.argv[2]
exec(compile(open(plant, encoding="utf-8").read(), plant, "exec"), {"__name__": "__plant__"})
sys.argv = [page]
sys.path[0] = __import__("os").path.dirname(page)
runpy.run_path(page, run_name="__main__")
"""


def run_page_with_plant(
    page: str, plant: str, tmp_path: Path, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``page`` after ``plant``, Python source run first in the same fresh process: it
    patches the function the page measures with (``devicelab.x.f``, before the page's
    ``from devicelab.x import f`` binds it) so that the page sees a planted measurement. The
    page's source, folder and environment are its own; only what it measures is changed."""
    return run_page(page, dict(os.environ if env is None else env), tmp_path, plant=plant)


def wrapping_plant(target: str, planted: str) -> str:
    """A plant that wraps ``target``, ``"module:function"`` or ``"module:Class.method"``.

    ``planted`` is Python source, its opening comment saying what it plants and how that
    contradicts the page, that defines a function ``planted``: it may call ``real``, the
    function it replaces, and the plant puts it in ``real``'s place."""
    module, _, path = target.partition(":")
    *owners, name = path.split(".")
    owner = "".join(f".{o}" for o in owners)
    return (
        f"{textwrap.dedent(planted).strip()}\n"
        "import importlib as _importlib\n"
        f"_owner = _importlib.import_module({module!r}){owner}\n"
        f"real = _owner.{name}\n"
        f"_owner.{name} = planted\n"
    )


def run_page_with_record(
    page: str,
    record: dict[str, Any],
    tmp_path: Path,
    *,
    drop_env: str | None = None,
    plant: str | None = None,
) -> subprocess.CompletedProcess:
    """Run ``page`` with ``record`` as the only recorded result (``DEVICELAB_RESULTS_DIR``),
    without the environment variable ``drop_env`` (e.g. the stand-in's switch), after
    ``plant`` if one is given (see :func:`run_page_with_plant`)."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "doctored.json").write_text(json.dumps(record), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != drop_env}
    env["DEVICELAB_RESULTS_DIR"] = str(folder)
    return run_page(page, env, tmp_path, plant=plant)


def fired_guard(done: subprocess.CompletedProcess) -> str | None:
    """The source line of the assertion that stopped the page, or None when it did not stop
    at an assertion (it passed, or failed some other way)."""
    lines = done.stderr.strip().splitlines()
    if done.returncode == 0 or not lines or not lines[-1].startswith("AssertionError"):
        return None
    asserts = [line.strip() for line in lines if line.strip().startswith("assert ")]
    return asserts[-1] if asserts else None
