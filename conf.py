"""Sphinx configuration for devicelab.

Sources are read from ``docs/``; sphinx-gallery executes ``examples/`` at build time; MyST-NB
executes the narrative notebooks. Build it with ``nox -s docs`` (strict: ``-W``, from scratch).
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

import devicelab

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from wheel_download import notebook_install_cell  # noqa: E402 - lives in docs/_ext, added above

# Where the project is hosted: "Run in Google Colab" links and the notebooks' install cell
# are built from these. Empty (the default): no hosted repository, so no Colab button, and no
# install cell unless the site's address is set (below). A hosted copy sets
# DEVICELAB_REPOSITORY / DEVICELAB_BRANCH.
devicelab_repository = os.environ.get("DEVICELAB_REPOSITORY", "")
devicelab_branch = os.environ.get("DEVICELAB_BRANCH", "main")
devicelab_notebooks_branch = os.environ.get("DEVICELAB_NOTEBOOKS_BRANCH", "notebooks")
# Where the built site is served, e.g. https://example.org/devicelab/ (optional). Set: the
# landing page's install line and the notebooks' first cell install the wheel from there.
# Empty (the default): the landing page links the wheel relatively and names the file to
# install, and the notebooks install from the repository above, if one is set.
devicelab_base_url = os.environ.get("DEVICELAB_BASE_URL", "")
devicelab_install_cell = notebook_install_cell(
    devicelab_base_url, devicelab_repository, devicelab_branch, devicelab.__version__
)

# No MPLBACKEND here: sphinx-gallery switches matplotlib to agg itself, and the notebook
# kernels (which inherit this environment) need their inline backend to show figures.

project = "devicelab"
author = "devicelab contributors"
copyright = "2026, devicelab contributors"
release = devicelab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
    "myst_nb",
    "sphinx_design",
    "sphinx_copybutton",
    "colab_links",
    "wheel_download",  # docs/_ext: the package's wheel served by the site, and its install line
    "noise_log",  # docs/_ext: noise-meter readings through the build (build/noise.json)
    "translations",  # docs/_ext: the Chinese edition (language switch, execute once)
    "course_code",  # docs/_ext: the course's cells keep their mark in the HTML
    "lesson_path",  # docs/_ext: "Previous" and "Next" follow the course's order, each page once
]

exclude_patterns = [
    "_build",
    "jupyter_execute",
    # sphinx-gallery writes a notebook next to each generated page; myst-nb must not claim it.
    "auto_examples/**.ipynb",
    "auto_examples/**.py",
    "**/GALLERY_HEADER.rst",
]

# -- MyST-NB: narrative pages are notebooks executed at build time -----------------------------
# "cache": the English build executes every notebook into build/jupyter_cache (which `nox -s docs`
# empties first, so every build runs every notebook); the Chinese build then reads the outputs.
nb_execution_mode = "cache"
nb_execution_cache_path = str(ROOT / "build" / "jupyter_cache")
nb_execution_raise_on_error = True
# The landing page trains the course model once: seconds, more on a busy machine.
nb_execution_timeout = 600
nb_execution_show_tb = True
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# -- sphinx-gallery: examples are executed and their output embedded ----------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "subsection_order": [
        "../examples/python",
        "../examples/hardware",
        "../examples/training",
        "../examples/overheads",
        "../examples/your_model",
    ],
    "within_subsection_order": "gallery_order.LessonOrder",
    # Every build runs every example: a page never shows timings from another machine.
    "run_stale_examples": True,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "download_all_examples": True,
    "line_numbers": False,
    "matplotlib_animations": False,
    # A cell that ends with a matplotlib call (ax.legend(...), fig.suptitle(...)) would print
    # that object's repr on the page; a reader needs the figure, not "<Legend object at ...>".
    "ignore_repr_types": r"matplotlib\.",
    # sphinx-gallery's matplotlib scraper, after a check that fails the example when a figure's
    # text overlaps other text, a legend or a data marker (docs/_ext/figure_check.py); each
    # figure is also saved with its text in Chinese, from the same run
    # (docs/_ext/translated_figures.py).
    "image_scrapers": ("translated_figures.scraper",),
    # A noise-meter reading after every example (docs/_ext/noise_log.py); the matplotlib and
    # seaborn resets are sphinx-gallery's defaults, kept.
    "reset_modules": ("matplotlib", "seaborn", "noise_log.reading_after_example"),
    "reset_modules_order": "both",
    "first_notebook_cell": devicelab_install_cell,
    # The computation-times page loads jQuery and DataTables from CDNs, which fails offline;
    # each example page still states its own run time.
    "write_computation_times": False,
}

# -- Translations: Simplified Chinese at build/html/zh_CN (docs/translating.md) ------------------
# Catalogues in docs/locales/zh_CN/LC_MESSAGES/, one per page (gettext_compact=False), mirroring
# the page's path; no source line numbers in them, so editing a page changes only its messages.
# The extension `translations` adds the language switch and keeps docstrings English.
locale_dirs = ["locales/"]  # relative to docs/
gettext_compact = False
gettext_location = False
gettext_uuid = False
exclude_patterns += ["translating.md"]  # the translators' guide, read in the repository

# -- API docs -----------------------------------------------------------------------------------
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Offline: each inventory is a local file (docs/_inv), so the build never reaches the web.
# python.inv is Python 3.11's objects.inv (Debian's python3.11-doc); torch.inv lists the torch
# objects these pages link to (docs/_inv/make_torch_inv.py).
intersphinx_mapping = {
    "python": ("https://docs.python.org/3.11", ("_inv/python.inv",)),
    "torch": ("https://docs.pytorch.org/docs/stable", ("_inv/torch.inv",)),
}
# Every cross-reference must resolve: a docstring or page that cites a devicelab name which
# does not exist fails the build (-W). The exemptions, each a name no inventory here can hold:
nitpicky = True
nitpick_ignore_regex = [
    # Other projects' names. Offline there is no inventory for numpy, matplotlib or
    # scikit-learn, and torch.inv holds only the torch objects the pages link to (PyTorch's own
    # objects.inv ships with no package), so type hints naming their types cannot resolve.
    (r"py:.*", r"(torch|numpy|matplotlib|sklearn)(\..+)?"),
    # Private devicelab types in a public annotation (bench's section runners take a `_Run`):
    # private on purpose, so they have no entry on the API page.
    (r"py:class", r"devicelab\.(\w+\.)*_\w+"),
]

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "devicelab"
html_static_path = ["docs/_static"]  # relative to this file, not to docs/
html_css_files = ["devicelab.css"]
html_favicon = "docs/_static/favicon.svg"
html_context = {"default_mode": "light"}
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    # Gallery pages need the width for code and output; their sections are few.
    "secondary_sidebar_items": {"*": ["page-toc"], "auto_examples/**": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False


# -- An example that ends the process early must fail the build ---------------------------------
# sphinx-gallery runs examples inside this process, so `sys.exit(0)` in an example ends
# sphinx-build itself, with exit status 0 and no HTML written. Catch that at interpreter exit.
_build_state = {"started": False, "finished": False}


def _fail_unfinished_build() -> None:
    if _build_state["started"] and not _build_state["finished"]:
        sys.stderr.write(
            "\nERROR: the build ended before it finished. An example or notebook called "
            "sys.exit() or raised SystemExit; branch on the condition and print what was "
            "skipped instead.\n"
        )
        sys.stderr.flush()
        os._exit(1)


def setup(app):  # noqa: D103 - Sphinx's extension hook for conf.py
    app.connect("config-inited", lambda _app, _config: _build_state.update(started=True))
    app.connect("build-finished", lambda _app, _exc: _build_state.update(finished=True))
    atexit.register(_fail_unfinished_build)
