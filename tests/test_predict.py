"""devicelab.predict: the operator list, the cost model's arithmetic, datasheet GPUs, and the
check that a prediction for this CPU lands near the step measured on it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from devicelab import predict as predict_module
from devicelab import zoo
from devicelab.costmodel import BOUNDS, Calibration, Curve, HostCosts, price
from devicelab.models import MLP
from devicelab.operators import OperatorCall, OperatorList, kind_of, operator_list
from devicelab.predict import check_prediction, device_calibration, predict_step
from devicelab.results import recorded_results_dir

H100_RECORD = recorded_results_dir() / "nvidia-h100-80gb-hbm3.json"


def _calibration(*, overlap: bool = False, source: str = "measured") -> Calibration:
    """Round numbers, so the model's arithmetic can be checked by hand."""
    host = HostCosts(
        per_call={(phase, kind): 1e-6 for phase in ("forward", "backward")
                  for kind in ("view", "matmul", "conv", "pool", "reduction", "loss", "elementwise")},
        module_call=0.0, backward_call=10e-6, optimizer_fixed=20e-6,
        optimizer_per_parameter=2e-6, tiny_op=1e-6,
    )  # fmt: skip
    flops = Curve("matmul", "flops", ((1e9, 1e-3),))  # 1 TFLOP/s at every size
    memory = Curve("elementwise", "bytes", ((1e9, 1e-2),))  # 100 GB/s
    curves = {"matmul": flops, "conv": flops, "conv_backward": flops, "elementwise": memory,
              "reduction": memory, "pool": memory, "pool_backward": memory}  # fmt: skip
    return Calibration(device="toy", threads=1, host=host, curves=curves, sync_s=5e-6,
                       overlap=overlap, source=source)  # fmt: skip


CALLS = OperatorList(
    (
        OperatorCall(
            name="addmm", kind="matmul", phase="forward", flops=2_000_000_000, bytes=1_000
        ),
        OperatorCall(name="t", kind="view", phase="forward", flops=0, bytes=0),
        OperatorCall(name="relu", kind="elementwise", phase="forward", flops=0, bytes=100_000_000),
        OperatorCall(name="mm", kind="matmul", phase="backward", flops=4_000_000_000, bytes=1_000),
        OperatorCall(name="add_", kind="elementwise", phase="optimizer", flops=0, bytes=1_000),
    ),
    "meta",
    module_calls=0,
    parameters=2,
)


def test_cost_model_arithmetic_on_a_cpu_by_hand():
    p = price(CALLS, _calibration(), syncs=1)
    host = 4 * 1e-6 + 10e-6 + 20e-6 + 2 * 2e-6  # four priced calls, backward, optimizer
    compute = 2e-3 + 4e-3  # 6 GFLOP at 1 TFLOP/s
    memory = (
        1e-3 + 1e-8
    )  # 100 MB at 100 GB/s, and the update's 1 kB (a product's bytes hide under its FLOPs)
    assert p.host_s == pytest.approx(host)
    assert p.terms.compute_s == pytest.approx(compute)
    assert p.device_s == pytest.approx(compute + memory, rel=1e-6)
    assert p.step_s == pytest.approx(host + compute + memory + 5e-6, rel=1e-6)  # one after another
    assert p.bound == BOUNDS[3]
    assert (p.low_s, p.high_s) == pytest.approx((p.step_s / 1.25, p.step_s * 1.25))


def test_cost_model_overlaps_host_and_device_on_a_gpu():
    p = price(CALLS, _calibration(overlap=True, source="datasheet"), syncs=1)
    assert p.step_s == pytest.approx(max(p.host_s, p.device_s) + 5e-6)
    assert p.spread.kind == "prediction" and p.high_s == pytest.approx(p.step_s * 2)


def test_curve_interpolates_on_a_log_scale_and_extends_at_its_last_rate():
    curve = Curve("matmul", "flops", ((1e3, 1e-6), (1e6, 1e-4)))
    assert curve.seconds(1e3) == pytest.approx(1e-6)
    assert curve.seconds(1e6**0.5 * 1e3**0.5) == pytest.approx((1e-6 * 1e-4) ** 0.5)
    assert curve.seconds(2e6) == pytest.approx(2e-4)
    assert curve.seconds(0) == 0.0


