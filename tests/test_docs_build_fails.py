"""The docs build is a test: each kind of breakage must make it fail.

Each case builds a throw-away copy of the real Sphinx configuration (tests/sphinx_project.py)
with the same commands as ``nox -s docs``.
"""

import pytest
from sphinx_project import GOOD_EXAMPLE, GOOD_PAGE, build, make_project

pytestmark = pytest.mark.slow


def test_a_good_project_builds(tmp_path):
    result = build(make_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        tmp_path / "build" / "html" / "auto_examples" / "python" / "plot_call_method.html"
    ).is_file()


def test_an_example_that_raises_fails_the_build(tmp_path):
    example = GOOD_EXAMPLE + "\nraise RuntimeError('broken example')\n"
    result = build(make_project(tmp_path, example=example))
    assert result.returncode != 0
    assert "broken example" in result.stdout + result.stderr


def test_an_example_that_exits_early_fails_the_build(tmp_path):
    example = GOOD_EXAMPLE + "\nimport sys\nsys.exit(0)\n"
    result = build(make_project(tmp_path, example=example))
    assert result.returncode != 0
    assert "ended before it finished" in result.stderr


def test_a_failing_hidden_assertion_fails_the_build(tmp_path):
    example = GOOD_EXAMPLE + (
        "\n# sphinx_gallery_start_ignore\nassert 1 + 1 == 3, 'prose and output disagree'\n"
        "# sphinx_gallery_end_ignore\n"
    )
    result = build(make_project(tmp_path, example=example))
    assert result.returncode != 0
    assert "prose and output disagree" in result.stdout + result.stderr


def test_a_failing_notebook_cell_fails_the_build(tmp_path):
    page = GOOD_PAGE + "\n```{code-cell} python3\n1 / 0\n```\n"
    result = build(make_project(tmp_path, page=page))
    assert result.returncode != 0
    assert "ZeroDivisionError" in result.stdout + result.stderr


def test_a_broken_cross_reference_fails_the_build(tmp_path):
    page = GOOD_PAGE + "\nSee {doc}`no_such_page`.\n"
    result = build(make_project(tmp_path, page=page))
    assert result.returncode != 0
    assert "no_such_page" in result.stdout + result.stderr


CITING_MODULE = '''"""A module whose docstring cites a devicelab name that does not exist."""

import torch


def step(model: torch.nn.Module) -> None:
    """Runs :func:`devicelab.steps.no_such_step` on ``model``."""
'''


def test_a_docstring_citing_a_missing_name_fails_the_build(tmp_path):
    """conf.py's nitpicky setting: a cited name must exist, and torch's types are exempt."""
    page = GOOD_PAGE + "\n```{eval-rst}\n.. automodule:: citing\n```\n"
    project = make_project(tmp_path, page=page)
    (project / "citing.py").write_text(CITING_MODULE)  # `python -m sphinx` imports from cwd
    result = build(project)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "reference target not found: devicelab.steps.no_such_step" in output
    assert "torch.nn" not in output, "torch's types have no inventory offline: exempt"
