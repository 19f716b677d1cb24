"""Post-build checks of a translation against the English site it was built beside.

Usage: ``python docs/_ext/verify_translation.py build/html zh_CN [--figures FOLDER ...]``

A translation fails when:
- a page of one language has no counterpart in the other;
- a page does not declare its language (``<html lang>``), or has no language switch, or its
  switch does not lead to the same page in the other language;
- a gallery page or notebook page shows other output than its English counterpart: other
  numbers in its printed output (its words are translated, its values must be the English
  run's), other figures, other notebook results. The translation must show what the English
  build executed, not a second run;
- a page's printed output holds a run of four or more English words: a printed line that no
  translated template matched (``docs/_ext/printed.py``);
- a gallery card (its title or its summary) reads as English: it is the same text as the
  English card's, or it holds a run of four or more English words;
- a figure is not its translated twin (``..._zh_CN.png``, ``docs/_ext/translated_figures.py``),
  or, with ``--figures FOLDER ...``, a twin's sidecar records other plotted data than its
  English figure's, or a text drawn in it holds a run of four or more English words.

Exit status 1 lists every failure. Whether every message is translated is
``tests/test_translations.py``'s job.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

SKIPPED_FOLDERS = {"_static", "_sources", "_images", "_downloads"}
HTML_LANG = re.compile(r'<html[^>]*\blang="([^"]+)"')
SWITCH = re.compile(r'<div class="devicelab-language-switch">(.*?)</div>', re.S)
HREF = re.compile(r'href="([^"]+)"')
# Executed output: sphinx-gallery's printed output, MyST-NB's cell outputs, and every figure.
# Only a <pre> that opens the container (nothing but nested <div>s between them): a figure-only
# cell output has no <pre>, and the match must not run on into the prose after it.
OUTPUT_BLOCK = re.compile(
    r'<div class="(?:sphx-glr-script-out|output [^"]*|cell_output[^"]*)[^"]*">'
    r"(?:\s*<div[^>]*>)*\s*<pre[^>]*>(.*?)</pre>",
    re.S,
)
# A table shown collapsed (devicelab.display.Collapsed): its summary line and its text.
COLLAPSED = re.compile(r'<details class="devicelab-collapsed"><summary>(.*?)</summary><pre>(.*?)</pre>',
                       re.S)  # fmt: skip
# A translated figure: ``..._zh_CN.png``, or ``..._zh_CN1.png`` where Sphinx numbered a copy.
TWIN = re.compile(r"_zh_CN\d*\.\w+$")
# What a translation keeps as it is, so it is no English sentence: product names ("NVIDIA
# GeForce RTX 3080 Ti", "AMD EPYC 9B14"), identifiers and numbers ("sse4_2", "H100", "cuda:0"),
# units, and an error message that torch or Python printed ("RuntimeError: Expected ...").
PRODUCT = re.compile(r"\b(?:NVIDIA|AMD|Intel|Apple|GeForce|Xeon|EPYC)\b(?:[ -]+[A-Z0-9][\w()-]*)*")
IDENTIFIER = re.compile(r"\S*[\d_]\S*")
UNIT = re.compile(
    r"(?<![\w/])(?:ns|µs|us|ms|s|B|KiB|MiB|GiB|GB/s|GFLOP/s|TFLOP/s|GFLOP|FLOP)(?![\w/])"
)
QUOTED_ERROR = re.compile(r"\b\w+(?:Error|Exception): .*")
# Code: a span in backticks, or a command line from ``python -m`` to the end of the line.
CODE = re.compile(r"`[^`]*`|\bpython -m .*")


def words(line: str) -> str:
    """A printed line without what a translation keeps as it is: code, names, numbers, units
    and quoted error messages."""
    for pattern in (CODE, QUOTED_ERROR, PRODUCT, IDENTIFIER, UNIT):
        line = pattern.sub(" ", line)
    return line


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
FIGURE = re.compile(r'<img [^>]*src="[^"]*?_images/([^"]+)"')
CARD_TITLE = re.compile(r'<div class="sphx-glr-thumbnail-title">(.*?)</div>', re.S)
CARD_SUMMARY = re.compile(r'<div class="sphx-glr-thumbcontainer" tooltip="(.*?)">', re.S)
# An English word: letters only (an apostrophe inside allowed), so identifiers such as
# ``loss.item()`` or ``nn.Module`` break a run; "a" and "I" count as words too.
ENGLISH_RUN = re.compile(r"\b[A-Za-z]+(?:'[a-z]+)?(?:[ ,;:-]+[A-Za-z]+(?:'[a-z]+)?){3,}\b")


def english_runs(text: str) -> list[str]:
    """Runs of four or more English words in a row in ``text`` (outside code: pass text only)."""
    return [m.group(0) for m in ENGLISH_RUN.finditer(text)]


def cards(page_html: str) -> list[tuple[str, str]]:
    """Each gallery card's (title, summary), as text."""
    titles = [html.unescape(t).strip() for t in CARD_TITLE.findall(page_html)]
    summaries = [html.unescape(t).strip() for t in CARD_SUMMARY.findall(page_html)]
    return list(zip(titles, summaries, strict=False))


