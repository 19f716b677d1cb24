"""The course's marked cells: found in built HTML, run with torch alone, and failing loudly."""

from __future__ import annotations

import sys
from pathlib import Path

import course_code
import lesson_path

GALLERY_PAGE = """<html><body><article>
<p>The model.</p>
<div class="course-code highlight-Python notranslate"><div class="highlight"><pre><span></span><span class="kn">import</span> <span class="nn">torch</span>
<span class="n">x</span> <span class="o">=</span> <span class="mi">2</span> <span class="o">&lt;</span> <span class="mi">3</span>
</pre></div></div>
<div class="highlight-Python notranslate"><div class="highlight"><pre>from devicelab import timing</pre></div></div>
<div class="cell tag_course-code docutils container"><div class="cell_input docutils container">
<div class="highlight-python3 notranslate"><div class="highlight"><pre>print(&quot;x is&quot;, x)
</pre></div></div></div>
<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi notranslate"><div class="highlight"><pre>x is True</pre></div></div></div></div>
</article></body></html>"""


def test_marked_cells_are_found_in_page_order_and_unescaped():
    cells = course_code.marked_cells(GALLERY_PAGE)
    assert cells == ["import torch\nx = 2 < 3\n", 'print("x is", x)\n']


def test_unmarked_code_is_left_out():
    assert not any("devicelab" in cell for cell in course_code.marked_cells(GALLERY_PAGE))


def _page(tmp_path: Path, code: str) -> Path:
    page = tmp_path / "lesson.html"
    escaped = code.replace("&", "&amp;").replace("<", "&lt;")
    page.write_text(f'<div class="course-code"><pre>{escaped}</pre></div>', encoding="utf-8")
    return tmp_path


def test_a_page_whose_cells_run_and_print_passes(tmp_path):
    root = _page(tmp_path, "print(sum([1, 2]) < 4)\n")
    assert course_code.check_page(root, "lesson", python=sys.executable) == []


def test_a_failing_cell_fails_the_page_with_its_error(tmp_path):
    root = _page(tmp_path, "print(undefined_name)\n")
    (problem,) = course_code.check_page(root, "lesson", python=sys.executable)
    assert "failed" in problem and "NameError" in problem


def test_a_cell_that_imports_devicelab_fails_the_page(tmp_path):
    root = _page(tmp_path, "from devicelab.models import MLP\nprint(MLP)\n")
    (problem,) = course_code.check_page(root, "lesson", python=sys.executable)
    assert "imports devicelab" in problem


def test_a_page_without_marked_cells_fails(tmp_path):
    (tmp_path / "lesson.html").write_text("<pre>print(1)</pre>", encoding="utf-8")
    (problem,) = course_code.check_page(tmp_path, "lesson", python=sys.executable)
    assert "no cell is marked" in problem


def test_a_python_that_can_import_devicelab_is_refused():
    # The test venv has devicelab installed: it must not count as "torch alone".
    assert course_code.devicelab_importable(sys.executable)


def test_every_course_lesson_page_is_on_the_course_part_of_the_path():
    course = [page for part, page in lesson_path.PATH if part == "course"]
    assert set(course_code.COURSE_PAGES) <= set(course)


def test_the_path_lists_each_page_once_and_neighbours_follow_it():
    assert len(lesson_path.PAGES) == len(set(lesson_path.PAGES))
    pages = lesson_path.PAGES
    for before, page, after in zip(pages, pages[1:], pages[2:], strict=False):
        assert lesson_path.neighbours(page) == (before, after)
    assert lesson_path.neighbours("auto_examples/index") == (None, None)


def test_the_path_check_reports_a_next_link_that_leaves_the_path(tmp_path):
    for page in lesson_path.PAGES:
        before, after = lesson_path.neighbours(page)
        html = tmp_path / f"{page}.html"
        html.parent.mkdir(parents=True, exist_ok=True)
        depth = "../" * page.count("/")
        links = ""
        if before:
            links += f'<a class="left-prev" href="{depth}{before}.html">p</a>'
        if after:
            target = "auto_examples/index" if page == "why_gpu_slower" else after
            links += f'<a class="right-next" href="{depth}{target}.html#top">n</a>'
        html.write_text(links, encoding="utf-8")
    problems = lesson_path.path_problems(tmp_path)
    assert problems == [
        "why_gpu_slower: right-next leads to auto_examples/index, the path says call_method"
    ]


def test_a_lesson_page_showing_the_package_step_or_a_private_helper_fails(tmp_path):
    shown = (
        '<div class="course-code"><pre>print(1)</pre></div>'
        '<div class="highlight"><pre>spec = StepSpec(model)\nrun_steps(spec, 0, 9, lap=_no_lap)'
        "</pre></div>"
    )
    (tmp_path / "lesson.html").write_text(shown, encoding="utf-8")
    (problem,) = course_code.check_page(tmp_path, "lesson", python=sys.executable)
    assert "StepSpec" in problem and "_no_lap" in problem


def test_dunder_methods_and_throwaway_names_are_not_private_helpers():
    code = '<div class="highlight"><pre>def __call__(self):\n    for _ in range(3): pass</pre>'
    assert course_code.lesson_code_problems("p", code) == []
