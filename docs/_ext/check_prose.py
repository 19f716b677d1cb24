"""Find hand-typed timings and speed-ups in prose: every such figure must be measured.

Usage: ``python docs/_ext/check_prose.py docs examples``

Prose is the Markdown text of ``docs/**/*.md`` (outside code cells) and the comments and
docstrings of ``examples/**/*.py``. A figure like "takes 3 s", "550 us per epoch" or
"10x faster" there is a defect: the page should print the measured value instead. A line
that quotes an external source may keep its figures if it says so with ``quote:`` (e.g.
``# quote: the course notes' reported run times``).

Exit status 1 lists every offending line.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from pathlib import Path

NUMBER = r"\d[\d,]*(?:\.\d+)?"
TIMING = re.compile(
    rf"(?<![\w.]){NUMBER}\s*(?:s|sec|secs|seconds?|ms|milliseconds?|us|µs|microseconds?|ns|"
    rf"nanoseconds?|min|minutes?)\b(?!\w)"
    rf"|(?<![\w.]){NUMBER}\s*(?:x|×|times)\s+(?:faster|slower|speed-?up|quicker)"
    rf"|(?:speed-?up|faster|slower)\s+of\s+{NUMBER}",
    re.IGNORECASE,
)
QUOTE_MARK = "quote:"


def prose_of_python(text: str) -> list[tuple[int, str]]:
    """(line number, text) of every comment and docstring line of a Python file."""
    lines: list[tuple[int, str]] = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            lines.append((token.start[0], token.string))
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc and node.body:
                first = node.body[0].lineno
                lines += [(first + i, line) for i, line in enumerate(doc.splitlines())]
    return lines


def prose_of_markdown(text: str) -> list[tuple[int, str]]:
    """(line number, text) of every Markdown line outside fenced code and code cells."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, re.sub(r"`[^`]*`", "", line)))  # inline code is code
    return lines


def offences(path: Path) -> list[str]:
    """Every line of ``path`` with a hand-typed timing not marked as a quote."""
    text = path.read_text(encoding="utf-8")
    prose = prose_of_python(text) if path.suffix == ".py" else prose_of_markdown(text)
    found = []
    for number, line in prose:
        if QUOTE_MARK in line:
            continue
        for match in TIMING.finditer(line):
            found.append(
                f"{path}:{number}: hand-typed figure {match.group(0)!r}: print the "
                f"measured value instead, or mark an external source with '{QUOTE_MARK}'"
            )
    return found


def main(argv: list[str]) -> int:
    files = [f for root in argv for f in sorted(Path(root).rglob("*"))
             if f.suffix in (".py", ".md") and "auto_examples" not in f.parts
             and "_ext" not in f.parts and "jupyter_execute" not in f.parts]  # fmt: skip
    problems = [p for f in files for p in offences(f)]
    for problem in problems:
        print(f"check_prose: {problem}")
    if problems:
        return 1
    print(f"check_prose: {len(files)} files, no hand-typed timings in prose")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
