"""The docs' own tools: the hand-typed-timing check and the Colab links."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

# docs/_ext is on the path through pytest's pythonpath (pyproject.toml)
from check_prose import main as check_prose_main
from check_prose import offences
from colab_links import colab_url, install_cell, notebook_path

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_hand_typed_timings_in_comments_are_found(tmp_path):
    path = write(tmp_path, "plot_x.py", '"""Title\n=====\n\nThe GPU takes 11 s here."""\n'
                 "x = 1  # about 550 us per epoch\n# the CPU is 10x faster\n")  # fmt: skip
    found = " ".join(offences(path))
    assert "'11 s'" in found and "'550 us'" in found and "'10x faster'" in found


def test_code_and_quotes_are_not_prose(tmp_path):
    path = write(tmp_path, "plot_y.py", 'TIMES = {"i9": 3.0}  # quote: the course notes, 3 s\n'
                 "print(f'{t:.1f} s')\nsleep_s = 5\n")  # fmt: skip
    assert offences(path) == []


def test_markdown_outside_code_only(tmp_path):
    text = "# Page\n\nIt took 3 seconds.\n\n```{code-cell} python3\nprint('2 ms')\n```\n\nInline `5 s` is code.\n"
    found = offences(write(tmp_path, "page.md", text))
    assert len(found) == 1 and "'3 seconds'" in found[0]


def test_the_repository_has_no_hand_typed_timings():
    assert check_prose_main([str(ROOT / "docs"), str(ROOT / "examples")]) == 0


def test_colab_links_and_install_cell():
    app = SimpleNamespace(
        config=SimpleNamespace(
            devicelab_repository="https://github.com/acme/devicelab/",
            devicelab_notebooks_branch="nb",
        )
    )
    gallery = notebook_path("auto_examples/training/plot_cpu_vs_gpu", is_gallery_page=True)
    assert gallery == "training/plot_cpu_vs_gpu.ipynb"
    assert colab_url(app, gallery) == (
        "https://colab.research.google.com/github/acme/devicelab/blob/nb/training/plot_cpu_vs_gpu.ipynb"
    )
    assert notebook_path("why_gpu_slower", is_gallery_page=False) == "docs/why_gpu_slower.ipynb"
    assert install_cell("https://github.com/acme/devicelab", "main") == (
        '%pip install "devicelab @ git+https://github.com/acme/devicelab.git@main"'
    )
