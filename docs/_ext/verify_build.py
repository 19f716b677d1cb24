"""Post-build truth checks: every gallery page really ran and shows what it printed.

Usage: ``python docs/_ext/verify_build.py docs/auto_examples build/html [--page-balance] [--site]``

Every page of the English build also fails when it uses a term of jargon without linking its
first use to the glossary, or writes microseconds as "us" (docs/_ext/glossary_links.py). With
``--site`` (devicelab's own site, both languages), every page on the reading path must be built,
and its "Previous" and "Next" must follow the path (docs/_ext/lesson_path.py).

With ``--page-balance`` (the English build), an example page also fails when its code and
printed output are over 60% of the text it shows (docs/_ext/page_balance.py).

A page fails when its example:
- has no generated page, or no HTML page;
- reports a zero run time (it did not run, or was served from a cache);
- embeds neither printed output nor a figure;
- printed a Python traceback, or a warning line that is not on the explained list below.

Any HTML page of the site (gallery or narrative) fails when its prose or printed output shows
a negative time, such as "-125.12 us per sync" or "-0.3 s": a duration or a cost is never
negative, so a negative one is noise printed as a finding. The rules:
- a time is a number with a unit beside it (s, ms, us, µs, ns, min, or their long names);
  a figure whose unit is only in a table header is not seen;
- a minus sign right after a digit, a letter or a closing bracket is not a sign: ranges
  ("10-20 us"), subtractions and exponents ("1e-3 s") pass;
- source code (code cells, example code, inline code) is not checked, only what a page
  says and prints;
- an interval may have a negative low bound: "(-0.1, 0.4) us", "[-0.1 us, 0.4 us]" and
  "-0.1 to 0.4 us" pass, because an interval that straddles zero is how a page says "no
  measurable cost". Its high bound may not be negative: then the whole interval claims a
  negative time. A lone estimate may not be negative either, "-0.2 ± 0.3 us" included.

Exit status 1 lists every failure.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from glossary_links import site_problems as glossary_problems  # docs/_ext, beside this file
from lesson_path import path_problems
from page_balance import check_pages  # code + output <= 60% of a page's text

RUN_TIME = re.compile(
    r"\*\*Total running time of the script:\*\*\s*\((\d+) minutes\s+([\d.]+) seconds\)"
)
OUTPUT_MARKERS = (".. rst-class:: sphx-glr-script-out", ".. image-sg::", ".. image::")
WARNING_LINE = re.compile(r"\b\w*(Warning|WARNING)\b:")

# Warning lines that may appear in embedded output, each with the reason it is acceptable.
EXPLAINED_WARNINGS: dict[str, str] = {}


def example_pages(gallery_dir: Path) -> list[Path]:
    """The generated ``.rst`` page of every executed example (``plot_*``)."""
    return sorted(gallery_dir.rglob("plot_*.rst"))


def run_time_s(rst_text: str) -> float | None:
    """Seconds the example ran, as sphinx-gallery recorded it, or None if not recorded."""
    match = RUN_TIME.search(rst_text)
    if match is None:
        return None
    return int(match.group(1)) * 60 + float(match.group(2))


def output_blocks(rst_text: str) -> list[str]:
    """Text of each embedded output block (``sphx-glr-script-out``) of a generated page."""
    blocks = []
    for part in rst_text.split(".. rst-class:: sphx-glr-script-out")[1:]:
        body = part.split(".. code-block:: none", 1)[-1]
        lines = []
        for line in body.splitlines()[1:]:
            if line.strip() and not line.startswith("    "):
                break
            lines.append(line[4:])
        blocks.append("\n".join(lines))
    return blocks


NUMBER = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
SIGNED = rf"(?<![\w.,)\]])[-\u2212]?{NUMBER}"
UNIT = (r"(?:s|secs?|seconds?|ms|milliseconds?|us|\u00b5s|\u03bcs|microseconds?|ns|"
        r"nanoseconds?|mins?|minutes?)(?!\w)")  # fmt: skip
# "(low, high) unit", "[low unit, high unit]", "low to high unit": a time when a unit is there
INTERVAL = re.compile(
    rf"[(\[]\s*(?P<low>{SIGNED})\s*(?P<u1>{UNIT})?\s*,\s*(?P<high>{SIGNED})\s*(?P<u2>{UNIT})?"
    rf"\s*[)\]]\s*(?P<u3>{UNIT})?"
    rf"|(?P<low2>{SIGNED})\s*(?P<u4>{UNIT})?\s+to\s+(?P<high2>{SIGNED})\s*(?P<u5>{UNIT})"
)
NEGATIVE_TIME = re.compile(
    rf"(?<![\w.,)\]])[-\u2212]{NUMBER}\s*(?:(?:\u00b1|\+/-)\s*{NUMBER}\s*)?{UNIT}"
)
# Elements whose text is not checked: source code, scripts and styles. Output blocks carry a
# highlight-* class too, so they are recognised first.
OUTPUT_CLASSES = ("sphx-glr-script-out", "cell_output", "output")
SKIPPED_TAGS = {"code", "script", "style", "head"}
BLOCK_TAGS = {"p", "div", "li", "td", "th", "tr", "br", "pre", "h1", "h2", "h3", "h4", "h5",
              "h6", "dt", "dd", "table", "section", "figcaption", "caption"}  # fmt: skip


class _ReadableText(HTMLParser):
    """The text a reader sees on a page: prose and printed output, without source code."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping: tuple[str, int] | None = None  # (tag, nesting depth) being skipped

    def _is_code(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in SKIPPED_TAGS:
            return True
        classes = (dict(attrs).get("class") or "").split()
        if any(c in OUTPUT_CLASSES for c in classes):
            return False
        return "cell_input" in classes or any(c.startswith("highlight-") for c in classes)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping is not None:
            skipped, depth = self._skipping
            if tag == skipped:
                self._skipping = (skipped, depth + 1)
            return
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        if self._is_code(tag, attrs):
            self._skipping = (tag, 1)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping is not None:
            skipped, depth = self._skipping
            if tag == skipped:
                self._skipping = None if depth == 1 else (skipped, depth - 1)
            return
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping is None:
            self.parts.append(data)


def readable_text(html: str) -> str:
    """Prose and printed output of an HTML page: everything but code, scripts and styles."""
    parser = _ReadableText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _value(text: str) -> float:
    return float(text.replace("\u2212", "-").replace(",", ""))


def negative_times(text: str) -> list[str]:
    """Every negative time printed in ``text``, by the rules in this module's docstring."""
    found = []

    def check_interval(match: re.Match[str]) -> str:
        groups = match.groupdict()
        high = groups["high"] or groups["high2"]
        is_time = any(groups[u] for u in ("u1", "u2", "u3", "u4", "u5"))
        if is_time and _value(high) < 0:
            found.append(match.group(0))
        return " " * len(match.group(0))  # its low bound is allowed: hide it from the next scan

    rest = INTERVAL.sub(check_interval, text)
    found += [m.group(0) for m in NEGATIVE_TIME.finditer(rest)]
    return found


def negative_time_problems(html_root: Path) -> list[str]:
    """A problem for every negative time shown on any page of the built site."""
    problems = []
    for page in sorted(html_root.rglob("*.html")):
        relative = page.relative_to(html_root)
        if relative.parts[0] in {"_modules", "_static", "_sources", "_downloads", "_images"}:
            continue  # highlighted source and assets, not pages a reader reads
        text = readable_text(page.read_text(encoding="utf-8", errors="replace"))
        problems += [
            f"{relative}: shows a negative time '{' '.join(found.split())}'; a cost is never "
            f"negative: print the interval or 'no measurable cost' instead"
            for found in negative_times(text)
        ]
    return problems


def page_problems(rst_path: Path, html_root: Path, gallery_dir: Path) -> list[str]:
    """Every reason this example page fails the checks (empty list: it passes)."""
    text = rst_path.read_text(encoding="utf-8")
    name = rst_path.relative_to(gallery_dir).with_suffix("")
    problems = []
    seconds = run_time_s(text)
    if seconds is None:
        problems.append(f"{name}: no recorded run time (the example did not run)")
    elif seconds <= 0:
        problems.append(f"{name}: run time is zero (the example did not really run)")
    if not any(marker in text for marker in OUTPUT_MARKERS):
        problems.append(f"{name}: no embedded output and no figure")
    for block in output_blocks(text):
        if "Traceback (most recent call last)" in block:
            problems.append(f"{name}: embedded output contains a Python traceback")
        for line in block.splitlines():
            if WARNING_LINE.search(line) and not any(k in line for k in EXPLAINED_WARNINGS):
                problems.append(f"{name}: unexplained warning in output: {line.strip()}")
    html = html_root / "auto_examples" / name.with_suffix(".html")
    if not html.is_file():
        problems.append(f"{name}: no HTML page at {html}")
    return problems


def main(argv: list[str]) -> int:
    # --page-balance: the English build's example pages show at most 60% code and output
    # (docs/_ext/page_balance.py); the Chinese pages' character counts are not comparable.
    balance = "--page-balance" in argv
    # --site: this is devicelab's own site, so its reading path must be built and followed
    # (docs/_ext/lesson_path.py); a throw-away test project has none of those pages.
    site = "--site" in argv
    argv = [arg for arg in argv if arg not in {"--page-balance", "--site"}]
    gallery_dir, html_root = Path(argv[0]), Path(argv[1])
    pages = example_pages(gallery_dir)
    if not pages:
        print(f"verify_build: no example pages under {gallery_dir}; was the gallery built?")
        return 1
    problems = [p for page in pages for p in page_problems(page, html_root, gallery_dir)]
    problems += negative_time_problems(html_root)
    if site:
        problems += [f"reading path: {p}" for p in path_problems(html_root)]
    problems += glossary_problems(html_root)
    if balance:
        problems += check_pages(html_root)
    for problem in problems:
        print(f"verify_build: {problem}")
    if problems:
        return 1
    print(
        f"verify_build: {len(pages)} example pages ran and embed their output; "
        "no page shows a negative time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
