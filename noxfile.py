"""Sessions: ``nox -s docs`` builds and verifies the site, ``nox -s tests`` runs pytest.

torch is installed with ``-c constraints.txt`` (torch==2.13.0) everywhere: on the project's
machines that pin is a CPU build from local disk, while an open range would pull a CUDA build of
several GB. Venvs are reused, so a rebuild does not reinstall torch.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from build_command import (  # noqa: E402 - found through the line above
    SPHINX_ARGS,
    TRANSLATION_ARGS,
    VERIFY_ARGS,
    VERIFY_TRANSLATION_ARGS,
)

CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))
BUILD_PRODUCTS = [
    ROOT / "build" / "html",
    ROOT / "build" / "doctrees",
    ROOT / "build" / "doctrees-zh_CN",
    ROOT / "build" / "jupyter_cache",  # emptied, so the English build executes every notebook
    ROOT / "build" / "wheel",  # the wheel the site serves, rebuilt from these sources
    ROOT / "docs" / "auto_examples",
    ROOT / "docs" / "jupyter_execute",
    ROOT / "docs" / "sg_execution_times.rst",
]

nox.options.sessions = ["lint", "tests", "docs", "course_code", "site"]
nox.options.default_venv_backend = "virtualenv"


def _install(session: nox.Session, extras: str) -> None:
    session.install(*CONSTRAINTS, "-e", f".[{extras}]")


@nox.session(reuse_venv=True)
def docs(session: nox.Session) -> None:
    """Build the site from scratch with every example executed, then verify it."""
    _install(session, "docs")
    session.install("hatchling>=1.24")  # builds the wheel without an isolated environment
    session.run("python", "docs/_ext/check_prose.py", "docs", "examples")
    # A strict build must start clean: an incremental rebuild skips unchanged pages and can
    # turn a failing build green without fixing it.
    for path in BUILD_PRODUCTS:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    # The package as a wheel, served by the site (docs/_ext/wheel_download.py).
    session.run("python", "docs/_ext/wheel_download.py", "build/wheel")
    session.run("sphinx-build", *SPHINX_ARGS, *session.posargs)
    # The Chinese edition executes nothing: it shows what the English build just ran.
    session.run("sphinx-build", *TRANSLATION_ARGS, *session.posargs)
    session.run("python", *VERIFY_ARGS)
    for verify in VERIFY_TRANSLATION_ARGS:
        session.run("python", *verify)
    session.log(f"Open {ROOT / 'build' / 'html' / 'index.html'} in a browser.")


@nox.session(venv_backend="none")
def translations(session: nox.Session) -> None:
    """Update the catalogues in docs/locales/zh_CN from the English sources, then count them."""
    # The docs venv has everything the extraction needs; a third torch venv would cost minutes.
    python = ROOT / ".nox" / "docs" / "bin" / "python"
    if not python.exists():
        session.error(
            "this session runs in the docs venv: create it with `nox -s docs --install-only`"
        )
    session.run(str(python), "docs/_ext/catalogues.py", "update", *session.posargs, external=True)


@nox.session(reuse_venv=True)
def course_code(session: nox.Session) -> None:
    """Run the course's marked cells from the built pages with only torch, scikit-learn and
    matplotlib installed (after `nox -s docs`): the code a learner copies runs as shown."""
    if not (ROOT / "build" / "html" / "index.html").is_file():
        session.error("build/html is missing: run `nox -s docs` first")
    # Deliberately not devicelab: the course's code must not need the package.
    session.install(*CONSTRAINTS, "torch", "scikit-learn", "matplotlib")
    session.run("python", "docs/_ext/course_code.py", "build/html")


@nox.session(reuse_venv=True)
def tests(session: nox.Session) -> None:
    """Run the fast test selection; ``nox -s tests -- -m ""`` runs everything (as CI does),
    including the throw-away Sphinx builds that must fail."""
    _install(session, "test,docs")
    # Every recorded results file, including one a contributor adds in a pull request, must
    # validate against its schema before anything else runs.
    session.run(
        "python", "-m", "devicelab", "validate", *sorted(map(str, ROOT.glob("results/*.json")))
    )
    session.run("pytest", *session.posargs)


@nox.session(reuse_venv=True)
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(reuse_venv=True)
def site(session: nox.Session) -> None:
    """Open every page of the built site in Debian's Chromium (Playwright) and check it."""
    if not (ROOT / "build" / "html" / "index.html").is_file():
        session.error("build/html is missing: run `nox -s docs` first")
    # Debian's Chromium: Playwright's own browser download does not work offline. A Chinese
    # font: without one the Chinese pages and their screenshots show a box for every glyph.
    needed = {
        "chromium": Path("/usr/bin/chromium"),
        "fonts-wqy-microhei": Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    }
    missing = [package for package, path in needed.items() if not path.exists()]
    if missing:
        session.run("apt-get", "update", "-q", external=True)
        session.run("apt-get", "install", "-y", "-q", *missing, external=True)
    session.install("playwright>=1.45")
    session.run(
        "python", "docs/_ext/site_check.py", "build/html", "--screenshots", "build/screenshots"
    )


@nox.session(reuse_venv=True)
def notebooks(session: nox.Session) -> None:
    """Write the notebooks the Colab links open, into build/notebooks (after `nox -s docs`)."""
    _install(session, "docs")
    session.run("python", "docs/_ext/make_notebooks.py", "build/notebooks")
