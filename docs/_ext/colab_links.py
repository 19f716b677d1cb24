"""A "Run in Google Colab" button on every gallery page and executable narrative page.

Colab opens notebooks from a GitHub repository, so the links point at one configured
repository and branch (``devicelab_repository``, ``devicelab_notebooks_branch`` in conf.py, or
the ``DEVICELAB_*`` environment variables). With no repository configured (the default) there
is nothing for a button to open, so no page gets one.
``nox -s notebooks`` writes the notebooks that branch must hold, in the layout the links use:
``<section>/<example>.ipynb`` for the gallery, ``docs/<page>.ipynb`` for narrative pages. Their
first cell installs devicelab from ``devicelab_repository`` at ``devicelab_branch``.
"""

from __future__ import annotations

import os
import re

from sphinx.application import Sphinx

COLAB = "https://colab.research.google.com/github/{repo}/blob/{branch}/{path}"


def colab_url(app: Sphinx, notebook_path: str) -> str:
    """The Colab URL of a notebook stored at ``notebook_path`` on the notebooks branch."""
    repo = re.sub(r"^https://github\.com/", "", app.config.devicelab_repository).rstrip("/")
    return COLAB.format(repo=repo, branch=app.config.devicelab_notebooks_branch, path=notebook_path)


def notebook_path(docname: str, is_gallery_page: bool) -> str:
    """Where ``nox -s notebooks`` puts the notebook of ``docname``."""
    if is_gallery_page:
        return docname.removeprefix("auto_examples/") + ".ipynb"
    return f"docs/{docname}.ipynb"


def install_cell(repository: str, branch: str) -> str:
    """The first notebook cell: installs devicelab as it was when the site was built.

    Raises
    ------
    ValueError
        ``repository`` is empty: there is nothing to install from.
    """
    if not repository:
        raise ValueError(
            "no repository to install devicelab from: set devicelab_repository in conf.py or "
            "the DEVICELAB_REPOSITORY environment variable"
        )
    return f'%pip install "devicelab @ git+{repository.rstrip("/")}.git@{branch}"'


def _add_button(app: Sphinx, docname: str, source: list[str]) -> None:
    if not app.config.devicelab_repository:  # not hosted: a button would open nothing
        return
    text = source[0]
    gallery = bool(re.match(r"auto_examples/[^/]+/plot_", docname))
    executable = "file_format: mystnb" in text[:400] and docname != "index"  # the front door
    if not (gallery or executable):
        return
    url = colab_url(app, notebook_path(docname, gallery))
    if gallery:
        button = (f"\n.. only:: html\n\n    .. button-link:: {url}\n        :color: primary\n"
                  f"        :outline:\n\n        Run in Google Colab\n\n")  # fmt: skip
        # after the title's underline, the first line made only of '='
        source[0] = re.sub(r"(\n=+\n)", lambda m: m.group(1) + button, text, count=1)
    else:
        button = (
            f"\n:::{{button-link}} {url}\n:color: primary\n:outline:\n\nRun in Google Colab\n:::\n"
        )
        source[0] = re.sub(r"(\n# [^\n]+\n)", lambda m: m.group(1) + button, text, count=1)


def setup(app: Sphinx) -> dict[str, bool]:
    env = os.environ.get
    app.add_config_value("devicelab_repository", env("DEVICELAB_REPOSITORY", ""), "html")
    app.add_config_value("devicelab_branch", env("DEVICELAB_BRANCH", "main"), "html")
    app.add_config_value(
        "devicelab_notebooks_branch", env("DEVICELAB_NOTEBOOKS_BRANCH", "notebooks"), "html"
    )
    app.connect("source-read", _add_button)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
