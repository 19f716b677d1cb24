"""``devicelab.display.Collapsed``: a closed block in HTML, the whole text in a terminal."""

from __future__ import annotations

from devicelab.display import Collapsed


def test_html_is_a_closed_details_block_with_escaped_text():
    block = Collapsed("Rows <a & b>", "x < y\ny & z")
    html = block._repr_html_()
    assert html == (
        '<details class="devicelab-collapsed"><summary>Rows &lt;a &amp; b&gt;</summary>'
        "<pre>x &lt; y\ny &amp; z</pre></details>"
    )
    assert "<details open" not in html


def test_terminal_repr_shows_summary_then_text():
    assert repr(Collapsed("Two rows", "a 1\nb 2")) == "Two rows\na 1\nb 2"
