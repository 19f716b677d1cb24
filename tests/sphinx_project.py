"""A throw-away copy of the real Sphinx project, to prove that a broken page breaks the build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from build_command import SPHINX_ARGS, VERIFY_ARGS  # docs/_ext: pytest's pythonpath

ROOT = Path(__file__).resolve().parents[1]

SECTIONS = ("python", "hardware", "training", "overheads")

GOOD_EXAMPLE = '''"""
A passing example
=================

Prints one line. Like every example page, it says more than it prints: code and output are at
most 60% of the text the page shows (docs/_ext/page_balance.py).
"""

print("hello from the example")
'''

INDEX = """# Throw-away site

```{toctree}
auto_examples/index
page
```
"""

GOOD_PAGE = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
---

# A page

```{code-cell} python3
1 + 1
```
"""


def make_project(tmp: Path, *, example: str = GOOD_EXAMPLE, page: str = GOOD_PAGE) -> Path:
    """Lay out the real ``conf.py`` with one example and one notebook page under ``tmp``."""
    shutil.copy(ROOT / "conf.py", tmp / "conf.py")
    shutil.copytree(ROOT / "docs" / "_ext", tmp / "docs" / "_ext")
    shutil.copytree(ROOT / "docs" / "_static", tmp / "docs" / "_static")
    shutil.copytree(ROOT / "docs" / "_inv", tmp / "docs" / "_inv")
    (tmp / "docs" / "index.md").write_text(INDEX)
    (tmp / "docs" / "page.md").write_text(page)
    (tmp / "examples").mkdir()
    (tmp / "examples" / "GALLERY_HEADER.rst").write_text("Examples\n========\n")
    for section in SECTIONS:
        folder = tmp / "examples" / section
        folder.mkdir()
        (folder / "GALLERY_HEADER.rst").write_text(f"{section}\n{'-' * len(section)}\n")
    (tmp / "examples" / "python" / "plot_call_method.py").write_text(example)
    return tmp


def build(project: Path) -> subprocess.CompletedProcess[str]:
    """Run the same two steps as ``nox -s docs``; stop at the first that fails."""
    sphinx = subprocess.run(
        [sys.executable, "-m", "sphinx", *SPHINX_ARGS],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if sphinx.returncode != 0:
        return sphinx
    return subprocess.run(
        # --site checks devicelab's own reading path, which a throw-away project does not have
        [sys.executable, *(arg for arg in VERIFY_ARGS if arg != "--site")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
