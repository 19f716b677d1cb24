"""The post-build check: a gallery page that did not really run fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_build import (  # docs/_ext: pytest's pythonpath (pyproject.toml)
    main,
    negative_time_problems,
    negative_times,
    page_problems,
    readable_text,
)

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


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("the curve gives -125.12 us per sync", "-125.12 us"),
        ("-0.3 s per sync", "-0.3 s"),
        ("one sync: \u22125 ms", "\u22125 ms"),  # the typographic minus sign
        ("-1e-3 s", "-1e-3 s"),
        ("-1,234.5 ns per call", "-1,234.5 ns"),
        ("-5 ms/epoch", "-5 ms"),
        ("(-125 us per sync)", "-125 us"),
        ("-0.00 us", "-0.00 us"),  # a sign that rounding kept is still printed
        ("-0.2 \u00b1 0.3 us", "-0.2 \u00b1 0.3 us"),  # a negative estimate, uncertainty or not
        ("interval (-0.4, -0.1) us", "(-0.4, -0.1) us"),  # the whole interval is negative
        ("from 5 to -3 s", "5 to -3 s"),
    ],
)
def test_a_negative_time_is_found(text, found):
    assert negative_times(text) == [found]


@pytest.mark.parametrize(
    "text",
    [
        "10-20 us per call",  # a range
        "a 3-5 s pause",
        "1e-3 s and 2.5e-05 s",  # exponents
        "+68.38 us per sync",
        "no measurable cost per sync (interval (-0.1, 0.4) us)",  # low bound may be negative
        "interval [-0.1 us, 0.4 us]",
        "interval -0.1 to 0.4 us",
        "loss -0.52 after -3 samples",  # negative, but not a time
        "ratio interval (-0.1, 0.4)",  # not a time
        "created 2026-11-27 10:00",
    ],
)
def test_ranges_intervals_and_other_minus_signs_pass(text):
    assert negative_times(text) == []


PAGE = """<html><head><title>-1 s</title><script>var t = "-2 s";</script></head><body>
<p>Prose says -1.5 ms here.</p>
<p>Inline code <code class="docutils literal"><span class="pre">sleep(-2 s)</span></code>.</p>
<div class="highlight-Python notranslate"><div class="highlight"><pre>x = -3  # -3 s</pre></div></div>
<div class="sphx-glr-script-out highlight-none notranslate"><div class="highlight"><pre>
the curve gives -125.12 us per sync</pre></div></div>
<div class="cell docutils container"><div class="cell_input docutils container">
<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>print("-4 s")</pre></div>
</div></div><div class="cell_output docutils container">
<div class="output stream highlight-myst-ansi notranslate"><div class="highlight"><pre>
took -6 ns</pre></div></div></div></div>
</body></html>"""


def test_prose_and_output_are_checked_but_code_is_not():
    assert negative_times(readable_text(PAGE)) == ["-1.5 ms", "-125.12 us", "-6 ns"]


def test_a_negative_time_on_any_page_fails_the_build(tmp_path, capsys):
    gallery, html = layout(tmp_path, GOOD)
    assert main([str(gallery), str(html)]) == 0
    (html / "results.html").write_text(PAGE)
    (html / "_modules").mkdir()
    (html / "_modules" / "source.html").write_text("<p>-9 s</p>")  # highlighted source: skipped
    problems = negative_time_problems(html)
    assert len(problems) == 3 and all(
        p.startswith("results.html: shows a negative time") for p in problems
    )
    assert main([str(gallery), str(html)]) == 1
    assert "'-125.12 us'" in capsys.readouterr().out
