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
from page_runner import ROOT, fired_guard, run_page_with_plant, wrapping_plant

pytestmark = pytest.mark.slow

# -- plants: each wraps the function a page measures with (page_runner.wrapping_plant); its
# opening comment says what it plants and how that contradicts the page's sentence.

FIRST_STEP_NO_SLOWER = wrapping_plant(
    "devicelab.first_step:measure_first_step",
    """
# The first step takes 1.5 warm steps: the set-up is no longer most of a short timing.
import dataclasses
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    return dataclasses.replace(got, step_times_s=[1.5 * got.warm_s, *got.step_times_s[1:]])
""",
)

FIRST_STEP_SET_UP_OUTLASTS_THE_RUN = wrapping_plant(
    "devicelab.first_step:measure_first_step",
    """
# The first step's set-up is 1,100 warm steps: more than 5% of a 20,000-epoch run.
import dataclasses
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    if str(got.device) != "cpu":
        return got
    return dataclasses.replace(got, step_times_s=[1100 * got.warm_s, *got.step_times_s[1:]])
""",
)

CALL_RUNS_NO_HOOKS_ON_FORWARD = wrapping_plant(
    "torch.nn:Linear.forward",
    """
# Calling nn.Linear.forward directly runs the layer's hooks too (calls through
# nn.Module.__call__ are left as they are): __call__ no longer does more than forward.
import os
import sys
def planted(self, input):
    if sys._getframe(1).f_code.co_filename.endswith(os.path.join("nn", "modules", "module.py")):
        return real(self, input)
    for hook in self._forward_pre_hooks.values():
        hook(self, (input,))
    out = real(self, input)
    for hook in self._forward_hooks.values():
        hook(self, (input,), out)
    return out
""",
)

UNKNOWN_GPU_GUESSED = wrapping_plant(
    "devicelab.hardware:gpu_architecture",
    """
# A compute capability the table does not know is read as a guess ("Blackwell").
def planted(major, minor):
    name = real(major, minor)
    return "Blackwell" if name.startswith("unknown") else name
""",
)

IRIS_LABELS_SHUFFLED = wrapping_plant(
    "sklearn.datasets:load_iris",
    """
# Iris with its labels shuffled (a fixed permutation): nothing to learn, so the test accuracy
# falls to chance, far under 0.9.
import numpy as np
def planted(*args, **kwargs):
    X, y = real(return_X_y=True)
    return X, np.random.default_rng(0).permutation(y)
""",
)

LOSS_BUMP_AT_EPOCH_10000 = wrapping_plant(
    "torch.nn:CrossEntropyLoss.forward",
    """
# The cross-entropy reads 1.0 higher around epoch 10,000 (calls 9,950-10,050): a constant,
# so the gradients and the training are unchanged, but the recorded loss rises once.
calls = [0]
def planted(self, input, target):
    calls[0] += 1
    loss = real(self, input, target)
    return loss + 1.0 if 9_950 <= calls[0] <= 10_050 else loss
""",
)

STEP_OF_200_OPERATORS = wrapping_plant(
    "devicelab.overheads:count_step_ops",
    """
# The profiler counts 200 top-level operators in one CPU step: not "a few dozen".
import dataclasses
def planted(*args, **kwargs):
    return dataclasses.replace(real(*args, **kwargs), operator_calls=200)
""",
)

OPERATORS_CHEAPER_THAN_AN_ADD = wrapping_plant(
    "devicelab.explain:explain_step",
    """
# The explained step has 1,000 times as many operators: each costs a thousandth of what was
# measured, less than a bare add_.
import dataclasses
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    return dataclasses.replace(got, ops=1000 * got.ops)
""",
)

ADVICE_WITHOUT_NUMBERS = wrapping_plant(
    "devicelab.advise:advise",
    """
# The advice's reasons come with their digits removed: no reason carries its number.
import dataclasses
import re
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    return dataclasses.replace(got, reasons=[re.sub(r"[0-9]", "", r) for r in got.reasons])
""",
)

PREDICTION_OFF_BY_THREE = wrapping_plant(
    "devicelab.predict:check_prediction",
    """
# Every step is measured at a third of its prediction: the prediction is off by 3x on this CPU.
import dataclasses
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    return dataclasses.replace(got, measured_s=got.predicted.step_s / 3)
""",
)

PARTS_HALF_THE_STEP = wrapping_plant(
    "devicelab.explain:explain_course_step",
    """
# The measured CPU step is twice the sum of its parts: the parts leave half of it unexplained.
import dataclasses
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    return dataclasses.replace(got, measured_s=2 * got.parts_sum_s)
""",
)

