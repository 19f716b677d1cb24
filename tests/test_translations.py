"""The Chinese catalogues: complete, current, and faithful to the English markup.

One test per catalogue (``docs/locales/zh_CN/LC_MESSAGES/<page>.po``), so a failure names the
page to translate. ``python docs/_ext/catalogues.py check`` prints the same findings at once.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# docs/_ext and tests/ are on the path through pytest's pythonpath (pyproject.toml)
import catalogues
import pytest
import translations
import verify_translation
from build_command import SPHINX_ARGS, TRANSLATION_ARGS
from sphinx_project import make_project

PAGES = sorted(catalogues.docname(p, catalogues.CATALOGUES)
               for p in catalogues.CATALOGUES.rglob("*.po"))  # fmt: skip
REPORT = catalogues.review()


def _listing(messages: list[str]) -> str:
    return "\n".join(f"  - {m[:100]!r}" for m in messages)


@pytest.mark.parametrize("page", PAGES)
def test_every_message_is_translated(page: str) -> None:
    untranslated, fuzzy = REPORT.untranslated[page], REPORT.fuzzy[page]
    assert not untranslated and not fuzzy, (
        f"{page}.po: {len(untranslated)} untranslated, {len(fuzzy)} fuzzy (changed English: "
        f"check the translation, then remove the '#, fuzzy' line); see docs/translating.md\n"
        + _listing(untranslated + fuzzy)
    )


@pytest.mark.parametrize("page", PAGES)
def test_translations_keep_the_markup(page: str) -> None:
    assert not REPORT.broken[page], f"{page}.po:\n" + _listing(REPORT.broken[page])


@pytest.mark.parametrize("page", PAGES)
def test_translations_use_the_term_tables_words(page: str) -> None:
    assert not REPORT.synonyms[page], f"{page}.po:\n" + _listing(REPORT.synonyms[page])


def test_the_term_table_and_the_glossary_agree() -> None:
    problems = catalogues.glossary_problems(
        catalogues.DOCS / "glossary.md", catalogues.read_terms()
    )
    assert not problems, "\n".join(problems)


def test_an_avoided_word_is_named_unless_quoted_or_code() -> None:
    terms = catalogues.read_terms()
    found = catalogues.term_problems("先做一次标定，再看性能浪费。", terms)
    assert len(found) == 2, found
    assert any("'标定' where the term table (docs/terms.csv) says '校准'" in f for f in found)
    assert any(
        "'性能浪费' where the term table (docs/terms.csv) says 'GPU 利用不足'" in f for f in found
    )
    # citing the course's word, and a code literal, are not uses of it
    assert catalogues.term_problems("课程里称之为“性能浪费”，见 ``标定``。", terms) == []


@pytest.mark.slow
def test_catalogues_match_the_english_sources(tmp_path: Path) -> None:
    """A fresh extraction (no execution, seconds) against the catalogues: nothing missing."""
    catalogues.extract(tmp_path)
    stale = catalogues.stale(tmp_path)
    assert not stale, "run `nox -s translations` (docs/translating.md):\n" + "\n".join(
        f"{page}: {problem}" for page, problems in stale.items() for problem in problems
    )


# -- The checks themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("english", "translation"),
    [
        ("Call ``forward`` now.", "现在调用 ``forward``。"),
        ("See :doc:`call_method` and ``x``.", "见 :doc:`call_method` 和 ``x``。"),
        (":download:`Download: a.py <a.py>`", ":download:`下载：a.py <a.py>`"),
        ("Took |sg_seconds| seconds", "用时 |sg_seconds| 秒"),
    ],
)
def test_faithful_rst_translations_pass(english: str, translation: str) -> None:
    assert catalogues.markup_problems(english, translation, rst=True) == []


@pytest.mark.parametrize(
    ("english", "translation", "problem"),
    [
        ("Call ``forward`` now.", "现在调用 forward。", "rst literal 'forward'"),
        ("Call ``forward`` now.", "现在调用``forward``。", "the parser sees other inline markup"),
        ("**SMs** (units)", "**SM**（单元）", "the parser sees other inline markup"),
        ("See :doc:`call_method`.", "见 :doc:`index`。", "rst role 'doc:index'"),
        ("Took |sg_seconds| s", "用时 |sg_second| 秒", "substitution 'sg_second'"),
        ("`site <https://a.org>`_", "`网站 <https://b.org>`_", "URL 'https://b.org'"),
    ],
)
def test_broken_rst_translations_are_named(english: str, translation: str, problem: str) -> None:
    problems = catalogues.markup_problems(english, translation, rst=True)
    assert any(p.startswith(problem) for p in problems), problems


def test_markdown_translations_keep_roles_literals_and_links() -> None:
    english = "The {doc}`page` shows `x` and [results](results.md) {glue:text}`cpu_name`."
    good = "{doc}`page` 展示了 `x` 和[结果](results.md)：{glue:text}`cpu_name`。"
    assert catalogues.markup_problems(english, good, rst=False) == []
    bad = "{doc}`other` 展示了 x 和[结果](result.md)：{glue:text}`cpu`。"
    kinds = {p.split(" '")[0] for p in catalogues.markup_problems(english, bad, rst=False)}
    assert {"MyST role", "Markdown literal", "Markdown link"} <= kinds


@pytest.mark.parametrize(
    ("message", "needs_none"),
    [
        (":doc:`/auto_examples/python/plot_call_method`", True),
        ("{doc}`call_method`", True),
        ("devicelab.timing", True),
        (":download:`Download zipped: a.zip <a.zip>`", False),  # its title is text
        ("Run in Google Colab", False),
    ],
)
def test_only_markup_is_prefilled(message: str, needs_none: bool) -> None:
    assert catalogues.needs_no_translation(message) is needs_none


def test_stale_names_missing_and_removed_messages(tmp_path: Path) -> None:
    pots, pos = tmp_path / "pot", tmp_path / "po"
    (pots / "sub").mkdir(parents=True)
    (pos / "sub").mkdir(parents=True)
    entry = 'msgid "{}"\nmsgstr "{}"\n\n'
    (pots / "sub" / "page.pot").write_text(entry.format("", "") + entry.format("New", ""))
    (pots / "gone.pot").write_text(entry.format("", ""))
    (pos / "sub" / "page.po").write_text(entry.format("", "") + entry.format("Old", "旧"))
    stale = catalogues.stale(pots, pos)
    assert stale == {
        "gone": ["no catalogue for this page"],
        "sub/page": ["missing: 'New'", "no longer in the page: 'Old'"],
    }


def test_language_switch_urls_lead_to_the_same_page() -> None:
    url = translations.counterpart_url("auto_examples/python/plot_call_method", "en", "zh_CN")
    assert url == "../../zh_CN/auto_examples/python/plot_call_method.html"
    assert translations.counterpart_url("index", "zh_CN", "en") == "../index.html"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        translations.counterpart_url("index", "en", "fr")


def _page(lang: str, switch: str, output: str) -> str:
    return (
        f'<html lang="{lang}"><div class="devicelab-language-switch"><a href="{switch}">x</a>'
        f'</div><div class="sphx-glr-script-out highlight"><pre>{output}</pre></div></html>'
    )


def test_output_blocks_stop_at_their_own_container() -> None:
    """A figure-only cell output has no <pre>: the prose after it is not output."""
    page = (
        '<div class="cell_output docutils container"><img src="../_images/fig.png"></div>'
        "<p>translated prose</p>"
        '<div class="cell_output docutils container"><div class="output stream highlight">'
        '<div class="highlight"><pre>printed 42 us</pre></div></div></div>'
    )
    printed, figures = verify_translation.outputs(page)
    assert printed == ["printed 42 us"] and figures == ["fig.png"]


def test_verify_translation_catches_a_second_run_and_a_wrong_switch(tmp_path: Path) -> None:
    (tmp_path / "zh_CN").mkdir()
    (tmp_path / "index.html").write_text(_page("en", "zh_CN/index.html", "1.0 s"))
    (tmp_path / "zh_CN" / "index.html").write_text(_page("zh-CN", "../index.html", "1.0 s"))
    assert verify_translation.main([str(tmp_path), "zh_CN"]) == 0

    (tmp_path / "zh_CN" / "index.html").write_text(_page("zh-CN", "index.html", "1.3 s"))
    assert verify_translation.page_problems(tmp_path, "zh_CN", "index.html") == [
        f"zh_CN/index.html: the language switch does not lead to {tmp_path / 'index.html'}",
        "zh_CN/index.html: its printed output shows other numbers than the English page's",
    ]


def test_verify_translation_wants_the_english_run_s_numbers_in_chinese_words(
    tmp_path: Path,
) -> None:
    """The translated output may reorder its values, not change them, and may keep names and
    code in English, not a sentence."""
    (tmp_path / "zh_CN").mkdir()
    english = "advised on 4 models in 12.5 s\nloss.item() on cuda:0"
    (tmp_path / "index.html").write_text(_page("en", "zh_CN/index.html", english))
    chinese = "12.5 秒内为 4 个模型给出建议\nloss.item() 在 cuda:0 上"
    (tmp_path / "zh_CN" / "index.html").write_text(_page("zh-CN", "../index.html", chinese))
    assert verify_translation.page_problems(tmp_path, "zh_CN", "index.html") == []

    other_run = chinese.replace("12.5", "12.7")
    (tmp_path / "zh_CN" / "index.html").write_text(_page("zh-CN", "../index.html", other_run))
    assert verify_translation.page_problems(tmp_path, "zh_CN", "index.html") == [
        "zh_CN/index.html: its printed output shows other numbers than the English page's"
    ]
    untranslated = chinese.replace("12.5 秒内为 4 个模型给出建议", "advised on 4 models in 12.5 s")
    (tmp_path / "zh_CN" / "index.html").write_text(_page("zh-CN", "../index.html", untranslated))
    assert verify_translation.page_problems(tmp_path, "zh_CN", "index.html") == [
        "zh_CN/index.html: printed English 'advised on   models in' in 'advised on 4 models in 12.5 s'"
    ]


def _gallery(lang: str, switch: str, title: str, summary: str) -> str:
    return _page(lang, switch, "1.0 s").replace(
        "</html>",
        f'<div class="sphx-glr-thumbcontainer" tooltip="{summary}">'
        f'<div class="sphx-glr-thumbnail-title">{title}</div></div></html>',
    )


def test_verify_translation_catches_an_english_gallery_card(tmp_path: Path) -> None:
    """A card left in English, or with four English words in a row, fails; a translated card
    that names code (``loss.item()``) or three English words passes."""
    (tmp_path / "zh_CN").mkdir()
    english = _gallery("en", "zh_CN/index.html", "Why the first epoch is slow", "It is slow.")
    (tmp_path / "index.html").write_text(english)
    translated = _gallery(
        "zh-CN", "../index.html", "为什么第一轮慢", "loss.item() 的 CPU vs GPU 时间"
    )
    (tmp_path / "zh_CN" / "index.html").write_text(translated)
    assert verify_translation.page_problems(tmp_path, "zh_CN", "index.html") == []

    untranslated = _gallery("zh-CN", "../index.html", "Why the first epoch is slow", "它很慢。")
    (tmp_path / "zh_CN" / "index.html").write_text(untranslated)
    mixed = _gallery("zh-CN", "../index.html", "为什么第一轮慢", "看 the course's tiny model。")
    assert verify_translation.page_problems(tmp_path, "zh_CN", "index.html") == [
        "zh_CN/index.html: a gallery card's title reads English words 'Why the first epoch is slow'"
    ]
    (tmp_path / "zh_CN" / "index.html").write_text(mixed)
    assert verify_translation.page_problems(tmp_path, "zh_CN", "index.html") == [
        "zh_CN/index.html: a gallery card's summary reads English words \"the course's tiny model\""
    ]


PAGE_WITH_GLUE = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---

# A page

```{code-cell} python3
from myst_nb import glue

{count}
glue("answer", 42, display=False)
```

The answer is {glue:text}`answer`.
"""
PAGE_CATALOGUE = """msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\\n"

msgid "A page"
msgstr "一个页面"

msgid "The answer is {glue:text}`answer`."
msgstr "答案是 {glue:text}`answer`。"
"""