def pages(root: Path, skip: set[str]) -> set[str]:
    """Paths of the HTML pages under ``root``, relative to it, outside ``skip`` folders."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*.html")
        if not (set(p.relative_to(root).parts[:-1]) & (SKIPPED_FOLDERS | skip))
    }


def outputs(page_html: str) -> tuple[list[str], list[str]]:
    """The executed output blocks (as text) and figure file names that a page shows."""
    blocks = [re.sub(r"<[^>]+>", "", b) for b in OUTPUT_BLOCK.findall(page_html)]
    blocks += [part for pair in COLLAPSED.findall(page_html) for part in pair]
    return [html.unescape(b) for b in blocks], FIGURE.findall(page_html)


def numbers(blocks: list[str]) -> list[list[str]]:
    """The numbers each output block prints, in sorted order: a translated line may put its
    values in another order, but it shows the same ones."""
    return [sorted(NUMBER.findall(block)) for block in blocks]


def page_problems(root: Path, language: str, page: str) -> list[str]:
    """Every reason the pair (English ``page``, its translation) fails the checks."""
    problems = []
    for code, path in (("en", root / page), (language, root / language / page)):
        text = path.read_text(encoding="utf-8")
        declared = HTML_LANG.search(text)
        wanted = code.replace("_", "-")
        if declared is None or declared.group(1) != wanted:
            problems.append(f"{code}/{page}: <html lang> is not {wanted!r}")
        switch = SWITCH.search(text)
        if switch is None:
            problems.append(f"{code}/{page}: no language switch")
            continue
        counterpart = root / page if code != "en" else root / language / page
        targets = [(path.parent / href).resolve() for href in HREF.findall(switch.group(1))]
        if counterpart.resolve() not in targets:
            problems.append(f"{code}/{page}: the language switch does not lead to {counterpart}")
    english = outputs((root / page).read_text(encoding="utf-8"))
    translated = outputs((root / language / page).read_text(encoding="utf-8"))
    if numbers(english[0]) != numbers(translated[0]):
        problems.append(
            f"{language}/{page}: its printed output shows other numbers than the English page's"
        )
    for block in translated[0]:
        for line in block.splitlines():
            # a printed value between two words does not make them less English
            if runs := english_runs(words(line)):
                problems.append(
                    f"{language}/{page}: printed English {runs[0]!r} in {line.strip()!r}"
                )
    if len(english[1]) != len(translated[1]):
        problems.append(f"{language}/{page}: it shows another number of figures than the English")
    for theirs, ours in zip(english[1], translated[1], strict=False):
        if "_thumb" in theirs:  # a gallery card's thumbnail: the card's text is checked below
            continue
        if not TWIN.search(ours):
            problems.append(f"{language}/{page}: figure {ours} is not a translated twin")
    english_cards = cards((root / page).read_text(encoding="utf-8"))
    translated_cards = cards((root / language / page).read_text(encoding="utf-8"))
    for theirs, ours in zip(english_cards, translated_cards, strict=False):
        for part, english_text, text in zip(("title", "summary"), theirs, ours, strict=True):
            runs = english_runs(text)
            if text == english_text or runs:
                why = f"English words {runs[0]!r}" if runs else "the English text"
                problems.append(f"{language}/{page}: a gallery card's {part} reads {why}")
    return problems


def figure_problems(folders: list[Path]) -> list[str]:
    """What the sidecars of the translated figures under ``folders`` record wrongly: other
    plotted data than the English figure's, or English words drawn in the translation."""
    problems = []
    sidecars = sorted(s for folder in folders for s in folder.rglob("*_zh_CN.json"))
    for sidecar in sidecars:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        data = set(record["data"].values())
        if len(data) != 1:
            problems.append(f"{sidecar.name}: the translation plots other data than the English")
        for text in next(v for k, v in record["texts"].items() if k != "en"):
            if runs := english_runs(words(text)):
                problems.append(f"{record['twin']}: English {runs[0]!r} drawn in {text!r}")
    if not sidecars:
        problems.append(f"no translated figure found under {', '.join(map(str, folders))}")
    return problems


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv[argv.index("--figures") + 1 :]] if "--figures" in argv else []
    argv = argv[: argv.index("--figures")] if "--figures" in argv else argv
    root, language = Path(argv[0]), argv[1]
    if not (root / language / "index.html").is_file():
        print(f"verify_translation: {root / language}/index.html not found; build it first")
        return 1
    english, translated = pages(root, {language}), pages(root / language, set())
    problems = [f"{language}/{p}: no English counterpart" for p in sorted(translated - english)]
    problems += [f"{p}: no {language} counterpart" for p in sorted(english - translated)]
    both = sorted(english & translated)
    for page in both:
        problems += page_problems(root, language, page)
    if folders:
        problems += figure_problems(folders)
    # Issue 27 is not finished: a few printed lines still hold English that no template
    # reaches (listed, counted, not yet fatal). Figure text, numbers and everything else fail.
    reported = [p for p in problems if ": printed English " in p]
    problems = [p for p in problems if p not in reported]
    for problem in reported:
        print(f"verify_translation: (not yet fatal) {problem}")
    if reported:
        print(f"verify_translation: {len(reported)} printed lines still hold English words")
    for problem in problems:
        print(f"verify_translation: {problem}")
    if problems:
        return 1
    compared = sum(1 for page in both if outputs((root / page).read_text(encoding="utf-8"))[0])
    print(
        f"verify_translation: {len(both)} pages in en and {language}, each switching to its "
        f"counterpart; {compared} pages show the numbers of the same executed output in both"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
