"""Walls of numbers: code plus printed output is at most 60% of the text a reader sees.

On every example page, the code and the printed output together may be at most ``LIMIT`` (60%)
of the text a reader sees without expanding anything. Characters are counted without
whitespace.

On a built page (``page_share``), the text seen is the article's text, without:
scripts and styles, the headings' link marks, sphinx-gallery's "Go to the end" note, its
"Total running time" line, download footer and signature, images, and whatever sits in a
closed ``<details>`` block (its ``<summary>`` line shows, so it counts). Code is the text of
the ``div.highlight`` blocks that are not output; output is the text of the
``sphx-glr-script-out`` blocks and of the embedded HTML outputs (``rendered_html``, a notebook's
``cell_output``). ``check_pages`` runs it over ``auto_examples/**/plot_*.html`` of a build, and
``docs/_ext/verify_build.py`` fails the build on a page over the limit.

An author estimates a page before a build from its source (``estimate``): the script runs cell
by cell as sphinx-gallery runs it (``figure_check.run_example``); the prose is the docstring
and the ``# %%`` comment blocks, with the reST markup stripped roughly; the code is the code
cells without hidden ``sphinx_gallery_start_ignore``/``end_ignore`` parts and config comments;
the output is what each cell printed, plus its last expression's repr (a ``Collapsed`` table
shows only its summary). Usage::

    python docs/_ext/page_balance.py examples/overheads/plot_remedies.py [more.py ...]
    python docs/_ext/page_balance.py --html build/html

Exit status 1 when a page is over the limit.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

#: The largest share of code plus output in the visible text of an example page.
LIMIT = 0.60
FIX = (
    "print what the prose discusses and no more, trim or collapse long tables (make the table "
    'the last expression of its cell as devicelab.display.Collapsed("what it shows", text)), '
    "hide checks between sphinx_gallery_start_ignore/end_ignore, or say more in the prose"
)
_HIDDEN = (
    "script, style, noscript, img, svg, a.headerlink, footer, .prev-next-area, .sphx-glr-footer, "
    ".sphx-glr-download-link-note, .sphx-glr-timing, .sphx-glr-signature"
)
_OUTPUT = ".sphx-glr-script-out, .rendered_html, .output_html, .cell_output"


@dataclass(frozen=True)
class Share:
    """Non-whitespace characters of a page: all it shows, and its code and output among them."""

    total: int
    code: int
    output: int

    @property
    def share(self) -> float:
        """(code + output) / total; 0 for an empty page."""
        return (self.code + self.output) / self.total if self.total else 0.0

    def describe(self) -> str:
        """One line: the share, and its code and output parts."""
        total = self.total or 1
        return (
            f"code + output {self.share:.0%} of the visible text (code {self.code / total:.0%}, "
            f"output {self.output / total:.0%}; {self.total} characters)"
        )


def _chars(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


def _outermost(elements: list) -> list:
    """The elements that are not inside another of them."""
    ids = {id(el) for el in elements}
    return [el for el in elements if not any(id(p) in ids for p in el.parents)]


def visible_root(html: str):  # noqa: ANN201 - a BeautifulSoup tag
    """The page's article, with everything a reader does not see without expanding removed."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    root = (
        soup.find("article")
        or soup.find(attrs={"role": "main"})
        or soup.find("div", class_="body")
        or soup.body
        or soup
    )
    for element in root.select(_HIDDEN):
        element.decompose()
    for details in root.find_all("details"):
        if details.has_attr("open") or details.parent is None:
            continue
        summary = details.find("summary", recursive=False)
        for child in list(details.children):
            if child is not summary:
                child.extract()
    return root


def page_share(html: str) -> Share:
    """The share of code and output in the text a built page shows without expanding anything.

    Parameters
    ----------
    html
        A built HTML page.

    Returns
    -------
    Share
        Its visible characters, and its code and output characters among them.
    """
    root = visible_root(html)
    outputs = _outermost(root.select(_OUTPUT))
    output_ids = {id(el) for el in outputs}
    code = [
        el
        for el in _outermost(root.select("div.highlight"))
        if id(el) not in output_ids and not any(id(p) in output_ids for p in el.parents)
    ]
    return Share(
        total=_chars(root.get_text()),
        code=sum(_chars(el.get_text()) for el in code),
        output=sum(_chars(el.get_text()) for el in outputs),
    )


def html_pages(html_dir: str | Path) -> list[Path]:
    """The built example pages (``auto_examples/**/plot_*.html``) of an HTML build."""
    return sorted((Path(html_dir) / "auto_examples").rglob("plot_*.html"))


