"""The "Run in Google Colab" button appears only when a repository is configured: no dead end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from colab_links import _add_button, install_cell  # docs/_ext: pytest's pythonpath

GALLERY_RST = "Title\n=====\n\nText.\n"
PAGE_MD = "---\nfile_format: mystnb\n---\n\n# A page\n\nText.\n"


def fake_app(repository: str) -> SimpleNamespace:
    return SimpleNamespace(
        config=SimpleNamespace(
            devicelab_repository=repository, devicelab_notebooks_branch="notebooks"
        )
    )


@pytest.mark.parametrize(
    ("docname", "text", "notebook"),
    [
        ("auto_examples/training/plot_x", GALLERY_RST, "training/plot_x.ipynb"),
        ("why_gpu_slower", PAGE_MD, "docs/why_gpu_slower.ipynb"),
    ],
)
def test_a_button_only_when_a_repository_is_configured(docname, text, notebook):
    source = [text]
    _add_button(fake_app(""), docname, source)
    assert source == [text]
    _add_button(fake_app("https://github.com/acme/devicelab"), docname, source)
    url = f"https://colab.research.google.com/github/acme/devicelab/blob/notebooks/{notebook}"
    assert url in source[0] and "Run in Google Colab" in source[0]


def test_no_install_cell_without_a_repository():
    with pytest.raises(ValueError, match="DEVICELAB_REPOSITORY"):
        install_cell("", "main")


def texts_under(folder: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in {".html", ".ipynb", ".py", ".js", ".txt", ".rst"}
    )


def build_with(tmp_path: Path, monkeypatch, repository: str | None) -> Path:
    from sphinx_project import build, make_project

    if repository is None:
        monkeypatch.delenv("DEVICELAB_REPOSITORY", raising=False)
    else:
        monkeypatch.setenv("DEVICELAB_REPOSITORY", repository)
    project = make_project(tmp_path)
    result = build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    notebooks = subprocess.run(
        [sys.executable, "docs/_ext/make_notebooks.py", "build/notebooks"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert notebooks.returncode == 0, notebooks.stdout + notebooks.stderr
    return project


@pytest.mark.slow
def test_unconfigured_site_has_no_trace_of_colab(tmp_path, monkeypatch):
    project = build_with(tmp_path, monkeypatch, None)
    built = texts_under(project / "build" / "html") + texts_under(project / "build" / "notebooks")
    assert "colab" not in built.lower()
    assert "%pip install" not in built  # no install cell pointing at a placeholder
    assert (project / "build" / "notebooks" / "docs" / "page.ipynb").is_file()


@pytest.mark.slow
def test_configured_site_links_the_right_notebooks(tmp_path, monkeypatch):
    project = build_with(tmp_path, monkeypatch, "https://github.com/acme/devicelab")
    html = project / "build" / "html"
    colab = "https://colab.research.google.com/github/acme/devicelab/blob/notebooks/"
    assert (
        f"{colab}python/plot_call_method.ipynb"
        in (html / "auto_examples" / "python" / "plot_call_method.html").read_text()
    )
    assert f"{colab}docs/page.ipynb" in (html / "page.html").read_text()
    install = '%pip install "devicelab @ git+https://github.com/acme/devicelab.git@main"'
    for notebook in ("python/plot_call_method.ipynb", "docs/page.ipynb"):
        cells = json.loads((project / "build" / "notebooks" / notebook).read_text())["cells"]
        assert "".join(cells[0]["source"]) == install
