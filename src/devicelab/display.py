"""How a page shows a long table: collapsed behind a one-line summary.

A gallery page or a notebook shows the value of a cell's last expression. ``Collapsed`` makes
that value a closed HTML ``<details>`` block: the reader sees the summary and opens the table
only if they want it, and text inside a closed block does not count towards the page's share of
code and printed output (``docs/_ext/page_balance.py``). In a terminal it prints in full.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["Collapsed"]


@dataclass(frozen=True)
class Collapsed:
    """A table (or any long text) shown collapsed behind a one-line summary.

    Parameters
    ----------
    summary
        One line that says what the text shows, shown while the block is closed.
    text
        The text itself, shown as preformatted text once the reader opens the block.

    Examples
    --------
    >>> block = Collapsed("Two rows", "a 1\\nb 2")
    >>> print(repr(block))
    Two rows
    a 1
    b 2
    >>> block._repr_html_().startswith('<details class="devicelab-collapsed">')
    True
    """

    summary: str
    text: str

    def _repr_html_(self) -> str:
        """The closed ``<details>`` block that notebooks and sphinx-gallery embed."""
        return (
            '<details class="devicelab-collapsed">'
            f"<summary>{html.escape(self.summary)}</summary>"
            f"<pre>{html.escape(self.text)}</pre>"
            "</details>"
        )

    def __repr__(self) -> str:
        """The summary, then the text: what a terminal shows."""
        return f"{self.summary}\n{self.text}"
