"""The claim register: every sentence of prose that compares or trends measured data is either
printed from the data or guarded by a hidden assertion on its page.

The register is data, ``docs/claims.csv``, one row per candidate sentence:

``page``
    The source file, relative to the repository root.
``sentence``
    A distinctive piece of the sentence, copied from the source (markup included); it must
    appear in exactly one candidate sentence of that page.
``kind``
    ``printed``: the page prints this comparison from its data (the sentence only points at
    it); ``guarded``: a hidden assertion on the page fails the build when the data say
    otherwise; ``no-data``: the words compare or trend, but not measured or recorded data (a
    definition, a mechanism, an instruction).
``evidence``
    For ``printed``, a piece of the page's code that prints it; for ``guarded``, a piece of
    the hidden assertion; for ``no-data``, why it claims nothing about the data.

Candidates are found lexically (:data:`COMPARATIVE`): in an example, its docstring and the
``# %%`` text blocks; in a MyST page, the text outside code. A reviewer decides what each
claims. ``python docs/_ext/claims.py`` lists every candidate with no row, and every row whose
sentence is gone; ``tests/test_claims.py`` fails on either.

The Chinese edition's sentences are translations of these (the catalogues map each English
paragraph to its Chinese), so one register covers both languages.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGISTER = ROOT / "docs" / "claims.csv"
KINDS = ("printed", "guarded", "no-data")

#: Words that compare two measured values or state a trend (the issue's "faster", "slower",
#: "cheaper", "flattens", "never", "less than twice" and their kin).
COMPARATIVE = re.compile(
    r"\b(faster|slower|cheaper|costlier|quicker|more than|less than|fewer than|larger than|"
    r"smaller than|higher than|lower than|flatten\w*|never|always|twice|wins?|beats?|"
    r"overtakes?|grows?|grew|falls?|fell|drops?|rises?|barely|dominat\w+|most of|sliver|"
    r"outweigh\w*|exceeds?|below|above|at least|at most)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    """One row of the register."""

    page: str
    sentence: str
    kind: str
    evidence: str


def pages(root: Path = ROOT) -> list[Path]:
    """The pages whose prose is scanned: every gallery example and every MyST page."""
    return sorted(root.glob("examples/**/plot_*.py")) + sorted((root / "docs").glob("*.md"))


def _example_prose(text: str) -> Iterator[str]:
    """An example's docstring and ``# %%`` text blocks (what sphinx-gallery renders as text)."""
    docstring = re.match(r'\s*"""(.*?)"""', text, re.S)
    if docstring:
        yield docstring.group(1)
    block: list[str] | None = None
    for line in text.splitlines() + [""]:
        if line.strip().startswith("# %%"):
            block = []
        elif block is not None and line.startswith("#"):
            words = line[1:].strip()
            if words and set(words) <= set("-=~^"):  # a heading's underline: drop the heading
                block.pop()
            else:
                block.append(words)
        elif block is not None:
            yield "\n".join(block)
            block = None


def _markdown_prose(text: str) -> Iterator[str]:
    """A MyST page's text outside code fences and directive options."""
    kept, fenced = [], False
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # the front matter
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced and not line.startswith((":", "#", "|")):  # headings, tables: no prose
            kept.append(line)
        elif line.startswith("|"):
            kept.append("")
    yield "\n".join(kept)


def candidates(path: Path) -> list[str]:
    """Sentences of ``path``'s prose with a comparative or trend word, whitespace folded."""
    text = path.read_text(encoding="utf-8")
    chunks = _example_prose(text) if path.suffix == ".py" else _markdown_prose(text)
    found = []
    for chunk in chunks:
        paragraph = re.sub(r"\s+", " ", chunk).strip()
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z*(`{])", paragraph):
            if COMPARATIVE.search(sentence):
                found.append(sentence.strip())
    return found


def read_register(path: Path = REGISTER) -> list[Claim]:
    """The register's rows.

    Raises
    ------
    ValueError
        A row with an unknown kind or an empty field, naming its line.
    """
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    claims = []
    for line, row in enumerate(rows, start=2):
        claim = Claim(
            **{k: (row.get(k) or "").strip() for k in ("page", "sentence", "kind", "evidence")}
        )
        if claim.kind not in KINDS:
            raise ValueError(f"{path.name}:{line}: kind {claim.kind!r} is not one of {KINDS}")
        if not (claim.page and claim.sentence and claim.evidence):
            raise ValueError(f"{path.name}:{line}: page, sentence and evidence are all required")
        claims.append(claim)
    return claims


def hidden_code(path: Path) -> str:
    """The code a reader does not see, where a page keeps its guards: an example's
    ``sphinx_gallery_start_ignore`` blocks, a MyST page's ``remove-cell`` cells."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        blocks = re.findall(
            r"sphinx_gallery_start_ignore(.*?)sphinx_gallery_end_ignore", text, re.S
        )
    else:
        blocks = re.findall(
            r"^```\{code-cell\}[^\n]*\n:tags: \[remove-cell\]\n(.*?)^```", text, re.M | re.S
        )
    return "\n".join(blocks)


def problems(root: Path = ROOT, register: Path = REGISTER) -> list[str]:
    """Everything wrong between the pages and the register, one line each, saying what to do."""
    claims = read_register(register)
    out = []
    by_page: dict[str, list[Claim]] = {}
    for claim in claims:
        by_page.setdefault(claim.page, []).append(claim)
    for path in pages(root):
        page = path.relative_to(root).as_posix()
        rows = by_page.pop(page, [])
        found = candidates(path)
        for sentence in found:
            if not any(c.sentence in sentence for c in rows):
                out.append(
                    f"{page}: unregistered comparative sentence: {sentence!r}. Add a row to "
                    f"{register.name} (printed, guarded or no-data, with the evidence)."
                )
        code, hidden = path.read_text(encoding="utf-8"), hidden_code(path)
        for c in rows:
            matches = [s for s in found if c.sentence in s]
            if len(matches) != 1:
                out.append(
                    f"{page}: the register's sentence {c.sentence!r} matches {len(matches)} "
                    "candidate sentences, not one: the prose changed; review the row."
                )
            if c.kind == "guarded" and c.evidence not in hidden:
                out.append(f"{page}: no hidden assertion contains {c.evidence!r}")
            if c.kind == "printed" and c.evidence not in code:
                out.append(f"{page}: no code contains {c.evidence!r}")
    for page in by_page:
        out.append(f"{register.name}: rows for {page}, which is not a page")
    return out


if __name__ == "__main__":
    if "--list" in sys.argv:
        for path in pages():
            for sentence in candidates(path):
                print(f"{path.relative_to(ROOT).as_posix()}\t{sentence}")
        sys.exit(0)
    found = problems()
    print("\n".join(found) or "claims: every comparative sentence is registered")
    sys.exit(1 if found else 0)
