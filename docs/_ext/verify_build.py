"""Post-build truth checks: every gallery page really ran and shows what it printed.

Usage: ``python docs/_ext/verify_build.py docs/auto_examples build/html``

A page fails when its example:
- has no generated page, or no HTML page;
- reports a zero run time (it did not run, or was served from a cache);
- embeds neither printed output nor a figure;
- printed a Python traceback, or a warning line that is not on the explained list below.

Exit status 1 lists every failure.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

RUN_TIME = re.compile(
    r"\*\*Total running time of the script:\*\*\s*\((\d+) minutes\s+([\d.]+) seconds\)"
)
OUTPUT_MARKERS = (".. rst-class:: sphx-glr-script-out", ".. image-sg::", ".. image::")
WARNING_LINE = re.compile(r"\b\w*(Warning|WARNING)\b:")

# Warning lines that may appear in embedded output, each with the reason it is acceptable.
EXPLAINED_WARNINGS: dict[str, str] = {}


def example_pages(gallery_dir: Path) -> list[Path]:
    """The generated ``.rst`` page of every executed example (``plot_*``)."""
    return sorted(gallery_dir.rglob("plot_*.rst"))


def run_time_s(rst_text: str) -> float | None:
    """Seconds the example ran, as sphinx-gallery recorded it, or None if not recorded."""
    match = RUN_TIME.search(rst_text)
    if match is None:
        return None
    return int(match.group(1)) * 60 + float(match.group(2))


def output_blocks(rst_text: str) -> list[str]:
    """Text of each embedded output block (``sphx-glr-script-out``) of a generated page."""
    blocks = []
    for part in rst_text.split(".. rst-class:: sphx-glr-script-out")[1:]:
        body = part.split(".. code-block:: none", 1)[-1]
        lines = []
        for line in body.splitlines()[1:]:
            if line.strip() and not line.startswith("    "):
                break
            lines.append(line[4:])
        blocks.append("\n".join(lines))
    return blocks


def page_problems(rst_path: Path, html_root: Path, gallery_dir: Path) -> list[str]:
    """Every reason this example page fails the checks (empty list: it passes)."""
    text = rst_path.read_text(encoding="utf-8")
    name = rst_path.relative_to(gallery_dir).with_suffix("")
    problems = []
    seconds = run_time_s(text)
    if seconds is None:
        problems.append(f"{name}: no recorded run time (the example did not run)")
    elif seconds <= 0:
        problems.append(f"{name}: run time is zero (the example did not really run)")
    if not any(marker in text for marker in OUTPUT_MARKERS):
        problems.append(f"{name}: no embedded output and no figure")
    for block in output_blocks(text):
        if "Traceback (most recent call last)" in block:
            problems.append(f"{name}: embedded output contains a Python traceback")
        for line in block.splitlines():
            if WARNING_LINE.search(line) and not any(k in line for k in EXPLAINED_WARNINGS):
                problems.append(f"{name}: unexplained warning in output: {line.strip()}")
    html = html_root / "auto_examples" / name.with_suffix(".html")
    if not html.is_file():
        problems.append(f"{name}: no HTML page at {html}")
    return problems


def main(argv: list[str]) -> int:
    gallery_dir, html_root = Path(argv[0]), Path(argv[1])
    pages = example_pages(gallery_dir)
    if not pages:
        print(f"verify_build: no example pages under {gallery_dir}; was the gallery built?")
        return 1
    problems = [p for page in pages for p in page_problems(page, html_root, gallery_dir)]
    for problem in problems:
        print(f"verify_build: {problem}")
    if problems:
        return 1
    print(f"verify_build: {len(pages)} example pages ran and embed their output")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