def check_pages(html_dir: str | Path, limit: float = LIMIT) -> list[str]:
    """Every built example page whose code and output are over ``limit`` of its visible text.

    Parameters
    ----------
    html_dir
        The HTML build (``build/html``); its ``auto_examples/**/plot_*.html`` are checked.
    limit
        The largest share allowed.

    Returns
    -------
    list of str
        One message per page over the limit, with its share and the fix.
    """
    problems = []
    for page in html_pages(html_dir):
        share = page_share(page.read_text(encoding="utf-8"))
        if share.share > limit:
            problems.append(f"{page}: {share.describe()}, over the limit of {limit:.0%}: {FIX}.")
    return problems


# -- An estimate from the source, before a build ---------------------------------------------------

_IGNORED = re.compile(
    r"^[ \t]*# sphinx_gallery_start_ignore.*?^[ \t]*# sphinx_gallery_end_ignore[^\n]*\n?",
    re.MULTILINE | re.DOTALL,
)
_CONFIG = re.compile(r"^[ \t]*# ?sphinx_gallery_\w+.*\n?", re.MULTILINE)


def prose_text(rst: str) -> str:
    """The words of a reST text block as a reader sees them, roughly (markup stripped)."""
    text = re.sub(r"^\.\. [\w:-]+::.*$", "", rst, flags=re.MULTILINE)  # directives
    text = re.sub(r"^\s+:[\w-]+:.*$", "", text, flags=re.MULTILINE)  # their options
    text = re.sub(r"^\.\. _[^:]+:\s*$", "", text, flags=re.MULTILINE)  # targets
    text = re.sub(r"^([=\-~^\"'`#*+<>]{3,})\s*$", "", text, flags=re.MULTILINE)  # underlines
    text = re.sub(r":\w+:`([^`<]*?)\s*<[^>]*>`", r"\1", text)  # :role:`text <target>`
    text = re.sub(r":\w+:`([^`]*)`", r"\1", text)  # :role:`text`
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_+", r"\1", text)  # `text <url>`_
    return re.sub(r"[`*|]|_(?=\s)|::", "", text)


def visible_code(code: str) -> str:
    """A code cell as the page shows it: no hidden parts, no config comments."""
    return _CONFIG.sub("", _IGNORED.sub("", code))


def _html_text(html: str) -> str:
    return visible_root(f"<article>{html}</article>").get_text()


def estimate(
    path: str | Path, cells: list | None = None
) -> tuple[Share, list[tuple[int, int, int]]]:
    """Run an example and estimate its page's share of code and output from the source.

    Parameters
    ----------
    path
        The example script.
    cells
        Its cells from ``figure_check.run_example``, when it has already run (it is not run
        again).

    Returns
    -------
    Share
        The page's estimated characters.
    list of (int, int, int)
        Each code cell's first line, code characters and output characters.
    """
    from figure_check import run_example
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    _, blocks, _ = split_code_and_text_blocks(str(path), return_node=True)
    prose = sum(_chars(prose_text(b.content)) for b in blocks if b.type == "text")
    counted = []
    for cell in run_example(path) if cells is None else cells:
        shown = re.sub(r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])", "", cell.stdout)
        if cell.repr_text:
            shown += "\n" + cell.repr_text
        if cell.repr_html:
            shown += "\n" + _html_text(cell.repr_html)
        counted.append((cell.lineno, _chars(visible_code(cell.code)), _chars(shown)))
    code = sum(c for _, c, _ in counted)
    output = sum(o for _, _, o in counted)
    return Share(total=prose + code + output, code=code, output=output), counted


def main(argv: list[str]) -> int:
    """Command line: estimate each example's share, or check a build with ``--html DIR``."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    if argv[0] == "--html":
        failed = False
        for html_dir in argv[1:]:
            for page in html_pages(html_dir):
                share = page_share(page.read_text(encoding="utf-8"))
                mark = "OVER" if share.share > LIMIT else "ok"
                print(f"{mark:4} {page}: {share.describe()}")
                failed |= share.share > LIMIT
        return 1 if failed else 0
    failed = False
    for name in argv:
        share, cells = estimate(name)
        over = share.share > LIMIT
        failed |= over
        print(
            f"{'OVER' if over else 'ok':4} {name}: estimated {share.describe()}, limit {LIMIT:.0%}"
        )
        heavy = sorted(cells, key=lambda c: c[1] + c[2], reverse=True)[:3]
        for lineno, code, output in heavy:
            print(f"     cell at line {lineno}: code {code}, output {output} characters")
        if over:
            print(f"     fix: {FIX}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