def test_operator_list_of_the_course_step():
    ops = operator_list(MLP(), torch.rand(120, 4), targets=torch.randint(0, 3, (120,)))
    counts = ops.counts()
    assert ops.traced_on == "meta"
    assert counts[("forward", "matmul")] == 2  # fc1 and fc2
    assert counts[("backward", "matmul")] == 3  # fc2's two gradients, fc1's weight gradient
    assert ops.flops == 2 * 120 * (4 * 10 + 10 * 3) * 3 - 2 * 120 * 4 * 10  # no grad to x
    assert ops.parameters == 4 and ops.module_calls == 4
    aten = torch.ops.aten
    assert kind_of(aten.convolution_backward.default) == "conv"
    assert kind_of(aten.view.default) == "view"  # is_view
    assert kind_of(aten.sum.dim_IntList) == "reduction"  # torch.Tag.reduction
    assert kind_of(aten.max.other) == "elementwise"  # torch.Tag.pointwise: an elementwise max
    assert kind_of(aten.max.dim) == "reduction"


#: Every operator of a LeNet-5 and a transformer layer's training steps, with the kind the
#: hand-written name lists gave it before the kinds came from torch's tags.
KNOWN_KINDS = {
    **dict.fromkeys(["addmm", "mm", "bmm"], "matmul"),
    **dict.fromkeys(["convolution", "convolution_backward"], "conv"),
    **dict.fromkeys(["max_pool2d_with_indices", "max_pool2d_with_indices_backward"], "pool"),
    **dict.fromkeys(["nll_loss_forward", "nll_loss_backward", "_log_softmax_backward_data"], "loss"),
    **dict.fromkeys(["_log_softmax", "_softmax_backward_data", "sum", "mean", "native_layer_norm",
                     "native_layer_norm_backward"], "reduction"),
    **dict.fromkeys(["view", "t", "detach", "expand", "permute", "select", "squeeze",
                     "unsqueeze", "transpose", "_unsafe_view", "_record_function_enter_new",
                     "_record_function_exit"], "view"),
    **dict.fromkeys(["add", "add_", "mul", "div", "relu", "threshold_backward", "ones_like",
                     "clone", "select_backward", "_safe_softmax"], "elementwise"),
}  # fmt: skip


@pytest.mark.parametrize("name", ["lenet5", "transformer_layer"])
def test_the_kinds_of_known_steps_are_unchanged(name):
    shape, classes = zoo.EXAMPLE_SHAPES[name]
    x, y = torch.randn(*shape), torch.randint(0, classes, (shape[0],))
    calls = operator_list(getattr(zoo, name)(), x, targets=y).calls
    assert {c.name: c.kind for c in calls} == {c.name: KNOWN_KINDS[c.name] for c in calls}


def test_bad_input_is_refused():
    x, y = torch.rand(8, 4), torch.randint(0, 3, (8,))
    with pytest.raises(ValueError, match="Known GPUs"):
        predict_step(MLP(), x, targets=y, device="GTX 480")
    with pytest.raises(ValueError, match="syncs"):
        predict_step(MLP(), x, targets=y, syncs=-1)
    with pytest.raises(ValueError, match="targets are required"):
        predict_step(MLP(), x, loss_fn=F.cross_entropy)  # no targets: inference, unless a loss
    with pytest.raises(TypeError, match="nn.Module"):
        predict_step(lambda t: t, x, targets=y)


@pytest.fixture
def toy_cpu(monkeypatch):
    """This CPU's calibration replaced by the toy one: datasheet GPUs borrow its host costs."""
    monkeypatch.setattr(predict_module, "calibrate", lambda *a, **k: _calibration())


def test_wide_mlp_on_a_datasheet_h100_is_sized_by_its_arithmetic(toy_cpu):
    model, (shape, classes) = zoo.wide_mlp(), zoo.EXAMPLE_SHAPES["wide_mlp"]
    x, y = torch.randn(*shape), torch.randint(0, classes, (shape[0],))
    p = predict_step(model, x, targets=y, device="H100 SXM")
    # 15 GFLOP at 77% of 66.9 TFLOP/s is 0.3 ms: milliseconds or less, not tens of ms
    assert p.terms.compute_s == pytest.approx(p.flops / (0.77 * 66.9e12), rel=0.01)
    assert p.step_s < 2e-3 and p.source == "datasheet"
    assert any("66.9 TFLOP/s" in a for a in p.assumptions)
    cal = device_calibration("NVIDIA GeForce RTX 3080 Ti")
    assert cal.curves["matmul"].seconds(1e12) == pytest.approx(1e12 / (0.77 * 34.1e12))
    assert cal.overlap


