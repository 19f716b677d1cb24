"""The package, from the site itself: its wheel as a download, and the one line that installs it.

Every example imports ``devicelab``, so a script downloaded from a gallery page needs the
package. The site serves the wheel built from the same sources (``build/wheel``, copied to the
site's root through ``html_extra_path``), and:

- the landing page shows the install line (the ``devicelab-install`` directive) and links the
  file (the ``devicelab-wheel`` role: ``{devicelab-wheel}`its wheel <wheel>```);
- every gallery page says, next to its download buttons, that the script needs the package,
  and links that line (a note added when the page is read, in the build's language);
- the notebooks' first cell installs the same wheel when the site's address is configured
  (``devicelab_base_url``, or the ``DEVICELAB_BASE_URL`` environment variable); otherwise the
  repository's, when one is configured (``colab_links.install_cell``), as before.

With no address configured the install line names the downloaded file, and the link is
relative. ``nox -s docs`` builds the wheel first (``python docs/_ext/wheel_download.py
build/wheel``); a plain ``sphinx-build`` builds it when it is missing (Read the Docs). A project
without a ``pyproject.toml`` next to ``conf.py`` (the tests' throw-away sites) has no wheel, and
none of the above.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

logger = logging.getLogger(__name__)

GALLERY_EXAMPLE = re.compile(r"auto_examples/[^/]+/plot_")
DOWNLOAD_LABEL = re.compile(r"(\n\.\. _sphx_glr_download_[^\n]+:\n)")
#: The landing page's label for its install section (docs/index.md).
INSTALL_LABEL = "install-devicelab"

#: The note beside each gallery page's download buttons, in each language of the site. It is
#: written here rather than in the catalogues: it is the same on every page, including pages
#: added later, and a catalogue per page would repeat it.
NOTE = {
    "en": (
        "The script imports the package ``devicelab``: install it first with "
        ":ref:`the one line on the landing page <{label}>`. Then ``python -m devicelab "
        "doctor`` checks what this page can use on your machine (a GPU, a C++ compiler, "
        "numba): see :doc:`/your_machine`."
    ),
    "zh_CN": (
        "脚本会导入 ``devicelab`` 包：请先用 :ref:`首页上的一行命令 <{label}>` 安装它。"
        "然后运行 ``python -m devicelab doctor``，检查本页在你的机器上能用到什么"
        "（GPU、C++ 编译器、numba）：见 :doc:`/your_machine`。"
    ),
}


def wheel_name(version: str) -> str:
    """The file name hatchling gives devicelab's pure-Python wheel of ``version``."""
    return f"devicelab-{version}-py3-none-any.whl"


def wheel_url(base_url: str, version: str) -> str:
    """Where a site served at ``base_url`` serves the wheel (its root)."""
    return f"{base_url.rstrip('/')}/{wheel_name(version)}"


def install_line(base_url: str, version: str) -> str:
    """The shell line that installs the wheel: from the site's address, or the saved file."""
    if base_url:
        return f'pip install "{wheel_url(base_url, version)}"'
    name = wheel_name(version)
    return f"# in the folder where you saved {name}:\npip install {name}"


def notebook_install_cell(base_url: str, repository: str, branch: str, version: str) -> str | None:
    """The notebooks' first cell: the site's wheel, else the repository, else none."""
    if base_url:
        return f'%pip install "{wheel_url(base_url, version)}"'
    if repository:
        from colab_links import install_cell

        return install_cell(repository, branch)
    return None


def build_wheel(root: Path, out: Path) -> Path:
    """Build devicelab's wheel from ``root`` into ``out`` (emptied first); return its path.

    With hatchling installed (``nox -s docs`` installs it) the build uses it directly;
    otherwise pip fetches it into an isolated build environment.

    Raises
    ------
    RuntimeError
        The build failed, or left no wheel (pip's output is in the message).
    """
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.whl"):
        old.unlink()
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(out)]
    done = subprocess.run([*command, str(root)], capture_output=True, text=True)
    wheels = sorted(out.glob("devicelab-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(f"building the wheel failed:\n{done.stdout}\n{done.stderr}")
    return wheels[0]


def _wheel_dir(app: Sphinx) -> Path:
    return Path(app.confdir) / "build" / "wheel"


def _serve_wheel(app: Sphinx) -> None:
    """Find (or build) the wheel, and serve it from the site's root."""
    root, config = Path(app.confdir), app.config
    if not (root / "pyproject.toml").is_file() or app.builder.name == "gettext":
        return
    name = wheel_name(config.release)
    wheel = _wheel_dir(app) / name
    if not wheel.is_file():
        logger.info(f"wheel_download: building {name}")
        built = build_wheel(root, _wheel_dir(app))
        if built.name != name:
            raise RuntimeError(f"the wheel is {built.name}, but the site's release needs {name}")
    config.html_extra_path.append(str(_wheel_dir(app)))


def _has_wheel(app: Sphinx) -> bool:
    return (_wheel_dir(app) / wheel_name(app.config.release)).is_file()


def _add_note(app: Sphinx, docname: str, source: list[str]) -> None:
    """The install note beside a gallery page's download buttons, in the build's language."""
    if app.builder.name == "gettext" or not GALLERY_EXAMPLE.match(docname):
        return
    if not _has_wheel(app):
        return
    note = NOTE.get(app.config.language or "en", NOTE["en"]).format(label=INSTALL_LABEL)
    block = (
        "\n.. only:: html\n\n  .. container:: devicelab-install-note\n\n"
        + "".join(f"    {line}\n" for line in _wrap(note))
        + "\n"
    )
    source[0] = DOWNLOAD_LABEL.sub(lambda m: m.group(1) + block, source[0], count=1)


def _wrap(text: str, width: int = 88) -> list[str]:
    """reST paragraph lines: break at spaces only (Chinese runs stay whole)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


class WheelRole(SphinxRole):
    """``{devicelab-wheel}`text <wheel>```: ``text`` linked to the wheel this site serves.

    The ``<wheel>`` target keeps the role's target apart from its title, which a translation
    translates (docs/translating.md).
    """

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        if not _has_wheel(self.env.app):
            logger.warning(
                "devicelab-wheel: this site has no wheel to link (build it with "
                "python docs/_ext/wheel_download.py build/wheel)",
                location=self.get_location(),
            )
            return [nodes.Text(self.text)], []
        title = re.sub(r"\s*<[^<>]*>$", "", self.text) or self.text
        target = "../" * self.env.docname.count("/") + wheel_name(self.config.release)
        node = nodes.reference(self.rawtext, title, refuri=target, classes=["download"])
        return [node], []


class InstallDirective(SphinxDirective):
    """The one line that installs devicelab from this site's wheel, as a shell block."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        text = install_line(self.config.devicelab_base_url, self.config.release)
        return [nodes.literal_block(text, text, language="bash")]


def setup(app: Sphinx) -> dict[str, object]:
    import os

    app.add_config_value("devicelab_base_url", os.environ.get("DEVICELAB_BASE_URL", ""), "html")
    app.connect("builder-inited", _serve_wheel)
    app.connect("source-read", _add_note)
    app.add_role("devicelab-wheel", WheelRole())
    app.add_directive("devicelab-install", InstallDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # python docs/_ext/wheel_download.py OUTDIR
    built = build_wheel(Path(__file__).resolve().parents[2], Path(sys.argv[1]))
    print(f"wheel_download: built {built}")
