"""Jargon links to the glossary on first use, and microseconds are written "µs"."""

from __future__ import annotations

import glossary_links

LINK = '<a class="reference internal" href="../glossary.html#term-dispatcher"><span>{}</span></a>'


def _page(body: str) -> str:
    return f'<html lang="en"><body><nav>dispatcher</nav><article>{body}</article></body></html>'


def test_a_first_use_linked_to_the_glossary_passes():
    body = f"<p>The {LINK.format('dispatcher')} picks a kernel. The dispatcher again.</p>"
    assert glossary_links.page_problems("p", _page(body)) == []


def test_an_unlinked_first_use_fails_even_when_a_later_use_is_linked():
    body = f"<p>The dispatcher picks a kernel.</p><p>{LINK.format('dispatcher')}</p>"
    (problem,) = glossary_links.page_problems("p", _page(body))
    assert "first use of 'dispatcher'" in problem and ":term:`dispatcher`" in problem


def test_code_output_headings_and_navigation_do_not_count_as_a_first_use():
    body = (
        "<h2>The dispatcher</h2><div class='highlight'><pre>dispatcher = 1</pre></div>"
        "<div class='sphx-glr-script-out'><pre>dispatcher: 3 µs</pre></div>"
        f"<p>Then the {LINK.format('dispatcher')}.</p>"
    )
    assert glossary_links.page_problems("p", _page(body)) == []


def test_us_for_microseconds_fails_in_prose_and_in_printed_output():
    for body in (
        "<p>one step took 47 us</p>",
        "<div class='sphx-glr-script-out'><pre>CPU: 200.1 us/epoch</pre></div>",
        "<p>12 us per call</p>",
    ):
        (problem,) = glossary_links.page_problems("p", _page(body))
        assert "write 'µs'" in problem


def test_words_that_merely_contain_us_pass():
    body = "<p>Thus 3 users use us, because status: 12 µs, bus 4 GB/s.</p>"
    assert glossary_links.page_problems("p", _page(body)) == []


def test_only_english_pages_are_checked(tmp_path):
    (tmp_path / "a.html").write_text(_page("<p>47 us</p>"), encoding="utf-8")
    zh = tmp_path / "zh_CN"
    zh.mkdir()
    (zh / "a.html").write_text(
        '<html lang="zh-CN"><article><p>47 us</p></article></html>', encoding="utf-8"
    )
    assert glossary_links.site_problems(tmp_path) == [
        "a: writes microseconds as '47 us'; write 'µs'"
    ]