def test_a_recorded_gpu_is_priced_from_its_record_and_a_cpu_record_is_refused(toy_cpu):
    cal = device_calibration(H100_RECORD)
    assert cal.source == "record" and cal.sync_s == pytest.approx(8.61e-6, rel=0.01)
    from devicelab.results import load_results

    cpu_record = load_results(H100_RECORD) | {"device": "cpu"}
    with pytest.raises(ValueError, match="not a GPU"):
        device_calibration(cpu_record)


def test_a_recorded_gpu_has_its_own_host_and_a_datasheet_gpu_this_one(toy_cpu):
    """The toy CPU runs a tiny operator in 1 µs; the recorded H100's host issued one to its GPU
    in 9.13 µs. So the recorded H100's host costs are the toy's times 9.13, while a datasheet
    H100 keeps the toy's host and adds the launch (9.13 - 1 µs) per kernel."""
    recorded = device_calibration(H100_RECORD)
    datasheet_gpu = device_calibration("H100 SXM")
    toy = _calibration()
    assert recorded.host.call("forward", "matmul") == pytest.approx(9.1253e-6, rel=1e-3)
    assert recorded.host.backward_call == pytest.approx(10e-6 * 9.1253, rel=1e-3)
    assert recorded.context == toy.context
    assert datasheet_gpu.host.call("forward", "matmul") == pytest.approx(9.1253e-6, rel=1e-3)
    assert datasheet_gpu.host.call("forward", "view") == toy.host.call("forward", "view")
    assert datasheet_gpu.host.backward_call == toy.host.backward_call
    assert any("recorded machine's" in a for a in recorded.assumptions)
    assert not any("recorded machine's" in a for a in datasheet_gpu.assumptions)


@pytest.mark.slow  # calibrations of this CPU
def test_the_recorded_h100s_course_step_is_predicted_within_25_percent():
    """The course's step (Iris 4-10-3, batch 120, loss.item() every epoch) on the recorded
    H100, predicted from its record with this CPU's calibration, against the epoch the record
    measured (884 µs) in its 20,000-epoch run. A neighbour's load distorts a calibration (the
    tiny operator the host is scaled by, and each kind's cost, by different amounts), so up
    to three fresh calibrations are made: one made on a quiet moment must land within 25%."""
    from devicelab.calibration import calibrate
    from devicelab.results import load_results

    record = load_results(H100_RECORD)
    gpu_run = next(r for r in record["measurements"]["training"]["runs"] if r["device"] != "cpu")
    torch.manual_seed(0)
    model, x, y = MLP(), torch.randn(120, 4), torch.randint(0, 3, (120,))
    ratios = []
    for _ in range(3):
        calibrate("cpu", num_threads=1, max_age_s=0)  # the record's host side is priced from it
        predicted = predict_step(model, x, targets=y, device=record, syncs=1)
        ratios.append(predicted.step_s / gpu_run["epoch_time_s"])
        if 0.75 <= ratios[-1] <= 1.25:
            break
    assert 0.75 <= ratios[-1] <= 1.25, ratios


@pytest.mark.slow
@pytest.mark.parametrize("name", ["iris_mlp", "wide_mlp"])
def test_cpu_prediction_lands_within_25_percent_of_the_measured_step(name):
    """The cost model's check on two models of opposite bounds (host-bound and compute-bound),
    at one thread; check_prediction repeats itself while a busy machine disturbs it."""
    shape, classes = zoo.VALIDATION_SHAPES[name]
    torch.manual_seed(0)
    model = getattr(zoo, name)()
    x, y = torch.randn(*shape), torch.randint(0, classes, (shape[0],))
    check = check_prediction(model, x, targets=y, loss_fn=F.cross_entropy)
    assert 0.75 <= check.ratio <= 1.25, (check.ratio, check.attempts)