EXAMPLE_CATALOGUE = """msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\\n"

msgid "Counted"
msgstr "计数"

msgid "Counts its runs."
msgstr "它记下自己运行了几次。"
"""


PRINTED_CATALOGUE = """msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\\n"

msgid "this run drew {draw:.6f} at random, in {seconds:.1f} s"
msgstr "这次运行用 {seconds:.1f} 秒随机抽到 {draw:.6f}"

msgid "s"
msgstr "秒"
"""
DRAW = 'import random\ndraw, seconds = random.random(), 0.5\nprint(f"this run drew {draw:.6f} at random, in {seconds:.1f} s")\n'


@pytest.mark.slow
def test_the_chinese_build_executes_nothing(tmp_path: Path) -> None:
    """English then Chinese, as ``nox -s docs`` runs them: each example and notebook runs once,
    a translated paragraph shows the value the English build's notebook computed, and a printed
    line reads in Chinese with the English run's own random number."""
    runs = tmp_path / "runs.txt"
    count = f"with open({str(runs)!r}, 'a') as f:\n    f.write('{{}}\\n')\n"
    example = '"""\nCounted\n=======\n\nCounts its runs.\n"""\n\n' + count.format("example") + DRAW
    page = PAGE_WITH_GLUE.replace("{count}", count.format("notebook"))
    (tmp_path / "project").mkdir()
    project = make_project(tmp_path / "project", example=example, page=page)
    catalogue = project / "docs" / "locales" / "zh_CN" / "LC_MESSAGES" / "page.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text(PAGE_CATALOGUE, encoding="utf-8")
    # the example's catalogue: its gallery card must read in Chinese (verify_translation)
    example_catalogue = catalogue.parent / "auto_examples" / "python" / "plot_call_method.po"
    example_catalogue.parent.mkdir(parents=True)
    example_catalogue.write_text(EXAMPLE_CATALOGUE, encoding="utf-8")
    printed_catalogue = (
        catalogue.parent / "printed" / "auto_examples" / "python" / "plot_call_method.po"
    )
    printed_catalogue.parent.mkdir(parents=True)
    printed_catalogue.write_text(PRINTED_CATALOGUE, encoding="utf-8")
    for args in (SPHINX_ARGS, TRANSLATION_ARGS):
        result = subprocess.run([sys.executable, "-m", "sphinx", *args], cwd=project,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(runs.read_text().split()) == ["example", "notebook"]
    assert verify_translation.main([str(project / "build" / "html"), "zh_CN"]) == 0
    html = (project / "build" / "html" / "zh_CN" / "page.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    assert "一个页面" in text and "答案是 42。" in text
    example_html = Path("auto_examples") / "python" / "plot_call_method.html"
    english = (project / "build" / "html" / example_html).read_text(encoding="utf-8")
    drawn = re.search(r"this run drew (0\.\d{6}) at random, in 0\.5 s", english)
    assert drawn is not None, english
    chinese = (project / "build" / "html" / "zh_CN" / example_html).read_text(encoding="utf-8")
    assert f"这次运行用 0.5 秒随机抽到 {drawn.group(1)}" in chinese
