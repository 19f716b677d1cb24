"""The translation catalogues: extract the English messages, update the catalogues, check them.

Usage (from the repository root; ``nox -s translations`` runs the first two)::

    python docs/_ext/catalogues.py update            # extract, then update docs/locales/zh_CN
    python docs/_ext/catalogues.py extract OUTDIR    # only write the .pot files to OUTDIR
    python docs/_ext/catalogues.py check             # what is untranslated, fuzzy, stale, broken

Extraction runs a ``gettext`` build of a copy of ``docs/`` and ``examples/`` that executes
nothing (``plot_gallery=0``, ``nb_execution_mode=off``): sphinx-gallery still writes its pages,
so their text is extracted, and executed output, which is never translated, does not appear. It
takes seconds and leaves ``docs/auto_examples`` of the last real build alone.
``tests/test_translations.py`` runs the same checks as ``check``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LANGUAGE = "zh_CN"
LOCALES = DOCS / "locales"
CATALOGUES = LOCALES / LANGUAGE / "LC_MESSAGES"
POT_DIR = ROOT / "build" / "gettext"
# Build products and catalogues that the extraction's copy of docs/ leaves out.
NOT_SOURCES = ("auto_examples", "jupyter_execute", "locales", "_build", "sg_execution_times.rst")


def extract(outdir: Path) -> list[Path]:
    """Write one ``.pot`` file per page to ``outdir``, from sources that are not executed."""
    outdir = Path(outdir).resolve()
    with tempfile.TemporaryDirectory(prefix="devicelab-gettext-") as tmp:
        copy = Path(tmp)
        shutil.copytree(DOCS, copy / "docs", ignore=shutil.ignore_patterns(*NOT_SOURCES))
        shutil.copytree(ROOT / "examples", copy / "examples")
        command = [sys.executable, "-m", "sphinx", "-q", "-E", "-b", "gettext", "-c", str(ROOT),
                   "-d", str(copy / "doctrees"), "-D", "plot_gallery=0",
                   "-D", "nb_execution_mode=off", str(copy / "docs"), str(outdir)]  # fmt: skip
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"extracting the messages failed (exit {result.returncode}):\n{result.stderr}"
        )
    return sorted(outdir.rglob("*.pot"))


def docname(path: Path, root: Path) -> str:
    """``auto_examples/python/plot_call_method`` for ``root/auto_examples/python/....po``."""
    return path.relative_to(root).with_suffix("").as_posix()


def read_catalogue(path: Path) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle, locale=None if path.suffix == ".pot" else LANGUAGE)


def messages(catalog: Catalog) -> list[Message]:
    """The catalogue's messages, without its header entry."""
    return [message for message in catalog if message.id]


def update() -> None:
    """Bring ``docs/locales/zh_CN`` in line with the English sources.

    New messages arrive empty, changed ones fuzzy (with the old translation as a start), and
    catalogues of pages that no longer exist are deleted.
    """
    if POT_DIR.exists():
        shutil.rmtree(POT_DIR)
    templates = extract(POT_DIR)
    subprocess.run(
        [sys.executable, "-m", "sphinx_intl", "update", "-p", str(POT_DIR), "-d", str(LOCALES),
         "-l", LANGUAGE, "--no-obsolete"],
        check=True,
    )  # fmt: skip
    pages = {docname(pot, POT_DIR) for pot in templates}
    for po in sorted(CATALOGUES.rglob("*.po")):
        if docname(po, CATALOGUES) not in pages:
            print(f"catalogues: deleting {po.relative_to(ROOT)}: its page is gone")
            po.unlink()
            po.with_suffix(".mo").unlink(missing_ok=True)


# -- Markup that a translation must keep -------------------------------------------------------
# Each pattern finds one kind of markup in a message, reduced to the part a translation must not
# change: a role's name and target (its title may be translated), a literal's text, a link's URL.
MARKUP = {
    "rst role": re.compile(r":([\w:+-]+):`(?:[^`<]*<)?([^`>]+)>?`"),
    "MyST role": re.compile(r"\{([\w:+-]+)\}`(?:[^`<]*<)?([^`>]+)>?`"),
    "rst literal": re.compile(r"``(.+?)``"),
    "Markdown literal": re.compile(r"(?<![`:}])`([^`\n]+?)`(?![`_])"),
    "rst link": re.compile(r"`[^`<]*<([^`>]+)>`__?"),
    "Markdown link": re.compile(r"\]\(([^)\s]+)\)"),
    "substitution": re.compile(r"(?<![\w`])\|([\w-]+)\|(?![\w`])"),
    "URL": re.compile(r"https?://[^\s`<>)\]]+"),
    "placeholder": re.compile(r"%\(\w+\)[sd]|%[sd]|\{\d*\}"),
}
# reStructuredText only sees inline markup that follows a space or punctuation and is followed
# by one: Chinese characters are neither, so "调用``forward``方法" stays literal backticks.
CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
RST_START_GLUED = re.compile(rf"{CJK}(``|:[\w:+-]+:`|\*\*?[^\s*]|`[^`\s])")
RST_END_GLUED = re.compile(rf"(``|`_{{0,2}}|[^\s*]\*\*?){CJK}")


