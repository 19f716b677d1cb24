"""The package from the site: the wheel, its install line, and a downloaded example that runs.

The slow test is the reader's path: a fresh virtual environment that installs only the wheel
(pip brings its dependencies), then a gallery script run from a folder that has nothing else.
torch comes from ``constraints.txt`` (the pinned release: a CPU build from local disk on the
project's machines), about a minute and 900 MB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import wheel_download  # docs/_ext: pytest's pythonpath

import devicelab

ROOT = Path(__file__).resolve().parents[1]
NAME = f"devicelab-{devicelab.__version__}-py3-none-any.whl"


def test_wheel_name_and_address():
    assert wheel_download.wheel_name(devicelab.__version__) == NAME
    assert wheel_download.wheel_url("https://example.org/site/", "0.1.0") == (
        "https://example.org/site/devicelab-0.1.0-py3-none-any.whl"
    )


def test_notebooks_install_the_wheel_then_the_repository_then_nothing():
    cell = wheel_download.notebook_install_cell
    assert cell("https://example.org/site", "https://github.com/o/r", "main", "0.1.0") == (
        '%pip install "https://example.org/site/devicelab-0.1.0-py3-none-any.whl"'
    )
    assert cell("", "https://github.com/o/r", "main", "0.1.0") == (
        '%pip install "devicelab @ git+https://github.com/o/r.git@main"'
    )
    assert cell("", "", "main", "0.1.0") is None


def test_the_note_goes_beside_the_download_buttons_in_the_builds_language(tmp_path):
    (tmp_path / "build" / "wheel").mkdir(parents=True)
    (tmp_path / "build" / "wheel" / NAME).write_bytes(b"")

    class App:
        confdir = tmp_path
        builder = type("B", (), {"name": "html"})()
        config = type("C", (), {"release": devicelab.__version__, "language": "zh_CN"})()

    page = "Title\n=====\n\ntext\n\n.. _sphx_glr_download_auto_examples_x_plot_y.py:\n\n.. only:: html\n"
    source = [page]
    wheel_download._add_note(App, "auto_examples/x/plot_y", source)
    before, after = source[0].split(".. _sphx_glr_download_auto_examples_x_plot_y.py:\n")
    assert "devicelab-install-note" in after and "devicelab-install-note" not in before
    assert ":ref:`首页上的一行命令 <install-devicelab>`" in after
    App.config.language = None
    english = [page]
    wheel_download._add_note(App, "auto_examples/x/plot_y", english)
    assert "install it first with" in english[0] and ":doc:`/your_machine`" in english[0]
    untouched = [page]
    wheel_download._add_note(App, "index", untouched)
    assert untouched == [page]


@pytest.mark.parametrize(
    ("base", "expected"),
    [("", f"pip install {NAME}"), ("https://h.org/d", f'pip install "https://h.org/d/{NAME}"')],
)
def test_the_install_line(base, expected):
    line = wheel_download.install_line(base, devicelab.__version__)
    assert line.splitlines()[-1] == expected


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


@pytest.mark.slow
def test_the_wheel_ships_every_data_file_of_the_package(tmp_path):
    """The schemas (results, advice, gpus) and the tables the package reads at run time."""
    wheel = wheel_download.build_wheel(ROOT, tmp_path / "wheel")
    src = ROOT / "src"
    # caches the package writes beside its sources at run time (bytecode, numba's compiled
    # kernels) are not data of the package
    data = {
        path.relative_to(src).as_posix()
        for path in (src / "devicelab").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }
    assert "devicelab/schema/gpus-v1.schema.json" in data
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert data <= shipped, f"missing from the wheel: {sorted(data - shipped)}"


@pytest.mark.slow
def test_a_fresh_venv_with_only_the_wheel_runs_a_downloaded_example(tmp_path):
    wheel = wheel_download.build_wheel(ROOT, tmp_path / "wheel")
    assert wheel.name == NAME
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = _venv_python(venv)
    constraints = ["-c", str(ROOT / "constraints.txt")]  # torch from local disk, not the web
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *constraints, str(wheel)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    downloads = tmp_path / "Downloads"  # a folder with nothing but the downloaded script
    downloads.mkdir()
    script = shutil.copy(ROOT / "examples" / "training" / "plot_cpu_vs_gpu.py", downloads)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "agg"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(python), *args]
        return subprocess.run(
            command, cwd=downloads, env=env, capture_output=True, text=True, timeout=1200
        )

    show = "import devicelab.results as r; print(r.__file__); print(r.recorded_results_dir())"
    where = run("-c", show)
    assert where.returncode == 0, where.stderr
    module, recorded = where.stdout.splitlines()
    assert Path(module).is_relative_to(venv), "devicelab must come from the wheel"
    assert Path(recorded).name == "recorded" and Path(recorded).is_relative_to(venv)
    example = run(Path(script).name)
    assert example.returncode == 0, example.stderr[-3000:]
    assert "CPU:" in example.stdout
    if "No GPU on this machine" in example.stdout:  # the wheel carries the recorded GPU run
        assert "RECORDED, not live" in example.stdout
    doctor = run("-m", "devicelab", "doctor", "--json")
    assert doctor.returncode in (0, 1), doctor.stderr
