"""How a page shows a long table: collapsed behind a one-line summary, so that it does not
count towards the page's share of printed output (``docs/_ext/page_balance.py``)."""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["Collapsed"]


@dataclass(frozen=True)
class Collapsed:
    """A table (or any long text) shown collapsed behind a one-line ``summary``: a notebook or
    a gallery page shows it as a closed HTML ``<details>`` block."""

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
