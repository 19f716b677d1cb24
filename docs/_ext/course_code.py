"""Run the course's own code as a learner would copy it: from the built pages, with torch alone.

Usage: ``python docs/_ext/course_code.py build/html`` (``nox -s course_code`` runs it in a venv
that holds only torch, scikit-learn and matplotlib).

The cells that carry the course's code are marked on the pages: a gallery example ends the
prose before such a cell with ``.. rst-class:: course-code``, and a MyST page tags the cell
``course-code``. The built HTML keeps the mark (``class="course-code"`` on the code block,
``tag_course-code`` on the notebook cell), and the page shows it as "Course code".

For every page in ``COURSE_PAGES`` this script takes the marked cells, in page order, exactly as
the page shows them, pastes them into one file and runs it in a fresh process of the Python that
runs this script. A page fails when it has no marked cell, when any of its visible code shows the package's
``StepSpec``, ``lap(``, ``resolve_device`` or a private helper, when its cells import ``devicelab``
(the lesson must not hide behind the package), when they exit with an error or print nothing,
or when the Python running them could import ``devicelab`` at all (then "torch alone" would not
be proven). Only the standard library is used here, so the runner's venv needs nothing else.

Exit status 1 lists every failure.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

# The course lesson pages: each must carry the course's own code, marked.
COURSE_PAGES = [
    "auto_examples/hardware/plot_inspect_cpu",
    "auto_examples/hardware/plot_inspect_gpu",
    "auto_examples/training/plot_train_on_device",
    "auto_examples/training/plot_cpu_vs_gpu",
    "auto_examples/training/plot_record_frequency",
    "call_method",
    "auto_examples/python/plot_call_method",
]
MARKS = ("course-code", "tag_course-code")
# A slow 2-core CPU runs the 20,000-epoch loop in about 13 s; a page's cells get ample room.
TIMEOUT_S = 300


class _MarkedCells(HTMLParser):
    """Collects the text of every ``<pre>`` inside an element whose class carries a mark."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self._stack: list[bool] = []  # per open element: does it (or an ancestor) carry a mark
        self._pre_depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "hr", "meta", "link", "input", "wbr"}:
            return
        classes = (dict(attrs).get("class") or "").split()
        marked = any(mark in classes for mark in MARKS) or (bool(self._stack) and self._stack[-1])
        if "cell_output" in classes:  # a notebook cell's printed result, not its code
            marked = False
        self._stack.append(marked)
        if tag == "pre" and marked:
            self._pre_depth += 1
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"br", "img", "hr", "meta", "link", "input", "wbr"} or not self._stack:
            return
        marked = self._stack.pop()
        if tag == "pre" and marked and self._pre_depth:
            self._pre_depth -= 1
            self.cells.append("".join(self._text))

    def handle_data(self, data: str) -> None:
        if self._pre_depth:
            self._text.append(data)


def marked_cells(page_html: str) -> list[str]:
    """The code of the page's marked cells, in page order, as the page shows it."""
    parser = _MarkedCells()
    parser.feed(page_html)
    return [html.unescape(cell).rstrip() + "\n" for cell in parser.cells]


IMPORTS_DEVICELAB = re.compile(r"^\s*(?:import|from)\s+devicelab\b", re.M)
# What a lesson page's visible code must not show: the package's instrumented step and device
# resolver in place of the course's own lines, or a private helper (a name with one leading _).
NOT_ON_A_LESSON = re.compile(
    r"StepSpec|\blap\(|resolve_device|(?<![\w.])_(?!_)[A-Za-z]\w*|\._(?!_)\w+"
)
CODE_BLOCK = re.compile(r'<div class="highlight"><pre>(.*?)</pre>', re.S)
TAG = re.compile(r"<[^>]+>")


def visible_code(page_html: str) -> str:
    """All the code a page shows (every highlighted block), as text."""
    return "\n".join(html.unescape(TAG.sub("", block)) for block in CODE_BLOCK.findall(page_html))


