"""Words a learner knows: jargon links to the glossary on first use, and microseconds are "µs".

Used by ``verify_build.py`` on the built English pages. A page fails when:

- the first time its prose uses one of ``JARGON`` (outside code, printed output and headings),
  that use is not a link to the term in the glossary (``:term:`` in reST, ``{term}`` in MyST);
- its prose or printed output writes microseconds as "us" ("47 us", "us/epoch"): the unit is
  "µs".

The glossary itself and the API reference (docstrings) are not checked for first use.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

# The terms a Day-34 learner does not know, each as the pattern its prose uses.
JARGON: dict[str, str] = {
    "dispatcher": r"dispatcher",
    "ATen": r"ATen",
    "autograd engine": r"autograd engine",
    "oneDNN": r"oneDNN",
    "cuBLAS": r"cuBLAS",
    "IQR": r"IQR",
    "bootstrap interval": r"bootstrap (?:confidence )?interval",
    "paired rounds": r"paired rounds",
    "arithmetic intensity": r"arithmetic intensity",
    "ridge point": r"ridge point",
    "Hockney model": r"Hockney",
    "algbw": r"algbw",
    "busbw": r"busbw",
    "symlog": r"symlog",
    "meta device": r"meta device|``meta`` device|meta\W{0,2} device",
}
NOT_CHECKED = {"glossary", "api", "genindex", "search", "py-modindex"}
UNIT_US = re.compile(r"\d[\d.,]*\s?us\b|\bus/(?:epoch|step|call|op|sync|kernel)\b|\bus per\b")

_VOID = {"br", "img", "hr", "meta", "link", "input", "wbr", "source", "col"}


class _Prose(HTMLParser):
    """Text segments of a page's article: (text, kind, inside a glossary link)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.segments: list[tuple[str, str, bool]] = []
        self._stack: list[tuple[str, str, bool]] = []  # (tag, kind, glossary link)
        self._in_article = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        parent_kind, parent_link = (self._stack[-1][1:]) if self._stack else ("prose", False)
        kind = parent_kind
        if tag == "article":
            self._in_article += 1
        if tag in {"pre", "code", "script", "style"} or "highlight" in classes:
            kind = "code" if kind != "output" else kind
        if {"sphx-glr-script-out", "cell_output", "rendered_html"} & set(classes):
            kind = "output"
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6", "figcaption"}:
            kind = "heading"
        if tag == "a" and "glossary.html#term-" in (attributes.get("href") or ""):
            parent_link = True
        self._stack.append((tag, kind, parent_link))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        while self._stack:
            opened, _kind, _link = self._stack.pop()
            if opened == "article":
                self._in_article -= 1
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_article and data.strip():
            kind, link = self._stack[-1][1:] if self._stack else ("prose", False)
            self.segments.append((data, kind, link))


def segments(page_html: str) -> list[tuple[str, str, bool]]:
    """The article's text segments in page order: (text, kind, in a glossary link)."""
    parser = _Prose()
    parser.feed(page_html)
    return parser.segments


def page_problems(name: str, page_html: str) -> list[str]:
    """What the page gets wrong: unlinked first uses of jargon, and "us" for microseconds."""
    parts = segments(page_html)
    problems = []
    if name not in NOT_CHECKED:
        for term, pattern in JARGON.items():
            regex = re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])")
            first = next((p for p in parts if p[1] == "prose" and regex.search(p[0])), None)
            if first is not None and not first[2]:
                problems.append(
                    f"{name}: first use of '{term}' is not linked to the glossary; write "
                    f":term:`{term}` (reST) or {{term}}`{term}` (MyST) there"
                )
    for text, kind, _link in parts:
        if kind in {"prose", "output"} and UNIT_US.search(text):
            found = UNIT_US.search(text).group(0)
            problems.append(f"{name}: writes microseconds as '{found}'; write 'µs'")
            break
    return problems


def site_problems(html_root: Path) -> list[str]:
    """Problems over every English page of the built site (a translation is skipped)."""
    problems = []
    for page in sorted(html_root.rglob("*.html")):
        relative = page.relative_to(html_root)
        if relative.parts[0] in {"_modules", "_static", "_sources", "_downloads", "_images"}:
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        if not re.search(r'<html[^>]*\blang="en"', text):
            continue
        problems += page_problems(relative.with_suffix("").as_posix(), text)
    return problems
