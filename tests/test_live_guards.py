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

CALL_RUNS_NO_HOOKS_ON_FORWARD = """
# Calling nn.Linear.forward directly runs the layer's hooks too (calls through
# nn.Module.__call__ are left as they are): __call__ no longer does more than forward.
import os
import sys
from torch import nn
real = nn.Linear.forward
def forward(self, input):
    if sys._getframe(1).f_code.co_filename.endswith(os.path.join("nn", "modules", "module.py")):
        return real(self, input)
    for hook in self._forward_pre_hooks.values():
        hook(self, (input,))
    out = real(self, input)
    for hook in self._forward_hooks.values():
        hook(self, (input,), out)
    return out
nn.Linear.forward = forward
"""

UNKNOWN_GPU_GUESSED = """
# A compute capability the table does not know is read as a guess ("Blackwell").
import devicelab.hardware as m
real = m.gpu_architecture
def planted(major, minor):
    name = real(major, minor)
    return "Blackwell" if name.startswith("unknown") else name
m.gpu_architecture = planted
"""

IRIS_LABELS_SHUFFLED = """
# Iris with its labels shuffled (a fixed permutation): nothing to learn, so the test accuracy
# falls to chance, far under 0.9.
import numpy as np
import sklearn.datasets as m
real = m.load_iris
def planted(*args, **kwargs):
    X, y = real(return_X_y=True)
    return X, np.random.default_rng(0).permutation(y)
m.load_iris = planted
"""

LOSS_BUMP_AT_EPOCH_10000 = """
# The cross-entropy reads 1.0 higher around epoch 10,000 (calls 9,950-10,050): a constant,
# so the gradients and the training are unchanged, but the recorded loss rises once.
from torch import nn
real = nn.CrossEntropyLoss.forward
calls = [0]
def forward(self, input, target):
    calls[0] += 1
    loss = real(self, input, target)
    return loss + 1.0 if 9_950 <= calls[0] <= 10_050 else loss
nn.CrossEntropyLoss.forward = forward
"""

STEP_OF_200_OPERATORS = """
# The profiler counts 200 top-level operators in one CPU step: not "a few dozen".
import dataclasses
import devicelab.overheads as m
real = m.count_step_ops
def planted(*args, **kwargs):
    return dataclasses.replace(real(*args, **kwargs), operator_calls=200)
m.count_step_ops = planted
"""

OPERATORS_CHEAPER_THAN_AN_ADD = """
# The explained step has 1,000 times as many operators: each costs a thousandth of what was
# measured, less than a bare add_.
import dataclasses
import devicelab.explain as m
real = m.explain_step
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    return dataclasses.replace(got, ops=1000 * got.ops)
m.explain_step = planted
"""

# (page, the guard's assertion as it appears in the page, plant, how the plant contradicts it)
CASES: list[tuple[str, str, str, str]] = [
    ("examples/training/plot_first_step.py", "assert cpu.first_s > 2 * cpu.warm_s", FIRST_STEP_NO_SLOWER, "first_step_no_slower"),
    ("examples/training/plot_first_step.py", "assert share < 0.05", FIRST_STEP_SET_UP_OUTLASTS_THE_RUN, "set_up_outlasts_the_run"),
    ("examples/python/plot_call_method.py", "assert via_forward == []", CALL_RUNS_NO_HOOKS_ON_FORWARD, "forward_runs_hooks"),
    ("examples/hardware/plot_inspect_gpu.py", 'assert gpu_architecture(9, 0) == "Hopper" and gpu_architecture(13, 7) == "unknown (sm_137)"', UNKNOWN_GPU_GUESSED, "unknown_gpu_guessed"),
    ("examples/training/plot_train_on_device.py", "assert accuracy >= 0.9", IRIS_LABELS_SHUFFLED, "labels_shuffled"),
    ("examples/training/plot_train_on_device.py", "assert all(b < a for (_, a), (_, b) in zip(curve, curve[1:], strict=False))", LOSS_BUMP_AT_EPOCH_10000, "loss_bump"),
    ("examples/overheads/plot_launch_overhead.py", "assert 12 <= cpu_ops.operator_calls <= 60", STEP_OF_200_OPERATORS, "step_of_200_operators"),
    ("examples/overheads/plot_launch_overhead.py", "assert host_s / step.ops > cpu_per_op", OPERATORS_CHEAPER_THAN_AN_ADD, "operators_cheaper_than_an_add"),
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