def lesson_code_problems(page: str, page_html: str) -> list[str]:
    """What a course lesson page's visible code shows that the course's code would not."""
    found = sorted({match.group(0) for match in NOT_ON_A_LESSON.finditer(visible_code(page_html))})
    if not found:
        return []
    return [f"{page}: its visible code shows {', '.join(found)}: show the course's own lines"]


def check_page(html_root: Path, page: str, python: str = sys.executable) -> list[str]:
    """Problems with one page's marked cells (empty: they ran and printed)."""
    path = html_root / f"{page}.html"
    if not path.is_file():
        return [f"{page}: not built ({path} is missing)"]
    page_html = path.read_text(encoding="utf-8")
    cells = marked_cells(page_html)
    if not cells:
        return [f"{page}: no cell is marked as the course's code"]
    if shown := lesson_code_problems(page, page_html):
        return shown
    script = "\n".join(cells)
    if IMPORTS_DEVICELAB.search(script):
        return [f"{page}: a course-code cell imports devicelab; the course's code runs on torch"]
    with tempfile.TemporaryDirectory(prefix="course-code-") as tmp:
        file = Path(tmp) / f"{page.replace('/', '_')}.py"
        file.write_text(script, encoding="utf-8")
        env = {**os.environ, "MPLBACKEND": "agg", "PYTHONPATH": ""}
        start = time.perf_counter()
        try:
            result = subprocess.run(
                [python, str(file)],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return [f"{page}: its course-code cells ran past {TIMEOUT_S} s"]
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        tail = "\n    ".join((result.stderr or result.stdout).strip().splitlines()[-8:])
        return [f"{page}: its {len(cells)} course-code cells failed:\n    {tail}"]
    if not result.stdout.strip():
        return [f"{page}: its course-code cells printed nothing"]
    last = result.stdout.strip().splitlines()[-1]
    print(f"course_code: {page}: {len(cells)} cells ran in {seconds:.1f} s; last line: {last}")
    return []


def devicelab_importable(python: str = sys.executable) -> bool:
    """Whether ``python`` can import devicelab (then it does not prove "torch alone")."""
    probe = subprocess.run(
        [python, "-c", "import devicelab"],
        env={**os.environ, "PYTHONPATH": ""},
        capture_output=True,
        cwd=tempfile.gettempdir(),
    )
    return probe.returncode == 0


def main(argv: list[str]) -> int:
    html_root = Path(argv[0])
    if devicelab_importable():
        print(
            "course_code: this Python can import devicelab, so it cannot show that the course's "
            "code runs with torch alone; run it in a venv with only torch, scikit-learn and "
            "matplotlib (`nox -s course_code`)"
        )
        return 1
    problems = [problem for page in COURSE_PAGES for problem in check_page(html_root, page)]
    for problem in problems:
        print(f"course_code: {problem}")
    if problems:
        return 1
    print(f"course_code: the course's code on {len(COURSE_PAGES)} pages ran with torch alone")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def _visit_code_links_block(self, node) -> None:
    """sphinx-gallery's linked code block, with the block's classes kept (``course-code``).

    sphinx-gallery 0.22 swaps each example's code block for its own node, copies the classes
    onto it, and then writes a ``<div>`` without them; this writes the same markup with them.
    """
    from sphinx_gallery._doctree_links import _sanitize_css_class

    classes = " ".join([*node.get("classes", []), f"highlight-{_sanitize_css_class(node['lang'])}"])
    self.body.append(f'<div class="{classes} notranslate"><div class="highlight"><pre>')


def setup(app) -> dict:
    """Sphinx extension: keep the ``course-code`` mark on gallery code blocks in the HTML."""
    from sphinx_gallery._doctree_links import code_links_block, depart_code_links_block_html

    app.setup_extension("sphinx_gallery.gen_gallery")
    app.add_node(
        code_links_block,
        override=True,
        html=(_visit_code_links_block, depart_code_links_block_html),
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
