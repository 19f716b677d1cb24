"""The reading path: one order for "Previous" and "Next", the course first, each page once.

Sphinx derives "Previous" and "Next" from the toctrees, which put the narrative pages before the
gallery and reach the gallery's pages through its own indexes. A learner should meet the pages
in the course's order instead: read the hardware, train on a device, compare the devices, the
homework, the three overheads and their remedies, the summary, then ``__call__``; after that
the part beyond the course. ``PATH`` is that order, the one place it is written down:

- this extension sets every listed page's "Previous" and "Next" from it, and gives the hub
  pages that are not on it (the gallery's indexes) none, so no page appears twice;
- the "Learn" page lists it, one part at a time (the ``{lesson-path}`` directive);
- ``verify_build.py`` checks the built pages of both languages against it.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

# (part, page) in reading order. The parts are headings on the "Learn" page.
PATH: list[tuple[str, str]] = [
    ("start", "index"),
    ("start", "learn"),
    ("course", "auto_examples/hardware/plot_inspect_cpu"),
    ("course", "auto_examples/hardware/plot_inspect_gpu"),
    ("course", "auto_examples/training/plot_train_on_device"),
    ("course", "auto_examples/training/plot_cpu_vs_gpu"),
    ("course", "auto_examples/training/plot_record_frequency"),
    ("course", "auto_examples/overheads/plot_transfer_cost"),
    ("course", "auto_examples/overheads/plot_launch_overhead"),
    ("course", "auto_examples/overheads/plot_utilization"),
    ("course", "auto_examples/overheads/plot_remedies"),
    ("course", "why_gpu_slower"),
    ("course", "call_method"),
    ("course", "auto_examples/python/plot_call_method"),
    ("beyond", "auto_examples/training/plot_first_step"),
    ("beyond", "auto_examples/your_model/plot_advise"),
    ("beyond", "auto_examples/overheads/plot_communication"),
    ("beyond", "your_machine"),
    ("reference", "glossary"),
    ("reference", "results"),
    ("reference", "api"),
]
PAGES = [page for _part, page in PATH]
PARTS = ("start", "course", "beyond", "reference")


def neighbours(page: str) -> tuple[str | None, str | None]:
    """The pages before and after ``page`` on the path; ``(None, None)`` off the path."""
    if page not in PAGES:
        return None, None
    at = PAGES.index(page)
    before = PAGES[at - 1] if at > 0 else None
    after = PAGES[at + 1] if at + 1 < len(PAGES) else None
    return before, after


def _set_prev_next(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    before, after = neighbours(pagename)
    for key, target in (("prev", before), ("next", after)):
        if target is None or target not in app.env.titles:
            context[key] = None
            continue
        title = app.builder.render_partial(app.env.titles[target])["title"]
        context[key] = {"link": app.builder.get_relative_uri(pagename, target), "title": title}


class LessonPath(SphinxDirective):
    """``{lesson-path} PART``: the path's pages of one part, linked by their titles, in order.

    The part's heading is written on the page itself, so it is translated with the page.
    """

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from sphinx import addnodes

        part = self.arguments[0]
        if part not in PARTS:
            raise self.error(f"unknown part {part!r}: the path's parts are {', '.join(PARTS)}")
        items = nodes.enumerated_list() if part == "course" else nodes.bullet_list()
        for page in [page for page_part, page in PATH if page_part == part]:
            reference = addnodes.pending_xref(
                "", refdomain="std", reftype="doc", reftarget="/" + page, refexplicit=False
            )
            reference += nodes.inline("", page)
            items += nodes.list_item("", nodes.paragraph("", "", reference))
        return [items]


LINK = re.compile(r'<a class="(left-prev|right-next)"[^>]*href="([^"]+)"')


def path_problems(html_root: Path) -> list[str]:
    """Every built page on the path whose "Previous" or "Next" does not follow ``PATH``."""
    problems = []
    for page in PAGES:
        html = html_root / f"{page}.html"
        if not html.is_file():
            problems.append(f"{page}: on the reading path but not built")
            continue
        links = dict(LINK.findall(html.read_text(encoding="utf-8")))
        for kind, expected in zip(("left-prev", "right-next"), neighbours(page), strict=True):
            found = links.get(kind)
            if found is not None:
                found = (html.parent / found.split("#")[0]).resolve()
                found = found.relative_to(html_root.resolve()).with_suffix("").as_posix()
            if found != expected:
                problems.append(f"{page}: {kind} leads to {found}, the path says {expected}")
    return problems


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _set_prev_next)
    app.add_directive("lesson-path", LessonPath)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
