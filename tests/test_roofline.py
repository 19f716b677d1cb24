"""The roofline: ceilings, counted FLOPs and bytes, the step prediction and its crossover."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from devicelab.counts import (
    count_flops,
    count_step_bytes,
    mlp_step_counts,
    step_bytes,
    training_step_flops,
)
from devicelab.models import MLP, DeepMLP
from devicelab.overheads import count_step_ops, utilization_sweep
from devicelab.roofline import (
    BOUNDS,
    Ceilings,
    StepCostModel,
    binding_ceiling,
    measure_ceilings,
    peak_bytes_per_s,
    peak_flops_per_s,
    predict_crossover,
    predict_step_s,
    roofline_time_s,
    tf32_enabled,
)

# A device with round ceilings: 100 FLOP/s and 10 B/s, so the ridge is at 10 FLOP/byte.
TOY = Ceilings(device="toy", peak_flops_per_s=100.0, peak_bytes_per_s=10.0)


def course_shapes(device="meta", batch=120):
    with torch.device(device):
        torch.manual_seed(0)
        return MLP(10), torch.rand(batch, 4), torch.randint(0, 3, (batch,))


# -- ceilings ----------------------------------------------------------------------------------
def test_ridge_and_dict_round_trip():
    assert TOY.ridge_intensity == 10.0
    assert TOY.to_dict()["ridge_intensity"] == 10.0
    assert Ceilings.from_dict(TOY.to_dict()) == TOY


def test_measure_ceilings_on_cpu_small():
    ceilings = measure_ceilings("cpu", matmul_n=128, copy_bytes=2**20, min_run_time=0.01)
    assert ceilings.device == "cpu" and ceilings.dtype == "float32"
    assert ceilings.tf32 is False  # TF32 is a GPU tensor-core format
    assert ceilings.matmul_n == 128 and ceilings.copy_bytes == 2**20
    # the peaks are the counted work over the measured medians
    assert ceilings.peak_flops_per_s == pytest.approx(2 * 128**3 / ceilings.matmul.median_s)
    assert ceilings.peak_bytes_per_s == pytest.approx(2 * 2**20 / ceilings.copy.median_s)
    assert ceilings.ridge_intensity == pytest.approx(
        ceilings.peak_flops_per_s / ceilings.peak_bytes_per_s
    )
    assert Ceilings.from_dict(ceilings.to_dict()) == ceilings


def test_peak_helpers_count_read_and_write():
    flops, timing = peak_flops_per_s("cpu", n=64, min_run_time=0.01)
    assert flops == pytest.approx(2 * 64**3 / timing.median_s)
    bandwidth, timing = peak_bytes_per_s("cpu", nbytes=4096, min_run_time=0.01)
    assert bandwidth == pytest.approx(2 * 4096 / timing.median_s)  # read + written


class _NewPrecisionAPI:
    """torch.backends.cuda.matmul once fp32_precision was set: the legacy flag raises."""

    def __init__(self, precision: str):
        self.fp32_precision = precision

    @property
    def allow_tf32(self):
        raise RuntimeError("mixing the legacy allow_tf32 flag and fp32_precision")


@pytest.mark.parametrize(
    ("matmul", "expected"),
    [(SimpleNamespace(allow_tf32=True), True), (SimpleNamespace(allow_tf32=False), False),
     (SimpleNamespace(allow_tf32=1), True),  # a truthy flag is reported as a bool
     (_NewPrecisionAPI("tf32"), True), (_NewPrecisionAPI("ieee"), False)],
)  # fmt: skip
def test_tf32_flag_follows_torchs_setting(monkeypatch, matmul, expected):
    monkeypatch.setattr(torch.backends.cuda, "matmul", matmul)
    assert tf32_enabled() is expected


@pytest.mark.parametrize("kwargs", [{"matmul_n": 0}, {"copy_bytes": -1}])
def test_measure_ceilings_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="must be positive"):
        measure_ceilings("cpu", min_run_time=0.01, **kwargs)


@pytest.mark.parametrize(("flops", "bandwidth"), [(0.0, 1.0), (1.0, -1.0), (float("nan"), 1.0)])
def test_ceilings_must_be_positive(flops, bandwidth):
    with pytest.raises(ValueError, match="must be positive"):
        Ceilings(device="x", peak_flops_per_s=flops, peak_bytes_per_s=bandwidth)


# -- counting ----------------------------------------------------------------------------------
def test_training_step_flops_by_hand_and_against_flop_counter_mode():
    model, x, y = course_shapes()
    # forward: 2*120*(4*10 + 10*3); backward: fc2's input and weight gradients (2*120*10*3
    # each) and fc1's weight gradient (2*120*4*10); the input needs no gradient
    by_hand = 2 * 120 * (4 * 10 + 10 * 3) + 2 * (2 * 120 * 10 * 3) + 2 * 120 * 4 * 10
    assert training_step_flops(model, x, y) == by_hand == 40_800
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    assert training_step_flops(model, x, y) == counter.get_total_flops()
    assert count_flops(lambda: model(x)) == 2 * 120 * (4 * 10 + 10 * 3)


def test_counting_leaves_no_gradients():
    model, x, y = course_shapes("cpu")
    training_step_flops(model, x, y)
    count_step_bytes(model, x, y)
    assert all(p.grad is None for p in model.parameters())


def test_inference_only_counts():
    model, x, y = course_shapes()
    assert training_step_flops(model, x) == 2 * 120 * (4 * 10 + 10 * 3)
    assert training_step_flops(model, x, y, loss_fn=None) == training_step_flops(model, x)
    counted = count_step_bytes(model, x)
    params = (4 * 10 + 10 + 10 * 3 + 3) * 4
    assert counted.to_dict() == {"inputs_read": 120 * 4 * 4, "parameters_read": params,
                                 "saved_written": 120 * 3 * 4, "saved_read": 0,
                                 "gradients_written": 0,
                                 "total": 120 * 4 * 4 + params + 120 * 3 * 4}  # fmt: skip


def test_step_bytes_by_hand():
    model, x, y = course_shapes()
    counted = count_step_bytes(model, x, y)
    params = (4 * 10 + 10 + 10 * 3 + 3) * 4  # 332 bytes of float32
    inputs, targets = 120 * 4 * 4, 120 * 8  # float32 features, int64 labels
    relu_out, log_probs = 120 * 10 * 4, 120 * 3 * 4
    total_weight = 4  # the float32 scalar nll_loss keeps for its backward
    assert counted.inputs_read == inputs + targets
    assert counted.parameters_read == counted.gradients_written == params
    # saved by the forward: ReLU's output (for ReLU and fc2's weight gradient, once) and the
    # log-probabilities (for softmax and nll_loss, once)
    assert counted.saved_written == relu_out + log_probs + total_weight
    # read by the backward: those, plus the inputs (fc1's weight gradient), fc2's weight (the
    # gradient passed to the ReLU) and the targets
    fc2_weight = 10 * 3 * 4
    assert counted.saved_read == counted.saved_written + inputs + fc2_weight + targets
    assert step_bytes(model, x, y) == counted.total == 19_032


def test_real_tensors_count_like_meta():
    meta = course_shapes("meta")
    real = course_shapes("cpu")
    assert count_step_bytes(*real) == count_step_bytes(*meta)
    assert training_step_flops(*real) == training_step_flops(*meta)


def test_mlp_step_counts_and_intensity():
    counts = mlp_step_counts(10, 120)
    assert (counts.flops, counts.bytes_moved) == (40_800, 19_032)
    assert counts.intensity == pytest.approx(40_800 / 19_032)
    # 4-h-3: 7 multiply-adds per hidden activation, which must be stored and read back, so
    # the intensity levels off at a few FLOP/byte however wide or long the batch ...
    wide = [mlp_step_counts(h, b).intensity for h in (10, 1_000, 100_000) for b in (120, 10**6)]
    assert max(wide) < 4.3
    # ... while the hidden-to-hidden layer's grows with the width
    deep = [mlp_step_counts(h, 1024, deep=True).intensity for h in (10, 100, 1_000, 10_000)]
    assert deep == sorted(deep) and deep[-1] > 100 * max(wide)


@pytest.mark.parametrize(("hidden", "batch"), [(0, 8), (10, -1)])
def test_mlp_step_counts_bad_sizes(hidden, batch):
    with pytest.raises(ValueError, match="must be positive"):
        mlp_step_counts(hidden, batch)


# -- the deep model ----------------------------------------------------------------------------
def test_deep_mlp_shapes():
    model = DeepMLP(16)
    assert [tuple(p.shape) for p in model.parameters()] == [(16, 4), (16,), (16, 16), (16,),
                                                            (3, 16), (3,)]  # fmt: skip
    assert model(torch.rand(5, 4)).shape == (5, 3)
    assert DeepMLP(8, in_features=6, out_features=2)(torch.rand(2, 6)).shape == (2, 2)
    with pytest.raises(ValueError, match="hidden must be a positive layer width"):
        DeepMLP(0)


def test_deep_sweep_and_op_count():
    points = utilization_sweep("cpu", hiddens=[8], batches=[16], min_run_time=0.01, deep=True)
    (point,) = points
    assert point.model == "DeepMLP"
    counts = mlp_step_counts(8, 16, deep=True)
    assert (point.flops, point.bytes_moved) == (counts.flops, counts.bytes_moved)
    assert point.intensity == pytest.approx(counts.intensity)
    assert point.to_dict()["intensity"] == pytest.approx(counts.intensity)
    ops = count_step_ops("cpu", hidden=8, deep=True)
    assert ops.operators["aten::linear"] == 3
    assert ops.operator_calls > count_step_ops("cpu", hidden=8).operator_calls


# -- the roofline and the prediction -----------------------------------------------------------
def test_roofline_time():
    assert roofline_time_s(1_000, 50, TOY) == 10.0  # compute: 1,000 / 100 > 50 / 10
    assert roofline_time_s(100, 500, TOY) == 50.0  # bandwidth: 500 / 10 > 100 / 100
    assert roofline_time_s(0, 0, TOY) == 0.0


def test_predict_step_s():
    common = {"flops": 1_000, "bytes_moved": 50, "ceilings": TOY}  # device time 10 s
    assert predict_step_s(ops=5, per_op_s=1.0, **common) == 10.0  # the device hides the host
    assert predict_step_s(ops=50, per_op_s=1.0, **common) == 50.0  # the host binds
    assert predict_step_s(ops=5, per_op_s=1.0, syncs=2, sync_s=0.5, **common) == 11.0
    assert predict_step_s(ops=5, per_op_s=1.0, overlap=False, **common) == 15.0


def test_binding_ceiling_names():
    assert BOUNDS == ("launch floor", "bandwidth", "compute")
    assert binding_ceiling(flops=1_000, bytes_moved=50, ceilings=TOY, host_s=1) == "compute"
    assert binding_ceiling(flops=100, bytes_moved=500, ceilings=TOY, host_s=1) == "bandwidth"
    assert binding_ceiling(flops=100, bytes_moved=50, ceilings=TOY, host_s=60) == "launch floor"


def test_step_cost_model():
    gpu = StepCostModel(device="gpu", ceilings=TOY, ops=20, per_op_s=1.0)
    assert gpu.host_s == 20.0
    assert gpu.step_s(1_000, 50) == 20.0 and gpu.bound(1_000, 50) == "launch floor"
    assert gpu.step_s(10_000, 50) == 100.0 and gpu.bound(10_000, 50) == "compute"
    unmeasured = StepCostModel(
        device="gpu", ceilings=None, ops=20, per_op_s=1.0, syncs=1, sync_s=2.0
    )
    assert unmeasured.step_s(10**9, 10**9) == 22.0  # the host's part alone
    assert unmeasured.bound(10**9, 10**9) is None


def test_predict_crossover_by_hand():
    # CPU: no launch cost to speak of, ceilings 10x lower than the GPU's, dispatch in series.
    # GPU: a 10 s launch floor. Work of 0, 100, 1,000 and 10,000 FLOPs at 10 FLOP/byte.
    cpu = StepCostModel(
        device="cpu",
        ceilings=Ceilings(device="cpu", peak_flops_per_s=10.0, peak_bytes_per_s=1.0),
        ops=1,
        per_op_s=1.0,
        overlap=False,
    )
    gpu = StepCostModel(device="gpu", ceilings=TOY, ops=10, per_op_s=1.0)
    sizes, flops = [1, 2, 3, 4], [0, 100, 1_000, 10_000]
    prediction = predict_crossover(sizes, flops, [f / 10 for f in flops], cpu=cpu, gpu=gpu)
    assert prediction.cpu_s == [1.0, 11.0, 101.0, 1_001.0]
    assert prediction.gpu_s == [10.0, 10.0, 10.0, 100.0]
    assert prediction.crossover == 2
    assert prediction.ratio_to(4) == 0.5
    assert prediction.ratio_to(None) is None


def test_gpu_that_never_wins():
    cpu = StepCostModel(device="cpu", ceilings=TOY, ops=1, per_op_s=1.0, overlap=False)
    gpu = StepCostModel(device="gpu", ceilings=TOY, ops=100, per_op_s=1.0)
    prediction = predict_crossover([1, 2], [1, 2], [1, 2], cpu=cpu, gpu=gpu)
    assert prediction.crossover is None and prediction.ratio_to(1) is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: roofline_time_s(-1, 0, TOY),
        lambda: predict_step_s(ops=-1, per_op_s=1, flops=1, bytes_moved=1, ceilings=TOY),
        lambda: binding_ceiling(flops=1, bytes_moved=-1, ceilings=TOY, host_s=0),
        lambda: StepCostModel(device="cpu", ceilings=TOY, ops=1, per_op_s=-1e-6),
    ],
)
def test_negative_inputs_raise(call):
    with pytest.raises(ValueError, match="must be zero or more"):
        call()


def test_predict_crossover_bad_sweeps():
    model = StepCostModel(device="cpu", ceilings=TOY, ops=1, per_op_s=1.0)
    with pytest.raises(ValueError, match="non-empty and of equal length"):
        predict_crossover([], [], [], cpu=model, gpu=model)
    with pytest.raises(ValueError, match="got 2, 1 and 2"):
        predict_crossover([1, 2], [1], [1, 2], cpu=model, gpu=model)