BATCHED_MODELS_DIFFER = wrapping_plant(
    "devicelab.remedies:train_remedy",
    """
# The package's batched-models remedy ends at a loss 1e-3 higher: not the page's computation.
import dataclasses
def planted(name, *args, **kwargs):
    got = real(name, *args, **kwargs)
    if name != "batched models":
        return got
    return dataclasses.replace(got, final_loss=got.final_loss + 1e-3)
""",
)


def _cpu_remedy_rows(change: str) -> str:
    """A plant that changes the live CPU comparison's rows by ``change``, Python source that
    rewrites ``rows`` (a list of frozen RemedyRow) in place; the GPU's rows are left alone.

    It also skips torch.compile, as a machine without a compiler does (the page prints why):
    compiling is most of the page's time here, and none of these guards reads its row."""
    return wrapping_plant(
        "devicelab.remedies.runs:RemedyComparison.rows",
        f"""
import devicelab.doctor
devicelab.doctor.compile_unavailable = lambda device=None: "skipped by the test's plant"
import dataclasses
def planted(self):
    rows = real(self)
    if self.device != "cpu":
        return rows
    by = {{r.name: i for i, r in enumerate(rows)}}
    def set_row(name, **fields):
        rows[by[name]] = dataclasses.replace(rows[by[name]], **fields)
{change}
    return rows
""",
    )


NO_SYNC_HELPS_MUCH = _cpu_remedy_rows("""
    # Dropping the per-epoch sync alone makes the CPU's loop 1.6 times as fast.
    set_row("no per-epoch sync", speedup=1.6, speedup_interval=(1.55, 1.65))
""")

HAND_WRITTEN_GRADIENTS_NO_FASTER = _cpu_remedy_rows("""
    # Hand-written gradients are not measurably faster: their interval reaches under 1.
    set_row("hand-written gradients", speedup=1.0, speedup_interval=(0.9, 1.1))
""")

ONE_VERSION_TRAINS_ELSEWHERE = _cpu_remedy_rows("""
    # The course loop on the CPU ends at a loss 1e-3 higher than the other versions.
    row = rows[by["course loop (item every epoch)"]]
    set_row(row.name, final_loss=row.final_loss + 1e-3)
""")

NO_LAUNCH_COST_ON_THE_CPU = wrapping_plant(
    "devicelab.predict:device_calibration",
    """
# This CPU issues an operator for free: its calibration's host costs are a billionth of what
# was measured, so the course's step is bound by memory or compute, not by launching.
import dataclasses
def planted(device, **kwargs):
    cal = real(device, **kwargs)
    if str(device) != "cpu":
        return cal
    return dataclasses.replace(cal, host=cal.host.scaled(1e-9))
""",
)

INTENSITY_TEN_TIMES = wrapping_plant(
    "devicelab.overheads:utilization_sweep",
    """
# The 4-h-3 sweeps' points on this CPU report ten times their FLOPs per byte: the intensity
# climbs past 30 instead of levelling off at a few.
class Planted:
    def __init__(self, point):
        self.point = point
    def __getattr__(self, name):
        return getattr(self.point, name)
    def to_dict(self):
        d = self.point.to_dict()
        return {**d, "intensity": 10 * d["intensity"]}
def planted(device, *args, deep=False, **kwargs):
    got = real(device, *args, deep=deep, **kwargs)
    return got if deep or "cpu" not in str(device) else [Planted(p) for p in got]
""",
)

ACCUMULATION_SLOWER = wrapping_plant(
    "devicelab.distributed:compare_data_parallel",
    """
# Gradient accumulation with no_sync() comes out at 0.8 times plain DDP's speed (all of its
# interval under 1): it hurts instead of helping.
import dataclasses
def planted(*args, **kwargs):
    got = real(*args, **kwargs)
    x = got.remedies["gradient accumulation"]
    return dataclasses.replace(
        got, remedies={**got.remedies, "gradient accumulation": x.scaled(0.8 / x.high)}
    )
""",
)

