"""The claim register (docs/claims.csv, docs/_ext/claims.py): every comparative sentence of the
site's prose is registered as printed, guarded or no-data, and each row points at real code."""

from __future__ import annotations

from pathlib import Path

import pytest
from claims import candidates, problems, read_register  # docs/_ext: pytest's pythonpath

HEADER = "page,sentence,kind,evidence\n"

EXAMPLE = '''"""
A planted page
==============

What you will learn: nothing.
"""

# %%
# Timing
# ------
# The loop runs {claim}
x = 1

# sphinx_gallery_start_ignore
assert x == 1, x
# sphinx_gallery_end_ignore
print(f"x is {{x}}")
'''


def site(tmp_path: Path, claim: str, rows: str = "") -> tuple[Path, Path]:
    page = tmp_path / "examples" / "planted" / "plot_planted.py"
    page.parent.mkdir(parents=True)
    page.write_text(EXAMPLE.format(claim=claim), encoding="utf-8")
    (tmp_path / "docs").mkdir()
    register = tmp_path / "docs" / "claims.csv"
    register.write_text(HEADER + rows, encoding="utf-8")
    return tmp_path, register


def test_the_site_registers_every_comparative_sentence():
    assert problems() == []


def test_a_planted_comparative_sentence_with_no_row_fails(tmp_path):
    root, register = site(tmp_path, "twice as fast on the GPU as on the CPU.")
    found = problems(root, register)
    assert len(found) == 1 and "unregistered comparative sentence" in found[0], found
    assert "twice as fast on the GPU" in found[0] and "plot_planted.py" in found[0]


def test_a_sentence_without_comparison_needs_no_row(tmp_path):
    root, register = site(tmp_path, "one epoch at a time.")
    assert candidates(root / "examples" / "planted" / "plot_planted.py") == []
    assert problems(root, register) == []


PAGE = "examples/planted/plot_planted.py"


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        (f"{PAGE},twice as fast,guarded,assert x == 1\n", None),
        (f"{PAGE},twice as fast,printed,x is {{x}}\n", None),
        (f"{PAGE},twice as fast,guarded,assert x == 2\n", "no hidden assertion contains"),
        # the guard must be hidden: the visible print is not a guard
        (f"{PAGE},twice as fast,guarded,print(f\n", "no hidden assertion contains"),
        (f"{PAGE},twice as fast,printed,print(speedup)\n", "no code contains"),
        (f"{PAGE},three times as fast,no-data,a mechanism\n", "matches 0 candidate"),
        ("examples/gone/plot_gone.py,fast,no-data,why\n", "which is not a page"),
    ],
)
def test_each_row_points_at_one_sentence_and_at_real_code(tmp_path, row, complaint):
    root, register = site(tmp_path, "twice as fast on the GPU as on the CPU.", row)
    found = problems(root, register)
    if complaint is None:
        assert found == []
    else:
        assert any(complaint in p for p in found), found


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"{PAGE},twice as fast,obvious,why\n", "kind 'obvious' is not one of"),
        (f"{PAGE},twice as fast,guarded,\n", "all required"),
    ],
)
def test_a_malformed_row_names_its_line(tmp_path, row, message):
    _, register = site(tmp_path, "twice as fast.", row)
    with pytest.raises(ValueError, match=message) as caught:
        read_register(register)
    assert "claims.csv:2" in str(caught.value)
