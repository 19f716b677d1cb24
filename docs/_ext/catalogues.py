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

import csv
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import printed
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser as RstParser
from docutils.parsers.rst import roles
from docutils.utils import new_document
from markdown_it import MarkdownIt
from mdit_py_plugins.myst_role import myst_role_plugin

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
    extract_printed(outdir / printed.FOLDER)
    return sorted(outdir.rglob("*.pot"))


def printed_sources() -> dict[str, list[str]]:
    """Per catalogue of printed output (``auto_examples/...``, a notebook page, ``devicelab``):
    its templates, read from the code that prints them (``docs/_ext/printed.py``)."""
    found = {}
    for example in sorted((ROOT / "examples").rglob("*.py")):
        if example.name.startswith("plot_"):
            page = (
                "auto_examples/" + example.relative_to(ROOT / "examples").with_suffix("").as_posix()
            )
            found[page] = printed.example_templates(example.read_text(encoding="utf-8"))
    for notebook in sorted(DOCS.glob("*.md")):
        templates = printed.example_templates(
            printed.notebook_code(notebook.read_text(encoding="utf-8"))
        )
        if templates:
            found[notebook.stem] = templates
    found[printed.PACKAGE] = printed.package_templates(ROOT / "src" / "devicelab")
    return {page: templates for page, templates in found.items() if templates}


def extract_printed(outdir: Path) -> None:
    """Write one ``.pot`` of printed templates per page that prints, and one for the package."""
    for page, templates in printed_sources().items():
        catalog = Catalog(project="devicelab", fuzzy=False)
        for template in templates:
            catalog.add(template)
        pot = outdir / f"{page}.pot"
        pot.parent.mkdir(parents=True, exist_ok=True)
        with open(pot, "wb") as handle:
            write_po(handle, catalog, width=76, omit_header=False)


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
        prefill_markup_only(po)
    for po in sorted(CATALOGUES.rglob("*.po")):
        if docname(po, CATALOGUES) not in pages:
            print(f"catalogues: deleting {po.relative_to(ROOT)}: its page is gone")
            po.unlink()
            po.with_suffix(".mo").unlink(missing_ok=True)


def needs_no_translation(text: str) -> bool:
    """A message that reads the same in Chinese: only markup (``:doc:`x```), a dotted name
    (``devicelab.timing``), or text already in Chinese (the glossary's Chinese column)."""
    words = TITLED.sub(r"\1", text)  # a link's or a role's own title is text to translate
    for pattern in (*MARKUP.values(), MARKDOWN_CODE_OR_ROLE):
        words = pattern.sub("", words)
    return (
        not re.search(r"[A-Za-z]", words)
        or re.fullmatch(r"[\w]+(\.[\w]+)+", text) is not None
        or (re.search(CJK, text) is not None and not re.search(r"[A-Za-z]{3,}", words))
    )


def prefill_markup_only(po: Path) -> None:
    """Copy into the catalogue, as their own translation, the messages that need none."""
    catalog = read_catalogue(po)
    todo = [m for m in messages(catalog) if not m.string and needs_no_translation(m.id)]
    for message in todo:
        message.string = message.id
    if todo:
        with open(po, "wb") as handle:
            write_po(handle, catalog, width=76)


# -- Markup that a translation must keep -------------------------------------------------------
# Each pattern finds one kind of markup in a message, reduced to the part a translation must not
# change: a role's name and target (its title may be translated), a literal's text, a link's URL.
MARKUP = {
    "rst role": re.compile(r":([\w:+-]+):`(?:[^`<]*<)?([^`>]+)>?`"),
    "rst literal": re.compile(r"``(.+?)``"),
    "rst link": re.compile(r"`[^`<]*<([^`>]+)>`__?"),
    "substitution": re.compile(r"(?<![\w`])\|([\w-]+)\|(?![\w`])"),
    "URL": re.compile(r"https?://[^\s`<>)\]]+"),
    "placeholder": re.compile(r"%\(\w+\)[sd]|%[sd]|\{\d*\}"),
}
MARKDOWN_CODE_OR_ROLE = re.compile(r"(?:\{[\w:+-]+\})?`[^`]+`")
CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
TITLED = re.compile(r"(?::[\w:+-]+:|\{[\w:+-]+\})?`([^`<]*\S)\s*<[^`>]+>`_{0,2}")
# Inline markup as the parser sees it. reStructuredText only sees markup that has a space or
# punctuation on both sides, and Chinese characters are neither: "调用``forward``方法" shows its
# backticks. Counting the inline nodes of the English and of the translation catches that.
RST_INLINE = (nodes.literal, nodes.emphasis, nodes.strong, nodes.reference, nodes.inline,
              nodes.substitution_reference, nodes.title_reference, nodes.problematic)  # fmt: skip
MARKDOWN = MarkdownIt("commonmark").use(myst_role_plugin)
RST_SETTINGS = get_default_settings(RstParser)
RST_SETTINGS.report_level = RST_SETTINGS.halt_level = 5  # quiet: only the node tree matters
RST_SETTINGS.warning_stream = io.StringIO()


def _any_role(name, rawtext, text, lineno, inliner, options=None, content=None):  # noqa: ARG001
    return [nodes.inline(rawtext, text)], []


def inline_structure(text: str, rst: bool) -> Counter[str]:
    """How many of each kind of inline markup the parser finds in ``text``."""
    if not rst:
        tokens = [c for t in MARKDOWN.parse(text) for c in (t.children or [])]
        return Counter(t.type for t in tokens if t.type not in ("text", "softbreak"))
    for name in re.findall(r":([\w:+-]+):`", text):
        roles.register_local_role(name, _any_role)  # Sphinx's roles, known to the parser
    document = new_document("<message>", RST_SETTINGS)
    RstParser().parse(text, document)
    return Counter(
        type(node).__name__ for node in document.findall(lambda n: isinstance(n, RST_INLINE))
    )