CPU_CATCHES_UP_AT_THE_WIDEST = wrapping_plant(
    "devicelab.overheads:utilization_sweep",
    """
# At the widest 4-h-3 model swept (the width sweep's last size) this CPU's step takes a hair
# longer than the recorded GPU's: the GPU still wins there, by less than at the crossover.
import devicelab.overheads as m
from devicelab.results import newest_record
gpu_s = {p.to_dict()["hidden"]: p.to_dict()["median_s"]
         for p in m.recorded_utilization_sweep(newest_record("cuda"), "width")}
class Planted:
    def __init__(self, point, seconds):
        self.point, self.seconds = point, seconds
    def __getattr__(self, name):
        return getattr(self.point, name)
    def to_dict(self):
        return {**self.point.to_dict(), "median_s": self.seconds}
def planted(device, *args, deep=False, **kwargs):
    got = real(device, *args, deep=deep, **kwargs)
    widths = {p.to_dict()["hidden"] for p in got}
    widest = max(widths)
    if deep or "cpu" not in str(device) or len(widths) == 1 or widest not in gpu_s:
        return got  # only the CPU's width sweep (the batch sweep has one width)
    return [Planted(p, gpu_s[widest] * (1 + 1e-9)) if p.to_dict()["hidden"] == widest else p
            for p in got]
""",
)

CPU_FLAT_TO_WIDTH_10000 = wrapping_plant(
    "devicelab.overheads:utilization_sweep",
    """
# This CPU's step at width 10,000 takes no longer than at the course's width 10: its curve
# does not rise earlier than the GPU's. (A doctored record cannot say this: the recorded GPU
# must stay faster than its own host there, which caps how far its curve can rise.)
class Planted:
    def __init__(self, point, seconds):
        self.point, self.seconds = point, seconds
    def __getattr__(self, name):
        return getattr(self.point, name)
    def to_dict(self):
        return {**self.point.to_dict(), "median_s": self.seconds}
def planted(device, *args, deep=False, **kwargs):
    got = real(device, *args, deep=deep, **kwargs)
    by_width = {p.to_dict()["hidden"]: p for p in got}
    if deep or "cpu" not in str(device) or not {10, 10_000} <= set(by_width):
        return got
    narrow = by_width[10].to_dict()["median_s"]
    return [Planted(p, narrow) if p is by_width[10_000] else p for p in got]
""",
)

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
    ("examples/your_model/plot_advise.py", "assert all(any(c.isdigit() for c in reason) for reason in a.reasons)", ADVICE_WITHOUT_NUMBERS, "advice_without_numbers"),
    ("examples/your_model/plot_advise.py", "assert 0.5 <= c.ratio <= 2", PREDICTION_OFF_BY_THREE, "prediction_off_by_three"),
    ("docs/why_gpu_slower.md", "assert abs(cpu_step.residual_share) <= 0.25", PARTS_HALF_THE_STEP, "parts_half_the_step"),
    ("examples/overheads/plot_remedies.py", 'assert abs(_by_bmm[0] - _package("batched models", models=32)) < 1e-6', BATCHED_MODELS_DIFFER, "batched_models_differ"),
    ("examples/overheads/plot_remedies.py", 'assert cpu_by["no per-epoch sync"].speedup < 1.5', NO_SYNC_HELPS_MUCH, "no_sync_helps_much"),
    ("examples/overheads/plot_remedies.py", 'assert cpu_by["hand-written gradients"].speedup_interval[0] > 1', HAND_WRITTEN_GRADIENTS_NO_FASTER, "hand_written_no_faster"),
    ("examples/overheads/plot_remedies.py", "assert spread < TOLERANCE", ONE_VERSION_TRAINS_ELSEWHERE, "one_version_trains_elsewhere"),
    ("examples/overheads/plot_utilization.py", 'assert all(bounds["CPU", axis][0][0] == "launch/dispatch-bound" for axis in ("width", "batch")', NO_LAUNCH_COST_ON_THE_CPU, "no_launch_cost"),
    ("examples/overheads/plot_utilization.py", "assert plateau < 4.3", INTENSITY_TEN_TIMES, "intensity_ten_times"),
    ("examples/overheads/plot_communication.py", "assert ddp.remedies[key].estimate > 1", ACCUMULATION_SLOWER, "accumulation_slower"),
    ("examples/overheads/plot_utilization.py", "assert _c[last] / _g[last] > _c[at] / _g[at]", CPU_CATCHES_UP_AT_THE_WIDEST, "cpu_catches_up_at_the_widest"),
    ("examples/overheads/plot_utilization.py", "assert _cpu_w[10_000] / _cpu_w[10] > 2 * _gpu_w[10_000] / _gpu_w[10]", CPU_FLAT_TO_WIDTH_10000, "cpu_flat_to_width_10000"),
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
        f"{page} with the plant {name} ({plant.strip().splitlines()[0]}) should stop at "
        f"`{guard}`; it stopped at {fired!r} "
        f"(exit {done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}"
    )
