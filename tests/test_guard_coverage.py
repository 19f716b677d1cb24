"""Every guarded claim has a test that makes its guard fire.

A row of ``docs/claims.csv`` of kind ``guarded`` names, as its evidence, a piece of a hidden
assertion on its page. Its guard is shown to fire by a case of ``test_claim_guards.py`` (a
doctored record) or ``test_live_guards.py`` (a planted measurement) on the same page whose
guard is that assertion. A new guarded claim without such a case fails here; so does an
entry below that a case now covers (remove it).
"""

from __future__ import annotations

import csv

import test_claim_guards
import test_live_guards
from page_runner import ROOT

#: Guarded rows with no firing case yet, by (page, evidence): why, and what would fix it.
NOT_YET_FIRED: dict[tuple[str, str], str] = {}


def _firing_cases() -> list[tuple[str, str]]:
    recorded = [(page, guard) for page, guard, _ in test_claim_guards.CASES]
    live = [(page, guard) for page, guard, _, _ in test_live_guards.CASES]
    return recorded + live


def _fired(page: str, evidence: str, cases: list[tuple[str, str]]) -> bool:
    """A case on ``page`` whose guard is the evidence's assertion: one contains the other
    (a case quotes an assertion's start; a row may quote its middle, or all of it)."""
    return any(p == page and (evidence in guard or guard in evidence) for p, guard in cases)


def _guarded_rows() -> list[tuple[str, str]]:
    with (ROOT / "docs" / "claims.csv").open(encoding="utf-8", newline="") as f:
        return sorted(
            {(r["page"], r["evidence"]) for r in csv.DictReader(f) if r["kind"] == "guarded"}
        )


def test_every_guarded_claim_has_a_case_that_makes_its_guard_fire():
    cases = _firing_cases()
    missing = [
        row for row in _guarded_rows() if row not in NOT_YET_FIRED and not _fired(*row, cases)
    ]
    assert not missing, (
        "guarded claims whose guard no test makes fire: add a doctored-record case to "
        "tests/test_claim_guards.py or a planted one to tests/test_live_guards.py:\n"
        + "\n".join(f"  {page}: {evidence}" for page, evidence in missing)
    )


def test_no_known_exception_is_stale():
    cases, rows = _firing_cases(), set(_guarded_rows())
    stale = [row for row in NOT_YET_FIRED if row not in rows or _fired(*row, cases)]
    assert not stale, f"remove these from NOT_YET_FIRED (covered, or no longer guarded): {stale}"


def test_a_guarded_claim_without_a_case_is_caught():
    assert not _fired("docs/index.md", "assert a_new_guard", _firing_cases())
    assert _fired("docs/index.md", "runs.device_over_host > 1", _firing_cases())