def markup(text: str, rst: bool) -> list[tuple[str, str]]:
    """Every piece of markup in ``text`` that a translation must keep, sorted."""
    found = []
    for kind, pattern in MARKUP.items():
        if (kind.startswith("rst") and not rst) or (kind.startswith("Markdown") and rst):
            continue
        for match in pattern.finditer(text):
            found.append((kind, ":".join(g for g in match.groups() if g) or match.group(0)))
    return sorted(found)


def markup_problems(source: str, translation: str, rst: bool) -> list[str]:
    """How ``translation`` breaks the markup of ``source`` (empty list: it keeps it all)."""
    problems = []
    wanted, got = markup(source, rst), markup(translation, rst)
    for item in sorted(set(wanted) | set(got)):
        if wanted.count(item) != got.count(item):
            kind, text = item
            problems.append(
                f"{kind} {text!r}: {wanted.count(item)} in the English, {got.count(item)} in the "
                f"translation"
            )
    if rst:
        for pattern, where in ((RST_START_GLUED, "before"), (RST_END_GLUED, "after")):
            for match in pattern.finditer(translation):
                problems.append(
                    f"inline markup {match.group(0)!r} has a Chinese character right {where} it: "
                    "reStructuredText will not see it; put a space (or '\\ ') between them"
                )
    return problems


def is_rst(page: str) -> bool:
    """Gallery pages are reStructuredText (sphinx-gallery writes them); the rest is MyST."""
    return not (DOCS / f"{page}.md").exists()


@dataclass
class Report:
    untranslated: dict[str, list[str]]
    fuzzy: dict[str, list[str]]
    broken: dict[str, list[str]]
    counts: dict[str, tuple[int, int]]  # page: (translated, total)


def review(catalogues: Path = CATALOGUES) -> Report:
    """Untranslated, fuzzy and markup-breaking messages of every catalogue, per page."""
    report = Report({}, {}, {}, {})
    for po in sorted(catalogues.rglob("*.po")):
        page = docname(po, catalogues)
        entries = messages(read_catalogue(po))
        report.untranslated[page] = [m.id for m in entries if not m.string]
        report.fuzzy[page] = [m.id for m in entries if m.string and m.fuzzy]
        report.broken[page] = [
            f"{m.id[:60]!r}: {problem}"
            for m in entries
            if m.string and not m.fuzzy
            for problem in markup_problems(m.id, m.string, is_rst(page))
        ]
        done = len(entries) - len(report.untranslated[page]) - len(report.fuzzy[page])
        report.counts[page] = (done, len(entries))
    return report


def stale(pot_dir: Path, catalogues: Path = CATALOGUES) -> dict[str, list[str]]:
    """Per page: English messages with no catalogue entry, and entries no page has any more."""
    found: dict[str, list[str]] = {}
    pots = {docname(p, pot_dir): p for p in pot_dir.rglob("*.pot")}
    pos = {docname(p, catalogues): p for p in catalogues.rglob("*.po")}
    for page in sorted(set(pots) | set(pos)):
        if page not in pos:
            found[page] = ["no catalogue for this page"]
            continue
        if page not in pots:
            found[page] = ["catalogue of a page that no longer exists"]
            continue
        english = {m.id for m in messages(read_catalogue(pots[page]))}
        translated = {m.id for m in messages(read_catalogue(pos[page]))}
        problems = [f"missing: {m[:70]!r}" for m in sorted(english - translated)]
        problems += [f"no longer in the page: {m[:70]!r}" for m in sorted(translated - english)]
        if problems:
            found[page] = problems
    return found


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        update()
        argv = ["check", "--no-stale"]
    if argv[:1] == ["extract"] and len(argv) == 2:
        print(f"catalogues: wrote {len(extract(Path(argv[1])))} .pot files to {argv[1]}")
        return 0
    if argv[:1] != ["check"]:
        print(__doc__)
        return 2
    report = review()
    if "--no-stale" in argv:
        out_of_date: dict[str, list[str]] = {}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            extract(Path(tmp))
            out_of_date = stale(Path(tmp))
    done = sum(d for d, _ in report.counts.values())
    total = sum(t for _, t in report.counts.values())
    for page, (d, t) in report.counts.items():
        flags = [f"{len(getattr(report, k)[page])} {k}" for k in ("fuzzy", "broken")
                 if getattr(report, k)[page]]  # fmt: skip
        flags += ["stale"] if page in out_of_date else []
        print(f"{d:4d}/{t:<4d} {page}" + (f"  ({', '.join(flags)})" if flags else ""))
    for page, problems in out_of_date.items():
        for problem in problems:
            print(f"stale {page}: {problem}")
    for page, problems in report.broken.items():
        for problem in problems:
            print(f"broken {page}: {problem}")
    print(f"catalogues: {done}/{total} messages translated in {len(report.counts)} catalogues")
    clean = done == total and not out_of_date and not any(report.broken.values())
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
