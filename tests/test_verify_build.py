"""The post-build check: a gallery page that did not really run fails."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))

from verify_build import main, page_problems  # noqa: E402

GOOD = """Title
=====

.. rst-class:: sphx-glr-script-out

 .. code-block:: none

    hello

**Total running time of the script:** (0 minutes 1.250 seconds)
"""


def layout(tmp_path: Path, rst: str) -> tuple[Path, Path]:
    gallery, html = tmp_path / "auto_examples", tmp_path / "html"
    (gallery / "python").mkdir(parents=True)
    (gallery / "python" / "plot_x.rst").write_text(rst)
    (html / "auto_examples" / "python").mkdir(parents=True)
    (html / "auto_examples" / "python" / "plot_x.html").write_text("<html></html>")
    return gallery, html


def test_a_page_that_ran_passes(tmp_path):
    gallery, html = layout(tmp_path, GOOD)
    assert page_problems(gallery / "python" / "plot_x.rst", html, gallery) == []
    assert main([str(gallery), str(html)]) == 0


def test_zero_run_time_fails(tmp_path):
    gallery, html = layout(tmp_path, GOOD.replace("1.250", "0.000"))
    assert "run time is zero" in " ".join(
        page_problems(gallery / "python" / "plot_x.rst", html, gallery)
    )


def test_no_output_fails(tmp_path):
    rst = GOOD.replace(".. rst-class:: sphx-glr-script-out", "").replace(".. code-block:: none", "")
    gallery, html = layout(tmp_path, rst)
    assert "no embedded output" in " ".join(
        page_problems(gallery / "python" / "plot_x.rst", html, gallery)
    )


def test_traceback_and_warning_in_output_fail(tmp_path):
    rst = GOOD.replace(
        "    hello", "    Traceback (most recent call last):\n    /x.py:3: UserWarning: careful"
    )
    gallery, html = layout(tmp_path, rst)
    problems = " ".join(page_problems(gallery / "python" / "plot_x.rst", html, gallery))
    assert "traceback" in problems and "unexplained warning" in problems


def test_missing_html_and_empty_gallery_fail(tmp_path):
    gallery, html = layout(tmp_path, GOOD)
    (html / "auto_examples" / "python" / "plot_x.html").unlink()
    assert main([str(gallery), str(html)]) == 1
    assert main([str(tmp_path / "nothing"), str(html)]) == 1