def _markdown_markup(text: str) -> list[tuple[str, str]]:
    """Code spans, MyST roles (name and target) and link targets, as markdown-it parses them."""
    found = []
    for token in (c for t in MARKDOWN.parse(text) for c in (t.children or [])):
        if token.type == "code_inline":
            found.append(("Markdown literal", token.content))
        elif token.type == "myst_role":
            target = re.sub(r"^[^<]*<(.+)>$", r"\1", token.content)
            found.append(("MyST role", f"{token.meta['name']}:{target}"))
        elif token.type == "link_open":
            found.append(("Markdown link", str(token.attrs["href"])))
    return found


def markup(text: str, rst: bool) -> list[tuple[str, str]]:
    """Every piece of markup in ``text`` that a translation must keep, sorted."""
    found = [] if rst else _markdown_markup(text)
    for kind, pattern in MARKUP.items():
        if kind.startswith("rst") and not rst:
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
    english, translated = inline_structure(source, rst), inline_structure(translation, rst)
    if english != translated:
        hint = (
            " (reStructuredText needs a space or punctuation around inline markup)" if rst else ""
        )
        problems.append(
            f"the parser sees other inline markup: {dict(english)} in the English, "
            f"{dict(translated)} in the translation{hint}"
        )
    return problems


def translation_problems(page: str, english: str, translation: str) -> list[str]:
    """What a translation breaks: a printed template's fields, or a page message's markup."""
    if page.startswith(f"{printed.FOLDER}/"):
        return printed.field_problems(english, translation)
    return markup_problems(english, translation, is_rst(page))


def is_rst(page: str) -> bool:
    """Gallery pages are reStructuredText (sphinx-gallery writes them); the rest is MyST."""
    return not (DOCS / f"{page}.md").exists()


#: The term table (``docs/terms.csv``): each glossary term's one Chinese word, the course's own
#: word where its notes have one, and the words a translation must not use for the term.
TERMS = DOCS / "terms.csv"
#: Where a page may name an avoided word: quoting it (“性能浪费”), e.g. to cite the course.
QUOTED = re.compile(r"“[^”]*”")
#: Code literals hold identifiers, not Chinese words.
LITERAL = re.compile(r"``[^`]*``")


@dataclass(frozen=True)
class Term:
    term: str
    chinese: str
    course: str
    avoid: tuple[str, ...]


def read_terms(path: Path = TERMS) -> list[Term]:
    """The term table, one :class:`Term` per glossary term."""
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Term(row["term"], row["chinese"], row["course"],
                 tuple(w for w in row["avoid"].split("|") if w))
            for row in csv.DictReader(f)
        ]  # fmt: skip


def term_problems(translation: str, terms: list[Term]) -> list[str]:
    """The avoided words a translation uses outside quotation marks and code literals."""
    text = LITERAL.sub("", QUOTED.sub("", translation))
    return [
        f"{word!r} where the term table (docs/terms.csv) says {t.chinese!r} for {t.term!r}"
        for t in terms
        for word in t.avoid
        if word in text
    ]


def glossary_problems(glossary: Path, terms: list[Term]) -> list[str]:
    """Where the glossary's "中文：..." words and the term table disagree."""
    words = {}
    for block in re.findall(r"```\{glossary\}\n(.*?)```", glossary.read_text("utf-8"), re.S):
        term = None
        for line in block.splitlines():
            if line and not line.startswith(" "):
                term = line.strip()
            elif term and (found := re.search(r"中文：(.+?)。", line)):
                words[term] = found.group(1)
    table = {t.term: t.chinese for t in terms}
    problems = [f"{term!r}: the glossary says {w!r}, the table {table.get(term)!r}"
                for term, w in words.items() if table.get(term) != w]  # fmt: skip
    problems += [f"{term!r}: in the table, not in the glossary" for term in table.keys() - words]
    return problems


@dataclass
class Report:
    untranslated: dict[str, list[str]]
    fuzzy: dict[str, list[str]]
    broken: dict[str, list[str]]
    counts: dict[str, tuple[int, int]]  # page: (translated, total)
    synonyms: dict[str, list[str]]  # page: avoided words its translations use


def review(catalogues: Path = CATALOGUES) -> Report:
    """Untranslated, fuzzy and markup-breaking messages of every catalogue, per page."""
    report = Report({}, {}, {}, {}, {})
    terms = read_terms()
    for po in sorted(catalogues.rglob("*.po")):
        page = docname(po, catalogues)
        entries = messages(read_catalogue(po))
        report.untranslated[page] = [m.id for m in entries if not m.string]
        report.fuzzy[page] = [m.id for m in entries if m.string and m.fuzzy]
        report.broken[page] = [
            f"{m.id[:60]!r}: {problem}"
            for m in entries
            if m.string and not m.fuzzy
            for problem in translation_problems(page, m.id, m.string)
        ]
        report.synonyms[page] = [
            f"{m.id[:60]!r}: {problem}"
            for m in entries
            if m.string
            for problem in term_problems(m.string, terms)
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
    for page, problems in report.synonyms.items():
        for problem in problems:
            print(f"term {page}: {problem}")
    glossary = glossary_problems(DOCS / "glossary.md", read_terms())
    for problem in glossary:
        print(f"term table: {problem}")
    print(f"catalogues: {done}/{total} messages translated in {len(report.counts)} catalogues")
    clean = done == total and not out_of_date and not any(report.broken.values())
    clean = clean and not any(report.synonyms.values()) and not glossary
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
