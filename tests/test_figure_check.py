"""The figure check (docs/_ext/figure_check.py): overlapping text fails, a clean figure passes.

Each planted overlap is one the issue saw on the site: two labels on one spot, a label under
the legend, a label over a data point, a legend over the data. The slow test proves that the
docs build itself fails on one.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
import pytest  # noqa: E402
from figure_check import (  # noqa: E402 - docs/_ext: pytest's pythonpath
    FigureOverlapError,
    assert_no_overlaps,
    check_example,
    checked_matplotlib_scraper,
    overlaps,
    run_example,
)


@pytest.fixture
def axes():
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.set_title("Time grows with size")
    ax.set_xlabel("size")
    ax.set_ylabel("time (ms)")
    yield fig, ax
    plt.close(fig)


def test_a_clean_figure_has_no_overlaps(axes):
    fig, ax = axes
    ax.plot([0, 1, 2, 3], [0, 1, 4, 9], "o-", label="CPU")
    ax.plot([0, 1, 2, 3], [0, 2, 3, 4], "s--", label="GPU")
    ax.annotate("fastest", xy=(3, 4), xytext=(-40, -30), textcoords="offset points")
    ax.legend(loc="upper left")
    assert overlaps(fig) == []


def test_two_texts_on_one_spot_are_reported_with_both_strings(axes):
    fig, ax = axes
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.text(5, 5, "first label")
    ax.text(5.2, 5.1, "second label")
    problems = overlaps(fig)
    assert len(problems) == 1
    assert "'first label'" in problems[0] and "'second label'" in problems[0]
    assert 'figure "Time grows with size"' in problems[0]
    assert "move one of them" in problems[0]


def test_a_text_under_a_legend_is_reported(axes):
    fig, ax = axes
    ax.plot([0, 10], [0, 10], label="a line with a long legend entry")
    ax.legend(loc="upper left")
    ax.text(0.3, 9.3, "hidden note")
    problems = overlaps(fig)
    assert any("'hidden note' is under a legend" in p for p in problems), problems


def test_a_text_over_a_data_marker_is_reported(axes):
    fig, ax = axes
    ax.plot([0, 5, 10], [0, 5, 10], "o", label="points")
    ax.text(5, 5, "on the point", ha="center", va="center")
    problems = overlaps(fig)
    assert any("'on the point' covers a marker of \"points\"" in p for p in problems), problems


def test_a_text_over_a_scatter_point_is_reported(axes):
    fig, ax = axes
    ax.scatter([1, 2, 3], [1, 2, 3])
    ax.text(2, 2, "over the dot", ha="center", va="center")
    assert any("covers a point" in p for p in overlaps(fig))


def test_a_legend_over_data_markers_is_reported(axes):
    fig, ax = axes
    ax.plot([0.2, 5, 10], [9.8, 5, 0], "o-", label="the first point hides")
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.legend(loc="upper left")
    assert any("a legend covers a marker" in p for p in overlaps(fig))


def test_crowded_tick_labels_are_reported_and_rotated_ones_measured_as_drawn(axes):
    fig, ax = axes
    names = [f"a long tick label {i}" for i in range(8)]
    ax.bar(range(8), range(8))
    ax.set_xticks(range(8), names)
    assert any("x tick label" in p for p in overlaps(fig))
    ax.set_xticks(range(8), names, rotation=45, ha="right", rotation_mode="anchor")
    assert not [p for p in overlaps(fig) if "tick label" in p]


def test_hidden_and_empty_texts_are_ignored(axes):
    fig, ax = axes
    ax.text(0.5, 0.5, "shown")
    ax.text(0.5, 0.5, "hidden").set_visible(False)
    ax.text(0.5, 0.5, "   ")
    assert overlaps(fig) == []


def test_the_scraper_raises_and_closes_the_figures(axes):
    fig, ax = axes
    ax.text(0.5, 0.5, "one")
    ax.text(0.5, 0.5, "one again")
    with pytest.raises(FigureOverlapError, match="'one again'"):
        checked_matplotlib_scraper(None, {}, {})
    assert plt.get_fignums() == []
    assert_no_overlaps()  # nothing open: nothing to report


def test_an_example_runs_cell_by_cell_in_its_folder(tmp_path):
    script = tmp_path / "plot_two_cells.py"
    script.write_text(
        '"""\nTitle\n=====\n\nText.\n"""\n\n'
        "import os\nimport matplotlib.pyplot as plt\nprint(os.path.basename(os.getcwd()))\n"
        "fig, ax = plt.subplots()\nax.text(0.5, 0.5, 'a'); ax.text(0.5, 0.5, 'b')\n\n"
        "# %%\n# Second cell.\n\nx = 40\nx + 2\n"
    )
    cells = run_example(script)
    assert [c.stdout for c in cells] == [f"{tmp_path.name}\n", ""]
    assert cells[1].repr_text == "42"
    problems = check_example(script)
    assert len(problems) == 1 and "'a'" in problems[0] and "'b'" in problems[0]


OVERLAPPING_EXAMPLE = '''"""
An example with an overlap
==========================

Its figure has two labels on one spot.
"""

import matplotlib.pyplot as plt

fig, ax = plt.subplots()
ax.set_title("A planted overlap")
ax.text(0.5, 0.5, "first label")
ax.text(0.52, 0.51, "second label")
'''


@pytest.mark.slow
def test_a_planted_overlap_fails_the_docs_build(tmp_path):
    from sphinx_project import build, make_project  # tests/: the throw-away Sphinx project

    result = build(make_project(tmp_path, example=OVERLAPPING_EXAMPLE))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "FigureOverlapError" in output
    assert "'second label'" in output


def test_a_notebook_checks_a_figure_already_shown_and_closed(axes):
    # A notebook's inline backend closes each figure after the cell that drew it, so a hidden
    # cell after it passes the figure: assert_no_overlaps([fig]).
    fig, ax = axes
    ax.text(0.5, 0.5, "shown once")
    ax.text(0.5, 0.5, "shown twice")
    plt.close(fig)
    with pytest.raises(FigureOverlapError, match="'shown twice'"):
        assert_no_overlaps([fig])
