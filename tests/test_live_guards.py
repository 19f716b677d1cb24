"""Guards shown to fire on live measurements: each page's hidden assertions on what it measures
on this machine stop the page when the measurement says otherwise.

Each case runs one page in a fresh process after a *plant*: a few lines of Python that patch
the devicelab (or library) function the page measures with, so that the page receives a
measurement that makes one sentence false. The page's own source, folder and environment are
untouched (``page_runner.run_page_with_plant``). The page must stop at that sentence's guard,
not at another, and not pass; the docs build runs the same page unplanted, which is the other
half of the proof. Slow: each case runs a page (15-90 s).
"""

from __future__ import annotations

import pytest
from page_runner import ROOT, fired_guard, run_page_with_plant

pytestmark = pytest.mark.slow

# -- plants: each is Python source run before the page; its docstring-like comment says how it
# contradicts the page's sentence.

FIRST_STEP_NO_SLOWER = """
# The first step takes 1.5 warm steps: the set-up is no longer most of a short timing.
import dataclasses
import devicelab.first_step as m
real = m.measure_first_step
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    return dataclasses.replace(got, step_times_s=[1.5 * got.warm_s, *got.step_times_s[1:]])
m.measure_first_step = planted
"""

FIRST_STEP_SET_UP_OUTLASTS_THE_RUN = """
# The first step's set-up is 1,100 warm steps: more than 5% of a 20,000-epoch run.
import dataclasses
import devicelab.first_step as m
real = m.measure_first_step
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    if str(got.device) != "cpu":
        return got
    return dataclasses.replace(got, step_times_s=[1100 * got.warm_s, *got.step_times_s[1:]])
m.measure_first_step = planted
"""

# (page, the guard's assertion as it appears in the page, plant, how the plant contradicts it)
CASES: list[tuple[str, str, str, str]] = [
    ("examples/training/plot_first_step.py", "assert cpu.first_s > 2 * cpu.warm_s", FIRST_STEP_NO_SLOWER, "first_step_no_slower"),
    ("examples/training/plot_first_step.py", "assert share < 0.05", FIRST_STEP_SET_UP_OUTLASTS_THE_RUN, "set_up_outlasts_the_run"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("page", "guard", "plant", "name"),
    CASES,
    ids=[f"{p.split('/')[-1]}:{n}" for p, _, _, n in CASES],
)
def test_the_guard_fires_when_the_measurement_contradicts_its_sentence(
    page, guard, plant, name, tmp_path
):
    source = (ROOT / page).read_text(encoding="utf-8")
    assert guard in source, f"{page} no longer has the guard {guard!r}: update this case"
    done = run_page_with_plant(page, plant, tmp_path)
    fired = fired_guard(done)
    assert fired is not None and fired.startswith(guard), (
        f"{page} with the plant {name} should stop at `{guard}`; it stopped at {fired!r} "
        f"(exit {done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}"
    )