def test_a_disturbed_check_is_repeated_and_each_side_keeps_its_least(monkeypatch):
    """A measurement twice the prediction (a busy machine) is outside the settled band: the
    check runs again with a fresh calibration, and keeps the least measurement."""
    import devicelab.predict as predict

    cal = device_calibration(H100_RECORD)
    calls = []
    monkeypatch.setattr(
        predict,
        "calibrate",
        lambda device, num_threads, max_age_s=None: calls.append(max_age_s) or cal,
    )
    model, x, y = zoo.iris_mlp(), torch.randn(120, 4), torch.randint(0, 3, (120,))
    step_s = predict.predict_step(model, x, targets=y, device=cal).step_s
    measured = iter([2 * step_s, 2.1 * step_s, 1.05 * step_s, 1.1 * step_s])
    monkeypatch.setattr(predict, "_measure", lambda *plan: next(measured))
    check = check_prediction(model, x, targets=y)
    assert check.attempts == 2 and calls == [predict.CALIBRATION_MAX_AGE_S, 0]
    assert check.measured_s == pytest.approx(1.05 * step_s) and check.ratio == pytest.approx(
        1 / 1.05
    )


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_check_prediction_rejects_a_bad_number_of_attempts(bad):
    with pytest.raises(ValueError, match="max_attempts must be a positive integer"):
        check_prediction(
            zoo.iris_mlp(),
            torch.randn(4, 4),
            targets=torch.zeros(4, dtype=torch.long),
            max_attempts=bad,
        )


@pytest.mark.slow  # a subprocess that imports torch
def test_importing_predict_leaves_scikit_learn_unimported():
    """predict_step prices a step; only loading Iris needs scikit-learn (over a second)."""
    code = "import sys, devicelab.predict; print(sorted(m for m in sys.modules if 'sklearn' in m))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_a_prediction_prints_as_a_short_table():
    torch.manual_seed(0)
    p = predict_step(MLP(), torch.randn(120, 4), targets=torch.randint(0, 3, (120,)), device="H100")
    text = str(p)
    lines = text.splitlines()
    assert lines[0].startswith("predicted step on ") and f"{p.step_s * 1e6:.1f} µs" in lines[0]
    assert p.bound in lines[1] and "host" in lines[1] and "compute" in lines[1]
    assert len(lines) == 4 + len(p.per_op)  # one row per operator kind and phase
    assert all(c.kind in line for c, line in zip(p.per_op, lines[3:-1], strict=True))
    rows_host = sum(float(line.split()[-2]) for line in lines[3:-1]) + float(lines[-1].split()[-1])
    assert rows_host == pytest.approx(p.terms.host_s * 1e6, abs=0.1 * len(lines))  # they add up


def test_without_targets_predict_step_predicts_inference():
    """No targets: a forward pass only (no loss, no backward, no optimizer), and cheaper."""
    torch.manual_seed(0)
    model, x, y = MLP(), torch.randn(120, 4), torch.randint(0, 3, (120,))
    inference = predict_step(model, x, device="H100")
    training = predict_step(model, x, targets=y, device="H100")
    assert {c.phase for c in inference.per_op} == {"forward"}
    assert {"loss", "backward", "optimizer"} <= {c.phase for c in training.per_op}
    assert inference.step_s < training.step_s and inference.ops < training.ops


def test_an_explicit_loss_without_targets_still_says_what_is_missing():
    with pytest.raises(ValueError, match="targets are required"):
        predict_step(MLP(), torch.randn(8, 4), loss_fn=F.cross_entropy, device="H100")


def test_a_kept_calibration_older_than_max_age_is_measured_again(monkeypatch):
    """check_prediction asks for a calibration of the same minute as its measurement: one
    kept from earlier in the process is reused while young and replaced once old."""
    from devicelab import calibration

    clock = iter([100.0, 130.0, 200.0, 200.0])  # made; asked; asked and made again
    made = []
    monkeypatch.setattr(calibration.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(calibration, "_calibrate", lambda *key: made.append(key) or len(made))
    monkeypatch.setattr(calibration, "_MEASURED", {})
    first = calibration.calibrate("cpu", num_threads=1, max_age_s=60)  # made at 100
    young = calibration.calibrate("cpu", num_threads=1, max_age_s=60)  # asked at 130
    old = calibration.calibrate("cpu", num_threads=1, max_age_s=60)  # asked at 200: 100 s old
    assert (first, young, old) == (1, 1, 2) and len(made) == 2
    with pytest.raises(ValueError, match="max_age_s must be a non-negative"):
        calibration.calibrate("cpu", num_threads=1, max_age_s=-1)


def test_a_calibration_round_trips_through_the_records_layout():
    """A calibration written as a record stores its host costs under "<phase>:<kind>" keys with
    the context beside them (results schema v3), and reads back equal."""
    cal = replace(_calibration(), context=1.7)
    written = cal.to_dict()
    assert written["host_s"]["backward:matmul"] == 1e-6 and written["host_s"]["context"] == 1.7
    assert Calibration.from_dict(written) == replace(cal, source="measured")
